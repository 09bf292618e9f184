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
    /// The longest a delegation may last, in days (`ACCORD_MAX_DELEGATION_DAYS`, 90 by default).
    public let maxDelegationDays: Int
    /// How to connect as the schema owner for migrations, when the pool acts as a lesser role.
    let ownerConninfo: String?
    let logger: Logger
    /// Where bcrypt runs, and how many comparisons have run.
    let passwordCheck = PasswordCheck()

    /// The role the engine works as, when the database has it: it may only INSERT and SELECT history
    /// (audit entries, signatures, evidence). Migrations run as the login role, which owns the schema.
    public static let applicationRole = "accord_app"

    /// Opens the database: starts the embedded cluster when that is the location, applies pending
    /// migrations (as the login role) when asked, and creates the pool, whose connections act as
    /// `accord_app` when the login role may.
    public static func open(
        _ location: DatabaseLocation,
        migrate: Bool = false,
        maxConnections: Int = 10,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "accord.store")
    ) async throws -> Store {
        if case .embedded(let home) = location {
            let cluster = LocalCluster(home: home)
            try await NIOThreadPool.singleton.runIfActive { _ = try cluster.start() }
        }
        let key = try AuditKeyFile.load(environment: environment, home: LocalCluster.defaultHome(environment: environment))
        let limit = environment["ACCORD_MAX_EVIDENCE_BYTES"].flatMap(Int.init) ?? Store.defaultMaxEvidenceBytes
        let delegationDays = environment["ACCORD_MAX_DELEGATION_DAYS"].flatMap(Int.init).map { max(1, $0) } ?? Store.defaultMaxDelegationDays
        let owner = PostgresPool(configuration: .init(conninfo: location.conninfo, maxConnections: 1), logger: logger)
        let role: String?
        do {
            if migrate {
                let store = Store(pool: owner, location: location, auditKey: key, maxEvidenceBytes: limit, logger: logger)
                try await store.migrate()
            }
            role = try await owner.withConnection { connection in
                try await connection.query(StoreSQL.canUseApplicationRole, [applicationRole])[0].decode(Bool.self, "usable") ? applicationRole : nil
            }
            try await owner.close()
        } catch {
            try? await owner.close()
            throw error
        }
        let pool = PostgresPool(configuration: .init(conninfo: location.conninfo, maxConnections: maxConnections, sessionRole: role), logger: logger)
        return Store(pool: pool, location: location, auditKey: key, maxEvidenceBytes: limit, maxDelegationDays: delegationDays, ownerConninfo: location.conninfo, logger: logger)
    }

    /// 50 MiB.
    public static let defaultMaxEvidenceBytes = 50 << 20
    /// 90 days.
    public static let defaultMaxDelegationDays = 90

    /// Wraps an existing pool (tests, benchmarks).
    public init(pool: PostgresPool, location: DatabaseLocation, auditKey: AuditKey, maxEvidenceBytes: Int = Store.defaultMaxEvidenceBytes,
                passwordCost: UInt8 = defaultPasswordCost, maxDelegationDays: Int = Store.defaultMaxDelegationDays, ownerConninfo: String? = nil,
                logger: Logger = Logger(label: "accord.store")) {
        self.passwordCost = passwordCost
        self.maxDelegationDays = maxDelegationDays
        self.ownerConninfo = ownerConninfo
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
        try await asOwner { try await Self.migrator().plan(pool: $0) }
    }

    /// Applies pending migrations, then loads the built-in workflows; returns the migrations applied.
    @discardableResult
    public func migrate(progress: @Sendable (Migration) -> Void = { _ in }) async throws -> [Migration] {
        let applied = try await asOwner { try await Self.migrator().migrate(pool: $0, progress: progress) }
        try await loadBuiltInWorkflows()
        return applied
    }

    /// Runs schema work on a connection of the login role (the schema owner), not the application role.
    private func asOwner<T: Sendable>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        guard let ownerConninfo else { return try await body(pool) }
        let owner = PostgresPool(configuration: .init(conninfo: ownerConninfo, maxConnections: 1), logger: logger)
        do {
            let result = try await body(owner)
            try await owner.close()
            return result
        } catch {
            try? await owner.close()
            throw error
        }
    }

    /// The role the pool's connections act as (`SELECT current_user`).
    public func currentRole() async throws -> String {
        try await pool.withConnection { try await $0.query("SELECT current_user AS r")[0].decode(String.self, "r") }
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

enum StoreSQL {
    /// Whether the role exists and the login role may switch to it.
    static let canUseApplicationRole = """
        SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AND pg_has_role(current_user, $1, 'MEMBER') AS usable
        """
}
