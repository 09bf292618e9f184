import AccordCore
import CZlib
import Crypto
public import Foundation

/// Why a ZIP file cannot be written or read as an evidence pack.
public struct PackZipError: Error, CustomStringConvertible {
    /// What is wrong, in one sentence for the operator (`verify-pack` prints it as a problem).
    public var description: String
    /// Creates an error with its sentence.
    public init(_ description: String) { self.description = description }
}

/// A ZIP writer for evidence packs: entries stored (not compressed: evidence is mostly PDFs and
/// spreadsheets, already compressed), streamed in chunks, so memory stays flat whatever the size. Each
/// local header is written first and patched with the CRC-32 and sizes once the data is through.
/// The layout is exact (no data descriptors, extra fields or comments), so `PackZipReader` can insist
/// on it and catch one changed byte anywhere. Without ZIP64, a pack holds at most 4 GiB.
public final class PackZipWriter {
    struct Entry {
        var name: [UInt8]
        var offset: UInt64
        var crc: UInt32
        /// The entry's size in bytes (stored, so compressed and uncompressed alike).
        public var size: UInt64
    }

    private let handle: FileHandle
    private var offset: UInt64 = 0
    private var entries: [Entry] = []
    private let dosTime: UInt16, dosDate: UInt16

    /// Creates (or empties) the file at `path`; every entry gets `time` as its modification time, in UTC.
    public init(path: String, time: Date) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw PackZipError("cannot create '\(path)'")
        }
        self.handle = handle
        (dosTime, dosDate) = dosDateTime(time)
    }

    /// Writes one entry from chunks the producer hands over; returns its size and SHA-256.
    @discardableResult
    public func add(_ name: String, _ produce: ((([UInt8]) throws -> Void)) async throws -> Void) async throws -> (size: UInt64, sha256: String) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count < 0xFFFF else { throw PackZipError("bad entry name '\(name)'") }
        let start = offset
        try write(localHeader(name: nameBytes, crc: 0, size: 0))
        var crc = crc32(0, nil, 0)
        var size: UInt64 = 0
        var hasher = SHA256()
        try await produce { chunk in
            crc = chunk.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            hasher.update(data: chunk)
            size += UInt64(chunk.count)
            try self.write(chunk)
        }
        guard offset < UInt64(UInt32.max) - (1 << 24) else {
            throw PackZipError("the pack passes 4 GiB, which needs ZIP64; export fewer programs or less evidence at once")
        }
        let end = offset
        try handle.seek(toOffset: start)
        try handle.write(contentsOf: localHeader(name: nameBytes, crc: UInt32(crc), size: UInt32(size)))
        try handle.seek(toOffset: end)
        entries.append(Entry(name: nameBytes, offset: start, crc: UInt32(crc), size: size))
        return (size, hexString(Array(hasher.finalize())))
    }

    /// Writes one entry from bytes in memory.
    @discardableResult
    public func add(_ name: String, bytes: [UInt8]) async throws -> (size: UInt64, sha256: String) {
        try await add(name) { emit in try emit(bytes) }
    }

    /// The central directory and its end record; closes the file.
    public func finish() throws {
        let directoryStart = offset
        for entry in entries { try write(centralHeader(entry)) }
        let directorySize = offset - directoryStart
        var end = LittleEndian()
        end.u32(0x0605_4b50)
        end.u16(0)
        end.u16(0)
        end.u16(UInt16(entries.count))
        end.u16(UInt16(entries.count))
        end.u32(UInt32(directorySize))
        end.u32(UInt32(directoryStart))
        end.u16(0)
        try write(end.bytes)
        try handle.close()
    }

    private func write(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: bytes)
        offset += UInt64(bytes.count)
    }

    private func localHeader(name: [UInt8], crc: UInt32, size: UInt32) -> [UInt8] {
        var h = LittleEndian()
        h.u32(0x0403_4b50)
        h.u16(20)
        h.u16(packZipFlags)
        h.u16(0)
        h.u16(dosTime)
        h.u16(dosDate)
        h.u32(crc)
        h.u32(size)
        h.u32(size)
        h.u16(UInt16(name.count))
        h.u16(0)
        return h.bytes + name
    }

    private func centralHeader(_ entry: Entry) -> [UInt8] {
        var h = LittleEndian()
        h.u32(0x0201_4b50)
        h.u16(0x031E)
        h.u16(20)
        h.u16(packZipFlags)
        h.u16(0)
        h.u16(dosTime)
        h.u16(dosDate)
        h.u32(entry.crc)
        h.u32(UInt32(entry.size))
        h.u32(UInt32(entry.size))
        h.u16(UInt16(entry.name.count))
        h.u16(0)
        h.u16(0)
        h.u16(0)
        h.u16(0)
        h.u32(0o100644 << 16)
        h.u32(UInt32(entry.offset))
        return h.bytes + entry.name
    }
}

/// General-purpose flags: bit 11, names are UTF-8.
let packZipFlags: UInt16 = 1 << 11

/// A strict reader for what `PackZipWriter` writes: every local header must agree with its central
/// directory record field by field, entries must follow each other with no gap, and the end record must
/// account for every byte. Anything else is refused with the place it differs.
public final class PackZipReader {
    /// One entry of the central directory.
    public struct Entry {
        /// The entry's path inside the ZIP, e.g. `audit/program.jsonl`.
        public var name: String
        var dataOffset: UInt64
        /// The entry's size in bytes.
        public var size: UInt64
        var crc: UInt32
    }

    /// The entries, in the order of the central directory (which is the order they were written).
    public let entries: [Entry]
    private let handle: FileHandle
    /// The size of the whole ZIP file in bytes.
    public let fileSize: UInt64

    /// Opens the file and checks its whole structure (end record, central directory, every local header)
    /// before any entry is read; throws `PackZipError` saying where it differs from what the writer makes.
    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PackZipError("cannot open '\(path)'") }
        self.handle = handle
        fileSize = try handle.seekToEnd()
        guard fileSize >= 22 else { throw PackZipError("not a ZIP file: too short") }
        let end = try Self.read(handle, at: fileSize - 22, count: 22)
        guard end.u32(0) == 0x0605_4b50 else {
            throw PackZipError("not an evidence pack: no ZIP end record where it must be (a comment or trailing bytes?)")
        }
        guard end.u16(4) == 0, end.u16(6) == 0, end.u16(8) == end.u16(10), end.u16(20) == 0 else {
            throw PackZipError("the ZIP end record has fields an evidence pack never has (disks or a comment)")
        }
        let count = Int(end.u16(10))
        let directorySize = UInt64(end.u32(12))
        let directoryStart = UInt64(end.u32(16))
        guard directoryStart + directorySize == fileSize - 22 else {
            throw PackZipError("the ZIP end record does not account for the central directory's place")
        }
        let directory = try Self.read(handle, at: directoryStart, count: Int(directorySize))
        var entries: [Entry] = []
        var position = 0
        var expectedOffset: UInt64 = 0
        for index in 0..<count {
            guard position + 46 <= directory.count, directory.u32(position) == 0x0201_4b50 else {
                throw PackZipError("central directory record \(index + 1) is damaged")
            }
            let flags = directory.u16(position + 8)
            let method = directory.u16(position + 10)
            let time = directory.u16(position + 12)
            let date = directory.u16(position + 14)
            let crc = directory.u32(position + 16)
            let compressed = directory.u32(position + 20)
            let size = directory.u32(position + 24)
            let nameLength = Int(directory.u16(position + 28))
            let extra = directory.u16(position + 30)
            let comment = directory.u16(position + 32)
            let offset = UInt64(directory.u32(position + 42))
            guard directory.u16(position + 4) == 0x031E, directory.u16(position + 6) == 20, flags == packZipFlags, method == 0, compressed == size,
                extra == 0, comment == 0,
                directory.u16(position + 34) == 0, directory.u16(position + 36) == 0, directory.u32(position + 38) == 0o100644 << 16,
                position + 46 + nameLength <= directory.count
            else {
                throw PackZipError("central directory record \(index + 1) has fields an evidence pack never has")
            }
            let nameBytes = Array(directory.bytes[(position + 46)..<(position + 46 + nameLength)])
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw PackZipError("entry \(index + 1)'s name is not UTF-8") }
            guard offset == expectedOffset else { throw PackZipError("'\(name)' is not where the previous entry ends: bytes were added or removed") }
            let local = try Self.read(handle, at: offset, count: 30 + nameLength)
            guard local.u32(0) == 0x0403_4b50, local.u16(4) == 20, local.u16(6) == flags, local.u16(8) == method, local.u16(10) == time,
                local.u16(12) == date,
                local.u32(14) == crc, local.u32(18) == compressed, local.u32(22) == size, Int(local.u16(26)) == nameLength, local.u16(28) == 0,
                Array(local.bytes[30...]) == nameBytes
            else {
                throw PackZipError("the local header of '\(name)' differs from its central directory record")
            }
            let dataOffset = offset + 30 + UInt64(nameLength)
            entries.append(Entry(name: name, dataOffset: dataOffset, size: UInt64(size), crc: crc))
            expectedOffset = dataOffset + UInt64(size)
            position += 46 + nameLength
        }
        guard position == directory.count else { throw PackZipError("the central directory has bytes after its last record") }
        guard expectedOffset == directoryStart else { throw PackZipError("there are bytes between the last entry and the central directory") }
        self.entries = entries
    }

    /// Streams an entry's bytes in chunks; checks its CRC-32 at the end. Returns its SHA-256.
    public func stream(_ entry: Entry, _ body: ([UInt8]) throws -> Void = { _ in }) throws -> String {
        var hasher = SHA256()
        var crc = crc32(0, nil, 0)
        var remaining = entry.size
        var position = entry.dataOffset
        while remaining > 0 {
            let count = Int(min(remaining, 1 << 20))
            let chunk = try Self.read(handle, at: position, count: count).bytes
            crc = chunk.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            hasher.update(data: chunk)
            try body(chunk)
            remaining -= UInt64(count)
            position += UInt64(count)
        }
        guard UInt32(crc) == entry.crc else { throw PackZipError("'\(entry.name)' does not match its CRC-32: its bytes changed") }
        return hexString(Array(hasher.finalize()))
    }

    /// An entry's bytes, for the small JSON files (at most `limit`).
    public func bytes(_ entry: Entry, limit: UInt64 = 512 << 20) throws -> [UInt8] {
        guard entry.size <= limit else { throw PackZipError("'\(entry.name)' is larger than a pack's metadata can be") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.size))
        _ = try stream(entry) { out += $0 }
        return out
    }

    /// Closes the file; the reader must not be used afterwards.
    public func close() { try? handle.close() }

    private static func read(_ handle: FileHandle, at offset: UInt64, count: Int) throws -> LittleEndianReader {
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw PackZipError("the file ends early: it was cut") }
        return LittleEndianReader(bytes: Array(data))
    }
}

struct LittleEndian {
    var bytes: [UInt8] = []
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
    mutating func u32(_ value: UInt32) { bytes += (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}

struct LittleEndianReader {
    var bytes: [UInt8]
    var count: Int { bytes.count }
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
}

/// MS-DOS time and date fields, in UTC.
func dosDateTime(_ date: Date) -> (UInt16, UInt16) {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
    let day = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
    return (time, day)
}
