public import Foundation

/// A real SMTP server for a test: `Tests/mail/smtp_server.py` on aiosmtpd (Debian's python3-aiosmtpd),
/// on a free loopback port, keeping what it accepts in a private mailbox folder.
public final class SMTPTestServer: @unchecked Sendable {
    /// One accepted message, as the server saw it.
    public struct Message: Sendable {
        /// The envelope sender.
        public var from: String
        /// The envelope recipients.
        public var to: [String]
        /// The whole message: headers, blank line, body.
        public var data: String
        /// Whether it arrived under TLS (STARTTLS or implicit).
        public var tls: Bool
        /// The AUTH user, when the client logged in.
        public var authUser: String?

        /// A header's value (the first of that name), unfolded.
        public func header(_ name: String) -> String? {
            let head = data.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").first ?? ""
            let unfolded = head.replacingOccurrences(of: "\n ", with: " ").replacingOccurrences(of: "\n\t", with: " ")
            for line in unfolded.split(separator: "\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
                return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }

        /// The text of the body with quoted-printable soft breaks and escapes undone (enough to search it).
        public var decodedBody: String {
            let utf8 = Array(data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "=\n", with: "").utf8)
            var bytes: [UInt8] = []
            var i = 0
            while i < utf8.count {
                if utf8[i] == UInt8(ascii: "="), i + 2 < utf8.count,
                    let value = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
                {
                    bytes.append(value)
                    i += 3
                } else {
                    bytes.append(utf8[i])
                    i += 1
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The port it listens on.
    public let port: Int
    /// The folder of its mailbox and certificate.
    public let folder: URL
    private let process: Process

    /// Starts a server; `arguments` are the script's options (`--auth u:p`, `--tempfail a@b:1`, `--require-starttls`…).
    /// With `tls`, a self-signed certificate for 127.0.0.1 is made first (`certificate` is its path, to trust).
    public init(arguments: [String] = [], tls: Bool = false, folder existing: URL? = nil) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        folder = existing ?? URL(fileURLWithPath: "/tmp/accord-smtp-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var options = ["--mailbox", folder.path] + arguments
        if tls {
            let make = Process()
            make.executableURL = URL(fileURLWithPath: "/bin/sh")
            make.arguments = [root.appendingPathComponent("Tests/mail/make_cert.sh").path, folder.path]
            try make.run()
            Self.wait(for: make.processIdentifier)
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("key.pem").path) else {
                throw SMTPTestServerError("make_cert.sh failed")
            }
            options += ["--cert", folder.appendingPathComponent("cert.pem").path, "--key", folder.appendingPathComponent("key.pem").path]
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [root.appendingPathComponent("Tests/mail/smtp_server.py").path] + options
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // The first line says where it listens.
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, words[0] == "ready", let port = Int(words[1]) else {
            process.terminate()
            throw SMTPTestServerError("the SMTP server did not start (is python3-aiosmtpd installed?)")
        }
        self.port = port
    }

    /// The certificate to trust, when started with `tls`.
    public var certificate: String { folder.appendingPathComponent("cert.pem").path }

    /// Everything accepted so far, oldest first.
    public func received() -> [Message] {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("received.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Message(
                from: object["mail_from"] as? String ?? "",
                to: object["rcpt_tos"] as? [String] ?? [],
                data: object["data"] as? String ?? "",
                tls: object["tls"] as? Bool ?? false,
                authUser: object["auth_user"] as? String
            )
        }
    }

    /// Stops the server (the mailbox stays until `remove`).
    public func stop() {
        let pid = process.processIdentifier
        guard pid > 0, kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        if !Self.wait(for: pid, seconds: 3) {
            kill(pid, SIGKILL)
            _ = Self.wait(for: pid)
        }
    }

    /// Waits for a child to end, reaping it: `Process.waitUntilExit` spins a run loop off the main thread,
    /// and `isRunning` may lag behind.
    @discardableResult
    static func wait(for pid: pid_t, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped == -1 && errno == ECHILD) || kill(pid, 0) != 0 { return true }
            usleep(20_000)
        }
        return false
    }

    /// Stops the server and removes its folder.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}

/// Why the test SMTP server could not start.
public struct SMTPTestServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
