import CLibPQ
import Foundation

/// Process-wide memory settings for programs that move large values through libpq.
public enum PostgresMemory {
    /// Keeps large, short-lived buffers (libpq results of evidence slices, big pages of rows) from
    /// accumulating: every allocation of 256 KiB or more is a mapping of its own, returned to the system
    /// when freed, and malloc keeps one arena per core instead of up to eight per core. Without this an
    /// export's peak memory grew with the evidence exported, because each of the pool's threads kept its
    /// own heap of freed slices (make bench: 126 MiB at 64 MiB of evidence, 332 MiB at 1 GiB; with it,
    /// 88 / 104 / 104 MiB at 16 / 256 / 1,024 MiB). Call once, early, before threads start.
    public static func configure() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }
}
