import Foundation
import NIOConcurrencyHelpers

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `accord serve` as a child process on a fixed port, killed and restarted at will.
final class ServerProcess: @unchecked Sendable {
    let conninfo: String
    let port = 20_000 + Int.random(in: 0..<5000)
    let environment: [String: String]
    /// Options after the database and port (`--no-scheduler` unless given others).
    let options: [String]
    /// Where the server's output goes (nowhere unless given).
    let log: URL?
    private let process = NIOLockedValueBox<Process?>(nil)
    /// Requests straight to this instance.
    let client: APIClient

    /// This process's environment without the connection variables, with the tests' audit key (testAuditKey).
    static var testEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && $0.key != "DATABASE_URL" }
        environment["ACCORD_AUDIT_KEY"] = Data("accord test audit key, 32+ bytes long".utf8).base64EncodedString()
        return environment
    }

    init(conninfo: String, environment: [String: String]? = nil, options: [String] = ["--no-scheduler"], log: URL? = nil) throws {
        self.conninfo = conninfo
        self.options = options
        self.log = log
        self.environment = environment ?? Self.testEnvironment
        client = APIClient(base: "http://127.0.0.1:\(port)", timeout: 10)
    }

    var base: String { client.base }

    /// Starts the server and waits until /healthz answers.
    func start() async throws {
        let child = Process()
        child.executableURL = try accordBinary()
        child.arguments = ["serve", "--database", conninfo, "--port", String(port)] + options
        child.environment = environment
        if let log {
            if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            child.standardOutput = handle
            child.standardError = handle
        } else {
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
        }
        try child.run()
        process.withLockedValue { $0 = child }
        for _ in 0..<200 {
            if await get("/healthz") == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIError("the server did not start on port \(port)")
    }

    func kill9() {
        guard let child = process.withLockedValue({ $0 }) else { return }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
    }

    /// SIGTERM, then waits (without blocking a thread) for the graceful shutdown to finish; the exit status.
    func gracefulStop() async -> Int32 {
        guard let child = process.withLockedValue({ $0 }), child.isRunning else { return 0 }
        child.terminate()
        while child.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return child.terminationStatus
    }

    /// Whether the child runs.
    var isRunning: Bool { process.withLockedValue { $0 }?.isRunning == true }

    func stop() {
        guard let child = process.withLockedValue({ $0 }), child.isRunning else { return }
        child.terminate()
        for _ in 0..<50 where child.isRunning { usleep(100_000) }
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
    }

    /// The status of a GET, or nil when no answer came (refused, reset).
    func get(_ path: String, token: String? = nil) async -> Int? {
        await client.send("GET", path, token: token).status
    }

    /// The status of a JSON POST with a bearer token and an Idempotency-Key, or nil when no answer came.
    func post(_ path: String, token: String, key: String, body: String) async -> Int? {
        await client.send("POST", path, token: token, key: key, body: body).status
    }
}

/// HTTP to an instance or to the balancer in front of several: the status (nil: no answer), the instance
/// that answered (`X-Accord-Instance`, set by the balancer) and the body.
struct APIClient: Sendable {
    let base: String
    private let session: URLSession

    init(base: String, timeout: TimeInterval) {
        self.base = base
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 16
        session = URLSession(configuration: configuration)
    }

    /// One request; a JSON body when given, a bearer token and an `Idempotency-Key` when given.
    func send(
        _ method: String,
        _ path: String,
        token: String? = nil,
        key: String? = nil,
        body: String? = nil
    ) async -> (status: Int?, instance: String?, body: String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let key { request.setValue(key, forHTTPHeaderField: "Idempotency-Key") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        guard let (data, response) = try? await session.data(for: request), let http = response as? HTTPURLResponse else {
            return (nil, nil, "")
        }
        return (http.statusCode, http.value(forHTTPHeaderField: "X-Accord-Instance"), String(decoding: data, as: UTF8.self))
    }
}
