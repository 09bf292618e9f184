public import Foundation

/// A real OpenID provider for a test: `Tests/sso/oidc_provider.py`, built on Authlib's server (Debian's
/// python3-authlib and python3-flask), on a free loopback port. Its test controls (`rotate`, `tamper`)
/// make it rotate its keys or issue one wrong ID token on purpose.
public final class OIDCTestProvider: @unchecked Sendable {
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    public let issuer: String
    private let process: Process

    /// Starts a provider with clients (`ID:SECRET:REDIRECT_URI`) and users (`SUB:USERNAME:PASSWORD:EMAIL[:GROUP,GROUP]`).
    public init(clients: [String], users: [String]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments =
            [root.appendingPathComponent("Tests/sso/oidc_provider.py").path] + clients.flatMap { ["--client", $0] }
            + users.flatMap { ["--user", $0] }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, words[0] == "ready", let port = Int(words[1]) else {
            process.terminate()
            throw SMTPTestServerError("the OpenID provider did not start (are python3-authlib and python3-flask installed?)")
        }
        issuer = "http://127.0.0.1:\(port)"
    }

    /// Stops the provider.
    public func stop() {
        let pid = process.processIdentifier
        guard pid > 0, kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        if !SMTPTestServer.wait(for: pid, seconds: 3) {
            kill(pid, SIGKILL)
            _ = SMTPTestServer.wait(for: pid)
        }
    }

    deinit { stop() }
}
