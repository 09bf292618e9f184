public import AccordCore
public import Foundation

/// Where the audit key comes from: `ACCORD_AUDIT_KEY` (64 hex digits, or base64 of 32 bytes or more),
/// else `ACCORD_HOME/audit.key`, created with 32 random bytes on first use and readable by its owner only.
public enum AuditKeyFile {
    /// Loads (or first creates) the key.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment, home: URL) throws -> AuditKey {
        if let text = environment["ACCORD_AUDIT_KEY"], !text.isEmpty {
            guard let bytes = decode(text), bytes.count >= 32 else {
                throw AccordError(.invalid, "ACCORD_AUDIT_KEY must be at least 32 bytes, written as hex or base64")
            }
            return AuditKey(bytes: bytes)
        }
        let path = home.appendingPathComponent("audit.key").path
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // O_EXCL: when two processes start at once, one creates the key and the other reads it.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let text = Data(bytes).base64EncodedString() + "\n"
            let written = text.withCString { write(fd, $0, strlen($0)) }
            fsync(fd)
            close(fd)
            guard written == text.utf8.count else { throw AccordError(.invalid, "cannot write the audit key to \(path)") }
            return AuditKey(bytes: bytes)
        }
        guard errno == EEXIST else {
            throw AccordError(.invalid, "cannot create the audit key \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            throw AccordError(.invalid, "the audit key \(path) is readable by others; make it private with: chmod 600 \(path)")
        }
        for _ in 0..<50 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let bytes = decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32
            {
                return AuditKey(bytes: bytes)
            }
            usleep(20_000)  // being written by another process
        }
        throw AccordError(.invalid, "the audit key \(path) is not 32 or more bytes of base64; restore it from your backup")
    }

    /// A key as written in a key file or `ACCORD_AUDIT_KEY`: 64 hex digits or base64 of 32 bytes or more.
    public static func parse(_ text: String) -> AuditKey? { AuditKey(text: text) }

    static func decode(_ text: String) -> [UInt8]? {
        if text.count == 64, let bytes = hexBytes(text.lowercased()) { return bytes }
        return Data(base64Encoded: text).map { Array($0) }
    }
}
