import Crypto
public import Foundation

/// One forward-only schema migration: a numbered SQL file.
public struct Migration: Sendable, Hashable {
    /// The number the file name starts with (`0003_findings.sql` is 3).
    public let version: Int
    /// The file name, e.g. `0003_findings.sql`.
    public let name: String
    /// The SQL text.
    public let sql: String
    /// SHA-256 of the file's bytes, in hex; a changed file is refused once applied.
    public let checksum: String

    /// Creates a migration from a file name of the form `NNNN_words.sql` and its bytes.
    /// - Throws: `PostgresError` `.migration` when the name has no leading number.
    public init(name: String, bytes: [UInt8]) throws {
        let digits = name.prefix { $0.isNumber }
        guard let version = Int(digits), version > 0, name.dropFirst(digits.count).first == "_", name.hasSuffix(".sql") else {
            throw PostgresError(.migration, "migration file '\(name)' must be named NNNN_words.sql, numbered from 1")
        }
        self.version = version
        self.name = name
        self.sql = String(decoding: bytes, as: UTF8.self)
        self.checksum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

/// A migration recorded in the database.
public struct AppliedMigration: Sendable, Hashable {
    /// Its number.
    public let version: Int
    /// Its file name when it was applied.
    public let name: String
    /// Its checksum when it was applied.
    public let checksum: String
    /// When it was applied (database time).
    public let appliedAt: Date
}

/// What `migrate` would do: what is applied, what is pending.
public struct MigrationPlan: Sendable {
    /// Migrations recorded in the database, in order.
    public let applied: [AppliedMigration]
    /// Migrations the code has and the database does not, in order.
    public let pending: [Migration]
    /// The highest applied version, 0 for an empty database.
    public var currentVersion: Int { applied.last?.version ?? 0 }
}

/// Applies numbered SQL migrations in order, each in its own transaction, under an advisory lock,
/// recording each with its checksum (graphile-worker's and river's model).
///
/// It refuses to run when the database is ahead of the code (it has a migration this build does
/// not know) or when an applied file has changed since. Two processes migrating at once are safe:
/// the second waits for the lock and then finds nothing left to do.
public struct Migrator: Sendable {
    /// The migrations, in version order.
    public let migrations: [Migration]
    /// The schema that holds the history table (created if missing).
    public let historySchema: String
    /// The advisory-lock key that serialises migrators on one database.
    public let lockKey: Int64

    /// Creates a migrator.
    /// - Throws: `.migration` when two files share a number.
    public init(migrations: [Migration], historySchema: String = "accord_meta", lockKey: Int64 = 0x4163_636F_7264_4D31) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw PostgresError(.migration, "migrations '\(a.name)' and '\(b.name)' share the number \(a.version)")
        }
        self.migrations = sorted
        self.historySchema = historySchema
        self.lockKey = lockKey
    }

    private var table: String { PostgresConnection.quoteIdentifier(historySchema) + ".schema_migrations" }

    /// Reports what is applied and what is pending, after the same checks `migrate` makes.
    public func plan(pool: PostgresPool) async throws -> MigrationPlan {
        try await pool.withConnection { connection in
            try await withLock(connection) { try await checkedPlan(connection, create: false) }
        }
    }

    /// Applies every pending migration, in order; returns those it applied (none when up to date).
    @discardableResult
    public func migrate(pool: PostgresPool, progress: @Sendable (Migration) -> Void = { _ in }) async throws -> [Migration] {
        try await pool.withConnection { connection in
            try await withLock(connection) {
                let plan = try await checkedPlan(connection, create: true)
                for migration in plan.pending {
                    progress(migration)
                    try await apply(migration, on: connection)
                }
                return plan.pending
            }
        }
    }

    private func withLock<T: Sendable>(_ connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        // A session-level lock: held across the per-migration transactions below.
        try await connection.execute("SELECT pg_advisory_lock($1)", [lockKey])
        do {
            let result = try await body()
            try await connection.execute("SELECT pg_advisory_unlock($1)", [lockKey])
            return result
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock($1)", [lockKey])
            throw error
        }
    }

    /// - Parameter create: create the history table when it is missing (migrating); a plan only reads, so
    ///   that a role without rights on the schema (the application's own) can ask for it.
    private func checkedPlan(_ connection: PostgresConnection, create: Bool) async throws -> MigrationPlan {
        let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [table])[0].decode(Bool.self, "present")
        if !exists && !create { return MigrationPlan(applied: [], pending: migrations) }
        if !exists {
            try await createHistory(connection)
        }
        return try await readPlan(connection)
    }

    private func createHistory(_ connection: PostgresConnection) async throws {
        try await connection.executeScript(
            """
            CREATE SCHEMA IF NOT EXISTS \(PostgresConnection.quoteIdentifier(historySchema));
            CREATE TABLE IF NOT EXISTS \(table) (
                version     integer PRIMARY KEY CONSTRAINT schema_migrations_version_positive CHECK (version > 0),
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                applied_by  text NOT NULL DEFAULT current_user,
                duration_ms integer NOT NULL
            );
            COMMENT ON TABLE \(table) IS 'Schema migrations applied from sql/, with the SHA-256 of each file as applied.';
            """
        )
    }

    private func readPlan(_ connection: PostgresConnection) async throws -> MigrationPlan {
        let rows = try await connection.query("SELECT version, name, checksum, applied_at FROM \(table) ORDER BY version")
        let applied = try rows.map { row in
            AppliedMigration(
                version: try row.decode(Int.self, "version"),
                name: try row.decode(String.self, "name"),
                checksum: try row.decode(String.self, "checksum"),
                appliedAt: try row.decode(Date.self, "applied_at")
            )
        }
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        let unknown = applied.filter { known[$0.version] == nil }
        if !unknown.isEmpty {
            let names = unknown.map(\.name).joined(separator: ", ")
            throw PostgresError(
                .migration,
                "the database is ahead of this build: it has migration \(names), which this accord does not know; run a newer accord"
            )
        }
        for record in applied {
            let migration = known[record.version]!
            if migration.checksum != record.checksum {
                throw PostgresError(
                    .migration,
                    "migration \(migration.name) was changed after it was applied (checksum \(record.checksum.prefix(12))… in the database, \(migration.checksum.prefix(12))… in this build); migrations are forward-only: add a new file instead"
                )
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        let pending = migrations.filter { !appliedVersions.contains($0.version) }
        if let first = pending.first, let last = applied.last, first.version < last.version {
            throw PostgresError(
                .migration,
                "migration \(first.name) is older than \(last.name), which is already applied; number new migrations after the last one"
            )
        }
        return MigrationPlan(applied: applied, pending: pending)
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        let started = ContinuousClock.now
        try await connection.execute("BEGIN")
        do {
            try await connection.executeScript(migration.sql)
            let elapsed = ContinuousClock.now - started
            let ms = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            try await connection.execute(
                "INSERT INTO \(table) (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                [migration.version, migration.name, migration.checksum, ms]
            )
            try await connection.execute("COMMIT")
        } catch var error as PostgresError {
            _ = try? await connection.execute("ROLLBACK")
            error.message = "migration \(migration.name) failed and was rolled back: \(error.message)"
            throw error
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }
    }
}
