import AccordCore
import AccordStore
import ArgumentParser
import Foundation
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
    var signers: [Int] = [1, 8, 32]  // include --connections, or the HTTP sign-off has no engine figure to stand beside
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
        // A warm-up, not measured: a database in use has signatures and statistics about them.
        try await reopen(store, maintenance: rawPool)
        _ = try await engineSignOffs(store, tasks: tasks, concurrency: maxSigners, seconds: 1)
        for count in signers {
            let raw = try await rawApprovals(rawPool, concurrency: count, seconds: seconds)
            let limit = try await rawApprovals(rawPool, concurrency: count, seconds: seconds, bcryptCost: 4)
            try await reopen(store, maintenance: rawPool)
            let engine = try await engineSignOffs(store, tasks: tasks, concurrency: count, seconds: seconds)
            figures.append(
                Figure(
                    name: "sign-off through the engine, \(count) signer(s)",
                    value: engine,
                    unit: "sign-offs/s",
                    baseline: limit,
                    baselineName: "raw transaction + bcrypt verify (cost 4), \(count) client(s)",
                    note: "goal 80 %; \(String(format: "%.1f", engine / raw * 100)) % of the raw transaction alone (\(String(format: "%.0f", raw))/s)"
                )
            )
        }
        let wrk = findWRK()
        let canServe = FileManager.default.isExecutableFile(atPath: accord)
        if canServe, let wrk {
            try await reopen(store, maintenance: rawPool)
            figures += try await httpFigures(
                store,
                url: url,
                wrk: wrk,
                tasks: tasks,
                raw: figures.first { $0.name == "sign-off through the engine, \(connections) signer(s)" }?.value
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
            // Vacuumed as well as analysed: the bulk copy leaves every row in two versions, which autovacuum
            // would otherwise clean up in the middle of the next measurement (a database in use is vacuumed).
            try await maintain(rawPool, "VACUUM ANALYZE")
            points.append(try await scalePoint(store, tasks: size))
        }
        figures += scaleFigures(points)
        figures += pageFigures(points)
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
}

let benchPassword = "bench password, long enough"
