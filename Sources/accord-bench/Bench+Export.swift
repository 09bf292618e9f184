import AccordStore
import ArgumentParser
import Foundation

extension Bench {
    // MARK: - Export

    /// Peak RSS of `accord export` for programs holding different amounts of evidence.
    func exportFigures(_ store: Store, url: String) async throws -> [Figure] {
        var figures: [Figure] = []
        var first: Double?
        for (n, mib) in exportMiB.sorted().enumerated() {
            let slug = "export-\(n + 1)"
            say("export: seeding \(mib) MiB of evidence…")
            _ = try await store.startProgram(workflow: "estate", version: nil, title: "Export \(n + 1)", slug: slug, startsOn: nil, actor: "admin")
            let tasks = try await store.tasks(TaskFilter(program: slug), actor: "admin")
            let chunk = 16 << 20
            var left = mib << 20
            var index = 0
            var bytes = [UInt8](repeating: 0, count: chunk)
            while left > 0 {
                let size = min(chunk, left)
                for i in stride(from: 0, to: size, by: 8) {
                    withUnsafeBytes(of: UInt64.random(in: 0...UInt64.max)) { raw in for j in 0..<min(8, size - i) { bytes[i + j] = raw[j] } }
                }
                _ = try await store.addEvidence(
                    to: tasks[index % tasks.count].ref,
                    fileName: "e\(index).bin",
                    bytes: Array(bytes.prefix(size)),
                    title: "Evidence \(index)",
                    actor: "admin"
                )
                left -= size
                index += 1
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-\(slug).zip").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let (peak, seconds) = try peakRSS(accord, ["export", slug, "-o", file, "--database", url, "--as", "admin"])
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            first = first ?? peak
            figures.append(
                Figure(
                    name: "export of \(mib) MiB of evidence: peak RSS",
                    value: peak,
                    unit: "MiB",
                    baseline: first,
                    baselineName: "the \(exportMiB.min() ?? 0) MiB export",
                    note: String(format: "pack %.0f MiB in %.1f s", Double(size) / 1_048_576, seconds)
                )
            )
        }
        return figures
    }

    /// Runs a command to its end; returns its peak resident memory (MiB) and wall time.
    func peakRSS(_ executable: String, _ arguments: [String]) throws -> (Double, Double) {
        let start = DispatchTime.now()
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { throw ValidationError("could not run \(executable)") }
        // The child's own high-water mark, read from /proc while it runs: the rusage of a child started
        // with posix_spawn (vfork) also counts the parent's memory at the moment it was spawned.
        var status: Int32 = 0
        var peak = 0
        while true {
            peak = max(peak, highWaterMark(pid))
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            guard done == 0 else { throw ValidationError("waiting for \(executable) failed") }
            usleep(20_000)
        }
        guard status == 0 else { throw ValidationError("\(executable) \(arguments.first ?? "") failed (status \(status))") }
        return (Double(peak) / 1024, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }

    /// A process's peak resident memory so far (VmHWM), in KiB.
    func highWaterMark(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
