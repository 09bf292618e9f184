import AccordStore
import Foundation

extension Bench {
    // MARK: - HTTP

    func findWRK() -> String? {
        ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Serves the bench database with `accord serve` and drives it with wrk: /healthz as the HTTP ceiling,
    /// sign-offs with bearer tokens against the engine's own figure (goal 70 %), an inbox's latency, and the server's memory.
    func httpFigures(_ store: Store, url: String, wrk: String, tasks: [[Int64]], raw: Double?) async throws -> [Figure] {
        let (server, base) = try await serve(url)
        defer { stop(server) }
        let idleRSS = rss(server.processIdentifier)
        var tokens: [String] = []
        for n in 1...tasks.count {
            tokens.append(
                try await store.createToken(for: "signer\(n)", name: "bench", expires: nil, actor: "signer\(n)", proof: .password(benchPassword)).1
            )
        }
        let threads = 2
        let perSigner = min(tasks.map(\.count).min() ?? 0, Int(seconds * 400 / Double(max(1, tasks.count))) + 200)
        let lua = """
            local T = \(threads)
            local tokens = {\(tokens.map { "\"\($0)\"" }.joined(separator: ","))}
            local tasks = {\(tasks.map { "{" + $0.prefix(perSigner).map(String.init).joined(separator: ",") + "}" }.joined(separator: ","))}
            local body = '{"password":"\(benchPassword)","meaning":"approval"}'
            local created = 0
            function setup(thread) thread:set("tid", created); created = created + 1 end
            local counter = 0
            function request()
              local owned = math.floor((#tokens - tid - 1) / T) + 1
              local s = tid + (counter % owned) * T + 1
              local i = math.floor(counter / owned) + 1
              counter = counter + 1
              if i > #tasks[s] then i = #tasks[s] end
              return wrk.format("POST", "/api/v1/tasks/" .. tasks[s][i] .. "/sign",
                {["Authorization"] = "Bearer " .. tokens[s], ["Content-Type"] = "application/json"}, body)
            end
            """
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-\(getpid()).lua")
        try lua.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let duration = "\(Int(seconds))s"
        let healthz = try runWRK(wrk, ["-t\(threads)", "-c\(connections)", "-d\(duration)", base + "/healthz"])
        let signs = try runWRK(wrk, ["-t\(threads)", "-c\(connections)", "-d\(duration)", "-s", script.path, base])
        let loadRSS = rss(server.processIdentifier)
        var figures = [
            Figure(
                name: "HTTP /healthz, \(connections) connections",
                value: healthz.rate,
                unit: "requests/s",
                baseline: nil,
                baselineName: nil,
                note: "the HTTP ceiling"
            ),
            Figure(
                name: "sign-off over HTTP, \(connections) connections",
                value: signs.rate,
                unit: "sign-offs/s",
                baseline: raw,
                baselineName: "the engine's sign-off, \(connections) signer(s)",
                note: "\(signs.errors) non-2xx; \(String(format: "%.1f%%", signs.rate / max(healthz.rate, 1) * 100)) of /healthz"
            ),
        ]
        figures.append(
            Figure(
                name: "server RSS idle, then after load",
                value: Double(idleRSS) / 1024,
                unit: "MiB",
                baseline: nil,
                baselineName: nil,
                note: String(format: "%.1f MiB after the sign-offs", Double(loadRSS) / 1024)
            )
        )
        return figures
    }

    /// Starts `accord serve` on the bench database and waits until it answers.
    func serve(_ url: String) async throws -> (Process, String) {
        let port = 18_000 + Int.random(in: 0..<2000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: accord)
        server.arguments = ["serve", "--database", url, "--port", String(port), "--no-scheduler", "--max-connections", "40"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<100 where (try? Data(contentsOf: URL(string: base + "/healthz")!)) == nil { try await Task.sleep(for: .milliseconds(100)) }
        return (server, base)
    }

    /// Stops a server: requests still running would hold a graceful shutdown, so 3 s, then SIGKILL.
    func stop(_ server: Process) {
        server.terminate()
        for _ in 0..<30 where server.isRunning { usleep(100_000) }
        if server.isRunning { kill(server.processIdentifier, SIGKILL) }
    }

    /// The persona's reads over HTTP at the largest estate, `readConnections` at once, against /healthz.
    func readFigures(_ store: Store, url: String, wrk: String, tasks: Int) async throws -> [Figure] {
        let (server, base) = try await serve(url)
        defer { stop(server) }
        let token = try await store.createToken(for: "persona", name: "bench", expires: nil, actor: "persona", proof: .password(benchPassword)).1
        let duration = "\(Int(seconds))s"
        let c = readConnections
        func get(_ path: String) throws -> WRKResult {
            try runWRK(wrk, ["-t2", "-c\(c)", "-d\(duration)", "--timeout", "5s", "--latency", "-H", "Authorization: Bearer \(token)", base + path])
        }
        let healthz = try runWRK(wrk, ["-t2", "-c\(c)", "-d\(duration)", "--latency", base + "/healthz"])
        let idle = rss(server.processIdentifier)
        var figures = [
            Figure(
                name: "HTTP /healthz, \(c) connections",
                value: healthz.rate,
                unit: "requests/s",
                baseline: nil,
                baselineName: nil,
                note: "p50 \(healthz.p50 ?? "?"), p99 \(healthz.p99 ?? "?")"
            )
        ]
        for (name, path) in [
            ("inbox", "/api/v1/inbox"), ("task list of one program", "/api/v1/tasks?program=\(Estate.listed)"),
            ("leadership report", "/api/v1/leadership"),
        ] {
            let result = try get(path)
            figures.append(
                Figure(
                    name: "\(name) over HTTP, \(tasks / 1000)k tasks, \(c) conn.",
                    value: result.rate,
                    unit: "requests/s",
                    baseline: healthz.rate,
                    baselineName: "/healthz",
                    note: "p50 \(result.p50 ?? "?"), p99 \(result.p99 ?? "?"); \(result.errors) non-2xx"
                )
            )
        }
        figures.append(
            Figure(
                name: "server RSS before, after the reads",
                value: Double(idle) / 1024,
                unit: "MiB",
                baseline: nil,
                baselineName: nil,
                note: String(format: "%.1f MiB after", Double(rss(server.processIdentifier)) / 1024)
            )
        )
        return figures
    }

    struct WRKResult {
        var rate: Double
        var errors: Int
        var p50: String?
        var p99: String?
    }

    func runWRK(_ wrk: String, _ arguments: [String]) throws -> WRKResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func value(after label: String) -> String? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }
                .map { $0.trimmingCharacters(in: .whitespaces).dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
        }
        return WRKResult(
            rate: Double(value(after: "Requests/sec:") ?? "") ?? 0,
            errors: Int(value(after: "Non-2xx or 3xx responses:") ?? "") ?? 0,
            p50: value(after: "50%"),
            p99: value(after: "99%")
        )
    }

    /// A process's resident memory in KiB, from /proc.
    func rss(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
