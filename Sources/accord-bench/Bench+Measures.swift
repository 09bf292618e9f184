import AccordCore
import AccordStore
import ArgumentParser
import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import Postgres

extension Bench {
    // MARK: - Measures

    /// Raw approval transactions per second: lock the row, insert a log row, update the row, commit.
    /// With `bcryptCost`, each transaction is preceded by one bcrypt verification at that cost, run where the
    /// engine runs its own (NIO's shared thread pool): the physical limit of a sign-off that must re-check a
    /// password, on this machine at this concurrency.
    func rawApprovals(_ pool: PostgresPool, concurrency: Int, seconds: Double, bcryptCost: UInt8? = nil) async throws -> Double {
        let hash = bcryptCost.map { Bcrypt.hash(benchPassword, cost: $0) }
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
                        if let hash {
                            let ok = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(benchPassword, hash: hash) }
                            precondition(ok, "the baseline's own hash did not verify")
                        }
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

    /// Puts every bench task back in review, in a new review round, so each run signs fresh; then
    /// refreshes the planner's statistics, as autovacuum does within a minute on a database in use (a
    /// run lasts seconds, and plans made while `signature` looked empty would scan it whole).
    func reopen(_ store: Store, maintenance: PostgresPool) async throws {
        _ = try await store.pool.withConnection { connection in
            try await connection.execute(
                """
                UPDATE accord.task SET state = 'in_review', review_round = review_round + 1, completed_at = NULL, updated_at = now()
                WHERE program_id IN (SELECT id FROM accord.program WHERE workflow_id = 'bench')
                """
            )
        }
        try await maintain(maintenance, "ANALYZE accord.task; ANALYZE accord.signature; ANALYZE accord.audit_entry")
    }

    /// Runs VACUUM or ANALYZE on the maintenance pool, which logs in as the tables' owner: the store's
    /// connections act as `accord_app`, for which PostgreSQL skips both with a warning.
    func maintain(_ pool: PostgresPool, _ sql: String) async throws {
        try await pool.withConnection { try await $0.executeScript(sql) }
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
}

enum AuditSQLForBench {
    static let entries = """
        SELECT seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, actor, action, object_type, object_id,
               before::text AS before, after::text AS after, reason
        FROM accord.audit_entry WHERE chain = $1 ORDER BY seq
        """
}
