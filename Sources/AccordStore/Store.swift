import AccordCore
import AccordResources
import Foundation
import Logging
import NIOPosix
import Postgres

/// Accord's engine over its database. Every command it offers is one transaction that changes state
/// and appends its audit entry; the CLI and the HTTP front only call it.
public final class Store: Sendable {
    /// The connection pool; run it as a service so shutdown closes it.
    public let pool: PostgresPool
    /// Where the database is.
    public let location: DatabaseLocation
    /// The key, held outside the database, that authenticates signatures and checkpoints.
    public let auditKey: AuditKey
    /// The largest evidence file accepted, in bytes (`ACCORD_MAX_EVIDENCE_BYTES`, 50 MiB by default).
    public let maxEvidenceBytes: Int
    /// The bcrypt cost for new password hashes (12 unless a test lowers it).
    public let passwordCost: UInt8
    let logger: Logger

    /// Opens the database: starts the embedded cluster when that is the location, and creates the pool.
    /// No connection is made until the first use.
    public static func open(
        _ location: DatabaseLocation,
        maxConnections: Int = 10,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "accord.store")
    ) async throws -> Store {
        if case .embedded(let home) = location {
            let cluster = LocalCluster(home: home)
            try await NIOThreadPool.singleton.runIfActive { _ = try cluster.start() }
        }
        let key = try AuditKeyFile.load(environment: environment, home: LocalCluster.defaultHome(environment: environment))
        let pool = PostgresPool(configuration: .init(conninfo: location.conninfo, maxConnections: maxConnections), logger: logger)
        let limit = environment["ACCORD_MAX_EVIDENCE_BYTES"].flatMap(Int.init) ?? Store.defaultMaxEvidenceBytes
        return Store(pool: pool, location: location, auditKey: key, maxEvidenceBytes: limit, logger: logger)
    }

    /// 50 MiB.
    public static let defaultMaxEvidenceBytes = 50 << 20

    /// Wraps an existing pool (tests, benchmarks).
    public init(pool: PostgresPool, location: DatabaseLocation, auditKey: AuditKey, maxEvidenceBytes: Int = Store.defaultMaxEvidenceBytes,
                passwordCost: UInt8 = defaultPasswordCost, logger: Logger = Logger(label: "accord.store")) {
        self.passwordCost = passwordCost
        self.pool = pool
        self.location = location
        self.auditKey = auditKey
        self.maxEvidenceBytes = maxEvidenceBytes
        self.logger = logger
    }

    /// The schema migrations this build carries, from `sql/`.
    public static func migrations() throws -> [Migration] {
        try Resources.migrations.map { try Migration(name: $0.name, bytes: $0.bytes) }
    }

    /// The migrator for this build's schema.
    public static func migrator() throws -> Migrator {
        try Migrator(migrations: migrations())
    }

    /// What is applied and what is pending, without changing anything.
    public func migrationPlan() async throws -> MigrationPlan {
        try await Self.migrator().plan(pool: pool)
    }

    /// Applies pending migrations, then loads the built-in workflows; returns the migrations applied.
    @discardableResult
    public func migrate(progress: @Sendable (Migration) -> Void = { _ in }) async throws -> [Migration] {
        let applied = try await Self.migrator().migrate(pool: pool, progress: progress)
        try await loadBuiltInWorkflows()
        return applied
    }

    /// Checks that the database answers; used by `/readyz`.
    public func ping() async throws {
        _ = try await pool.withConnection { try await $0.query("SELECT 1") }
    }

    /// The server's version string, e.g. `PostgreSQL 15.10`.
    public func serverVersion() async throws -> String {
        try await pool.withConnection { connection in
            let rows = try await connection.query("SELECT current_setting('server_version')")
            return "PostgreSQL " + (try rows[0].decode(String.self, at: 0))
        }
    }

    /// Closes the pool.
    public func close() async throws {
        try await pool.close()
    }
}
