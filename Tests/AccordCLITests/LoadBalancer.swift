import Foundation
import NIOConcurrencyHelpers

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HAProxy (Debian's `haproxy`) in front of several `accord serve` instances, as the production recipe in
/// docs/database.md sets it up: round-robin, no sticky sessions, health checks on `/readyz`, a new
/// server-side connection per request, and retries on another instance where a retry cannot do a thing
/// twice — a connection that could not be made (nothing was sent), and, for GET, HEAD and requests that
/// carry an `Idempotency-Key`, an answer that never came. Each answer names its instance in
/// `X-Accord-Instance`, and the log (one line per request: instance, status, method, path, HAProxy's termination state, time, user agent)
/// is what the test counts.
final class LoadBalancer: @unchecked Sendable {
    static var executable: String? {
        ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let port = 25_000 + Int.random(in: 0..<5000)
    let folder: URL
    private let process = Process()

    /// Starts HAProxy on a free port in front of `backends` (name, port) and waits until it answers.
    init(backends: [(name: String, port: Int)]) async throws {
        guard let haproxy = Self.executable else { throw CLIError("haproxy is not installed (make test installs Debian's haproxy)") }
        folder = URL(fileURLWithPath: "/tmp/accord-lb-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let servers = backends.map {
            "    server \($0.name) 127.0.0.1:\($0.port) check inter 300ms fall 2 rise 2"
        }.joined(separator: "\n")
        let configuration = """
            global
                maxconn 2000
                log stdout format raw local0
            defaults
                mode http
                log global
                log-format "%s %ST %HM %HP %tsc %Ta %[capture.req.hdr(0)]"
                timeout connect 2s
                timeout client 30s
                timeout http-keep-alive 30s
                timeout server 30s
                timeout http-request 10s
                # A health check waits as long as /readyz may (its own 2 s limit on the database): under load a
                # check that gives up sooner takes every instance out at once.
                timeout check 2500ms
                option forwardfor
                option http-server-close
                option httpchk GET /readyz
                http-check expect status 200
                retries 3
                option redispatch 1
            frontend accord
                bind 127.0.0.1:\(port)
                http-request capture req.hdr(User-Agent) len 60
                http-response set-header X-Accord-Instance %s
                use_backend retried if METH_GET || METH_HEAD || { req.hdr(Idempotency-Key) -m found }
                default_backend once
            backend once
                balance roundrobin
                retry-on conn-failure
            \(servers)
            backend retried
                balance roundrobin
                # A retry must resend the body: wait for the whole request before choosing an instance.
                option http-buffer-request
                retry-on conn-failure empty-response junk-response response-timeout
            \(servers)

            """
        let file = folder.appendingPathComponent("haproxy.cfg")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: haproxy)
        process.arguments = ["-db", "-f", file.path]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let session = URLSession(configuration: .ephemeral)
        for _ in 0..<100 {
            if let (_, response) = try? await session.data(from: URL(string: "\(base)/healthz")!), (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw CLIError("haproxy did not start on port \(port): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var log: URL { folder.appendingPathComponent("haproxy.log") }

    /// One logged request.
    struct Entry {
        var instance: String, status: Int, method: String, path: String, termination: String, userAgent: String
    }

    /// The requests logged so far (health checks are not logged).
    func entries() -> [Entry] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
            guard words.count == 7, let status = Int(words[1]) else { return nil }
            return Entry(instance: words[0], status: status, method: words[2], path: words[3], termination: words[4], userAgent: words[6])
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
