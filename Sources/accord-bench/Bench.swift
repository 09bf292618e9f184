import AccordCore
import AccordStore
import ArgumentParser
import Crypto
import Foundation
import HummingbirdBcrypt
import Postgres

/// `accord-bench`: measures Accord against the same machine's raw PostgreSQL and SHA-256, in one run,
/// and prints each figure beside its baseline and as a ratio. `make bench` builds it in release mode
/// and gives it a throwaway cluster.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-bench",
        abstract: "Accord's benchmark: engine figures against raw baselines of the same run."
    )

    @Option(help: "A libpq conninfo or URL of a database the benchmark may fill (default: ACCORD_BENCH_DATABASE_URL).")
    var database: String?
    @Option(parsing: .upToNextOption, help: "Concurrent signers to measure.")
    var signers: [Int] = [1, 8, 32]
    @Option(help: "Seconds each throughput figure runs.")
    var seconds: Double = 5
    @Option(help: "Entries of the audit chain to verify.")
    var chainEntries: Int = 1_000_000
    @Option(help: "Where the JSON results go.")
    var output = "bench/results.json"
    @Option(help: "The accord binary to serve HTTP with (for the HTTP figures).")
    var accord = ".build/release/accord"
    @Option(help: "HTTP connections for the HTTP sign-off figure.")
    var connections = 32
    @Option(help: "HTTP connections for the HTTP read figures.")
    var readConnections = 64
    @Option(
        parsing: .upToNextOption,
        help: "Estate sizes, in tasks, to measure latencies at (100 tasks per program); the HTTP reads run at the largest."
    )
    var scale: [Int] = [10_000, 100_000, 1_000_000]
    @Option(
        name: .customLong("export-mib"),
        parsing: .upToNextOption,
        help: "Evidence sizes, in MiB, of the programs exported for the export's peak RSS."
    )
    var exportMiB: [Int] = [64, 1024]

    func run() async throws {
        guard let url = database ?? ProcessInfo.processInfo.environment["ACCORD_BENCH_DATABASE_URL"] else {
            throw ValidationError("give --database or ACCORD_BENCH_DATABASE_URL (make bench starts a throwaway cluster)")
        }
        var figures: [Figure] = []
        let maxSigners = signers.max() ?? 1
        let opened = try await Store.open(.url(url), migrate: true, maxConnections: maxSigners + 4)
        // Bench people get bcrypt cost 4 so the password re-check (measured apart below) does not drown the engine's own cost.
        let store = Store(pool: opened.pool, location: .url(url), auditKey: AuditKey(bytes: Array(repeating: 7, count: 32)), passwordCost: 4)
        // The baseline runs as the login role, on its own pool, in the public schema.
        let rawPool = PostgresPool(configuration: .init(conninfo: DatabaseLocation.url(url).conninfo, maxConnections: maxSigners))
        say("seeding…")
        let tasks = try await seedSignOffs(store, raw: rawPool, signers: maxSigners, tasksPerSigner: Int(seconds * 600) + 100)
        say("measuring…")

        let bcryptMs = measureBcrypt(cost: defaultPasswordCost)
        figures.append(
            Figure(
                name: "bcrypt verify, cost \(defaultPasswordCost)",
                value: 1000 / bcryptMs,
                unit: "verifies/s per core",
                baseline: nil,
                baselineName: nil,
                note: "the password re-check each signature asks for: \(String(format: "%.0f", bcryptMs)) ms of one core"
            )
        )
        for count in signers {
            let raw = try await rawApprovals(rawPool, concurrency: count, seconds: seconds)
            try await reopen(store)
            let engine = try await engineSignOffs(store, tasks: tasks, concurrency: count, seconds: seconds)
            figures.append(
                Figure(
                    name: "sign-off through the engine, \(count) signer(s)",
                    value: engine,
                    unit: "sign-offs/s",
                    baseline: raw,
                    baselineName: "raw approval transaction, \(count) client(s)",
                    note: "bench users' bcrypt cost 4"
                )
            )
        }
        let wrk = findWRK()
        let canServe = FileManager.default.isExecutableFile(atPath: accord)
        if canServe, let wrk {
            try await reopen(store)
            figures += try await httpFigures(
                store,
                url: url,
                wrk: wrk,
                tasks: tasks,
                raw: figures.first { $0.name.hasPrefix("sign-off through the engine, 32") }?.baseline
            )
        } else {
            say("HTTP figures skipped: needs \(accord) and wrk (Debian package 'wrk')")
        }

        // The estate, grown in steps; latencies at each size against the smallest.
        try await startEstate(store)
        var points: [ScalePoint] = []
        for size in scale.sorted() {
            say("estate: \(size) tasks…")
            try await growEstate(store, to: max(1, size / Estate.tasksPerProgram))
            points.append(try await scalePoint(store, tasks: size))
        }
        figures += scaleFigures(points)
        if canServe, let wrk, let largest = points.last {
            figures += try await readFigures(store, url: url, wrk: wrk, tasks: largest.tasks)
        }
        if canServe {
            figures += try await exportFigures(store, url: url)
        }

        let (verifyRate, shaRate) = try await auditVerify(store, entries: chainEntries)
        figures.append(
            Figure(
                name: "audit verify, \(chainEntries) entries",
                value: verifyRate,
                unit: "entries/s",
                baseline: shaRate,
                baselineName: "raw SHA-256 over the same bytes",
                note: nil
            )
        )

        printTable(figures)
        try write(figures)
        try await rawPool.close()
        try await opened.close()
    }

    // MARK: - Seeding

    /// A workflow of sign-off tasks, programs of them, all in review, and `signers` board members who may sign any.
    func seedSignOffs(_ store: Store, raw: PostgresPool, signers: Int, tasksPerSigner: Int) async throws -> [[Int64]] {
        let taskCount = 50
        let yaml = """
            id: bench
            version: 1
            title: Benchmark
            roles:
              lead: {title: Lead, manager: true}
              owner: {title: Owner}
              board: {title: Board, leadership: true}
            steps:
              - key: s
                title: Sign-offs
                tasks:
            """ + (1...taskCount).map { "\n      - {key: t\($0), title: Task \($0), owner: owner, approval: {signers: [board]}}" }.joined() + "\n"
        guard
            try await store.pool.withConnection({ try await $0.query("SELECT count(*) AS n FROM accord.person").firstRow?.decode(Int.self, "n") ?? 0 }
            ) == 0
        else {
            throw ValidationError("the benchmark fills its own database; give it an empty one (make bench starts a throwaway cluster)")
        }
        _ = try await store.addPerson(handle: "admin", name: "Admin", email: nil, admin: true, password: nil, actor: nil)
        _ = try await store.loadWorkflow(yaml: yaml, file: "bench.yaml", actor: "admin")
        _ = try await store.addPerson(handle: "owner", name: "Owner", email: nil, admin: false, password: nil, actor: "admin")
        for n in 1...signers {
            _ = try await store.addPerson(
                handle: "signer\(n)",
                name: "Signer \(n)",
                email: nil,
                admin: false,
                password: benchPassword,
                actor: "admin"
            )
        }
        // One program through the engine; the others copied from it in SQL (seeding is not what is measured).
        let programs = (signers * tasksPerSigner + taskCount - 1) / taskCount
        _ = try await store.startProgram(workflow: "bench", version: nil, title: "Bench 1", slug: "bench-1", startsOn: nil, actor: "admin")
        _ = try await store.bindRole(program: "bench-1", role: "owner", handles: ["owner"], actor: "admin")
        _ = try await store.bindRole(program: "bench-1", role: "board", handles: (1...signers).map { "signer\($0)" }, actor: "admin")
        if programs > 1 {
            try await raw.withTransaction { connection in
                try await connection.execute(
                    """
                    INSERT INTO accord.program (slug, title, workflow_id, workflow_version, starts_on, created_by)
                    SELECT 'bench-' || g, 'Bench ' || g, f.workflow_id, f.workflow_version, f.starts_on, f.created_by
                    FROM accord.program f CROSS JOIN generate_series(2, $1::int) g WHERE f.slug = 'bench-1'
                    """,
                    [programs]
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.audit_chain (chain) SELECT 'program:' || slug FROM accord.program WHERE workflow_id = 'bench' AND slug <> 'bench-1'
                    """
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.role_binding (program_id, role, person_id, bound_by)
                    SELECT p.id, b.role, b.person_id, b.bound_by FROM accord.role_binding b JOIN accord.program f ON f.id = b.program_id AND f.slug = 'bench-1'
                    CROSS JOIN accord.program p WHERE p.workflow_id = 'bench' AND p.slug <> 'bench-1'
                    """
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.task (program_id, step_key, template_key, position, title, owner_role, state, due_on)
                    SELECT p.id, t.step_key, t.template_key, t.position, t.title, t.owner_role, t.state, t.due_on
                    FROM accord.task t JOIN accord.program f ON f.id = t.program_id AND f.slug = 'bench-1'
                    CROSS JOIN accord.program p WHERE p.workflow_id = 'bench' AND p.slug <> 'bench-1'
                    """
                )
                try await connection.execute("ANALYZE")
            }
        }
        // Submitted by the owner, straight in SQL: seeding, not what is measured.
        let ids = try await store.pool.withConnection { connection in
            try await connection.execute(
                """
                UPDATE accord.task SET state = 'in_review', review_round = 1, submitted_at = now(), updated_at = now(),
                       submitted_by = (SELECT id FROM accord.person WHERE handle = 'owner'),
                       assignee_id = (SELECT id FROM accord.person WHERE handle = 'owner')
                WHERE program_id IN (SELECT id FROM accord.program WHERE workflow_id = 'bench')
                """
            )
            return try await connection.query(
                "SELECT t.id FROM accord.task t JOIN accord.program p ON p.id = t.program_id WHERE p.workflow_id = 'bench' ORDER BY t.id"
            )
            .map { try $0.decode(Int64.self, "id") }
        }
        // Signer n signs the tasks at n, n + signers, …, so no two signers meet on a task.
        return (0..<signers).map { n in stride(from: n, to: ids.count, by: signers).map { ids[$0] } }
    }

    // MARK: - Measures

    /// Raw approval transactions per second: lock the row, insert a log row, update the row, commit.
    func rawApprovals(_ pool: PostgresPool, concurrency: Int, seconds: Double) async throws -> Double {
        try await pool.withConnection { connection in
            try await connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS bench_item (id bigint PRIMARY KEY, state text NOT NULL, approvals int NOT NULL DEFAULT 0);
                CREATE TABLE IF NOT EXISTS bench_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL, signer int NOT NULL, at timestamptz NOT NULL DEFAULT now());
                INSERT INTO bench_item (id, state) SELECT g, 'in_review' FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;
                """
            )
        }
        let deadline = Date().addingTimeInterval(seconds)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done = 0
                    var item = Int64(worker * 3000 + 1)
                    while Date() < deadline {
                        try await pool.withTransaction { connection in
                            _ = try await connection.query("SELECT state FROM bench_item WHERE id = $1 FOR UPDATE", [item])
                            try await connection.execute("INSERT INTO bench_log (item_id, signer) VALUES ($1, $2)", [item, worker])
                            try await connection.execute("UPDATE bench_item SET approvals = approvals + 1, state = 'done' WHERE id = $1", [item])
                        }
                        done += 1
                        item += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(counts) / seconds
    }

    /// Puts every bench task back in review, in a new review round, so each run signs fresh.
    func reopen(_ store: Store) async throws {
        _ = try await store.pool.withConnection { connection in
            try await connection.execute(
                """
                UPDATE accord.task SET state = 'in_review', review_round = review_round + 1, completed_at = NULL, updated_at = now()
                WHERE program_id IN (SELECT id FROM accord.program WHERE workflow_id = 'bench')
                """
            )
        }
    }

    /// Sign-offs per second through `Store.sign`: password re-check, authority, policy, signature, state, audit append.
    func engineSignOffs(_ store: Store, tasks: [[Int64]], concurrency: Int, seconds: Double) async throws -> Double {
        let started = Date()
        let deadline = started.addingTimeInterval(seconds)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done = 0
                    for task in tasks[worker] {
                        guard Date() < deadline else { break }
                        let outcome = try await store.sign(
                            String(task),
                            decision: .approve,
                            meaning: .approval,
                            comment: nil,
                            password: benchPassword,
                            actor: "signer\(worker + 1)"
                        )
                        if outcome.recorded { done += 1 }
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(counts) / min(seconds, Date().timeIntervalSince(started))
    }

    /// One bcrypt verify at a cost, in milliseconds.
    func measureBcrypt(cost: UInt8) -> Double {
        let hash = Bcrypt.hash("a password to check", cost: cost)
        let start = DispatchTime.now()
        _ = Bcrypt.verify("a password to check", hash: hash)
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }

    /// A chain of `entries`, verified by the engine; and SHA-256 over the same bytes, as the baseline.
    func auditVerify(_ store: Store, entries: Int) async throws -> (Double, Double) {
        let chain = "bench-verify"
        try await store.pool.withConnection { connection in
            try await connection.execute("INSERT INTO accord.audit_chain (chain) VALUES ($1) ON CONFLICT DO NOTHING", [chain])
            // In batches: appends to one chain update its head row, and thousands of updates of one row in
            // one transaction slow down with every dead version they leave behind.
            var done = 0
            while done < entries {
                let batch = min(1000, entries - done)
                _ = try await connection.query(
                    """
                    SELECT count(accord.append_audit($1, 'bench', 'bench.entry', 'task', 'bench/t' || g, NULL, json_build_object('n', g), NULL))
                    FROM generate_series($2::int, $3::int) g
                    """,
                    [chain, done + 1, done + batch]
                )
                done += batch
            }
        }
        var start = DispatchTime.now()
        let verification = try await store.verifyChain(chain)
        let verifySeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        guard verification.problem == nil, verification.verified == entries else {
            throw ValidationError("the bench chain did not verify: \(verification.problem ?? "")")
        }
        // The baseline: the same canonical bytes, already in memory, hashed in a chain.
        let rows = try await store.pool.withConnection { try await $0.query(AuditSQLForBench.entries, [chain]) }
        let contents = try rows.map { row in
            AuditEntryContent(
                chain: chain,
                seq: try row.decode(Int64.self, "seq"),
                recordedAtMicros: try row.decode(Int64.self, "at_us"),
                actor: try row.decode(String.self, "actor"),
                action: try row.decode(String.self, "action"),
                objectType: try row.decode(String?.self, "object_type"),
                objectID: try row.decode(String?.self, "object_id"),
                before: try row.decode(String?.self, "before"),
                after: try row.decode(String?.self, "after"),
                reason: try row.decode(String?.self, "reason")
            ).canonicalBytes
        }
        start = DispatchTime.now()
        var previous: [UInt8] = []
        for bytes in contents {
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: bytes)
            previous = Array(hasher.finalize())
        }
        let shaSeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return (Double(entries) / verifySeconds, Double(entries) / shaSeconds)
    }

    // MARK: - HTTP

    func findWRK() -> String? {
        ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Serves the bench database with `accord serve` and drives it with wrk: /healthz as the HTTP ceiling,
    /// sign-offs with bearer tokens against the raw transaction, an inbox's latency, and the server's memory.
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
                baselineName: "raw approval transaction, 32 client(s)",
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

    /// Latency growth from the smallest estate to each larger one (goal: at most 2x).
    func scaleFigures(_ points: [ScalePoint]) -> [Figure] {
        guard let first = points.first else { return [] }
        let measures: [(String, KeyPath<ScalePoint, Latency>)] = [
            ("sign-off", \.signOff), ("inbox", \.inbox), ("leadership report", \.leadership), ("task list", \.taskList),
            ("status report", \.statusReport),
        ]
        var figures: [Figure] = []
        for (name, path) in measures {
            for point in points {
                figures.append(
                    Figure(
                        name: "\(name) p50 at \(point.tasks / 1000)k tasks",
                        value: point[keyPath: path].p50,
                        unit: "ms",
                        baseline: first[keyPath: path].p50,
                        baselineName: "at \(first.tasks / 1000)k tasks",
                        note: "p99 \(String(format: "%.1f", point[keyPath: path].p99)) ms"
                    )
                )
            }
        }
        return figures
    }

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

    // MARK: - Output

    struct Figure: Codable {
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var baselineName: String?
        var note: String?
        var ratio: Double? { baseline.map { value / $0 } }
    }

    func printTable(_ figures: [Figure]) {
        func number(_ value: Double) -> String { value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value) }
        print("")
        print(
            "figure".padding(toLength: 48, withPad: " ", startingAt: 0) + "value".padding(toLength: 14, withPad: " ", startingAt: 0)
                + "baseline (same run)".padding(toLength: 52, withPad: " ", startingAt: 0) + "ratio"
        )
        for f in figures {
            let baseline = f.baseline.map { "\(number($0)) \(f.baselineName ?? "")" } ?? "-"
            print(
                f.name.padding(toLength: 48, withPad: " ", startingAt: 0) + number(f.value).padding(toLength: 14, withPad: " ", startingAt: 0)
                    + baseline.padding(toLength: 52, withPad: " ", startingAt: 0) + (f.ratio.map { String(format: "%.1f%%", $0 * 100) } ?? "-")
                    + (f.note.map { "  (\($0))" } ?? "")
            )
        }
    }

    func write(_ figures: [Figure]) throws {
        struct Results: Codable {
            var at: Date
            var cores: Int
            var figures: [Figure]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(Results(at: Date(), cores: ProcessInfo.processInfo.activeProcessorCount, figures: figures)).write(to: url)
        print("\nwrote \(output)")
    }
}

let benchPassword = "bench password, long enough"

/// A progress line, shown at once even when stdout is a file.
func say(_ line: String) {
    print(line)
    fflush(nil)
}

enum AuditSQLForBench {
    static let entries = """
        SELECT seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, actor, action, object_type, object_id,
               before::text AS before, after::text AS after, reason
        FROM accord.audit_entry WHERE chain = $1 ORDER BY seq
        """
}
