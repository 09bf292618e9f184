public import AccordCore
import AccordResources
public import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOPosix
public import Postgres
import PostgresCluster

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
    /// How the pool's connections reach the application role.
    public let roleMode: ApplicationRoleMode
    /// Recent verifications, for the API and the audit page (see `verifyAudit(reuseWithin:)`).
    let verificationCache = NIOLockedValueBox<[String: CachedVerification]>([:])
    let chainCache = NIOLockedValueBox<[String: CachedChain]>([:])
    /// The reference catalogue with the imported libraries, rebuilt when one is imported.
    let catalogueCache = NIOLockedValueBox<CachedCatalogue?>(nil)
    /// Attempts at a secret waiting their turn in this process (see `claimAttempt`).
    let attemptGate = AttemptGate()
    /// Where bcrypt runs, and how many comparisons have run.
    let passwordCheck = PasswordCheck()

    /// The role the engine works as: it may only INSERT and SELECT history (audit entries, signatures,
    /// evidence, workflow versions) and is a member of no other role. Migrations run as the schema owner.
    public static let applicationRole = "accord_app"

    /// How the pool's connections reach the application role.
    public enum ApplicationRoleMode: String, Sendable {
        /// They log in as `accord_app` itself, which cannot become the schema owner (embedded cluster, or a URL for that role).
        case ownLogin = "own login"
        /// They log in as the schema owner and `SET ROLE accord_app`: a compromised process could `RESET ROLE`.
        case setRole = "SET ROLE from the schema owner"
        /// The database has no `accord_app` the login may use: they act as the login role.
        case loginRole = "the login role"
    }

    /// Opens the database: starts the embedded cluster when that is the location, applies pending
    /// migrations as the schema owner when asked, and creates the pool, whose connections act as `accord_app`.
    ///
    /// The embedded cluster migrates as its superuser and then logs in as `accord_app`. On another server,
    /// `location` is what the application connects with; `owner`, when given (`accord db migrate
    /// --owner-database`), is what migrations connect with. With one URL only, it is used for both, and
    /// when it is the owner's the pool falls back to `SET ROLE` (see `roleMode`).
    /// - Parameters:
    ///   - origin: recorded in every audit entry this store writes (`accord.origin`): the CLI says
    ///     `cli user=… host=…`; the server leaves it out.
    ///   - keepOwnerAccess: keep the owner's conninfo for later `migrate()` calls (`accord db migrate`);
    ///     otherwise the store forgets it once open, and a server never holds it.
    public static func open(
        _ location: DatabaseLocation,
        owner: DatabaseLocation? = nil,
        migrate: Bool = false,
        maxConnections: Int = 10,
        origin: String? = nil,
        keepOwnerAccess: Bool = false,
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
        let ownerConninfo = owner?.conninfo ?? location.conninfo
        let settings = origin.map { ["accord.origin": $0] } ?? [:]
        let first = PostgresPool(configuration: .init(conninfo: ownerConninfo, maxConnections: 1, sessionSettings: settings), logger: logger)
        if migrate {
            try await Self.closing(first) { first in
                let store = Store(pool: first, location: location, auditKey: key, maxEvidenceBytes: limit, logger: logger)
                let plan = try await store.migrationPlan()
                if !plan.pending.isEmpty, owner == nil,
                    try await first.withConnection({ try await $0.queryOne(StoreSQL.standing, applicationRole).isApp })
                {
                    throw AccordError(
                        .conflict,
                        "the schema needs \(plan.pending.count) migration(s) and \(applicationRole) may not apply them",
                        remedy: .migrateAsOwner
                    )
                }
                try await store.migrate()
            }
        } else {
            try await first.close()
        }
        // Where the application's own connections stand: they are what `location` logs in as.
        let probe = PostgresPool(configuration: .init(conninfo: location.conninfo, maxConnections: 1), logger: logger)
        let standing = try await Self.closing(probe) { try await $0.withConnection { try await $0.queryOne(StoreSQL.standing, applicationRole) } }
        var conninfo = location.conninfo
        let mode: ApplicationRoleMode
        if standing.isApp {
            mode = .ownLogin
        } else if case .embedded(let home) = location, standing.appCanLogin {
            conninfo = LocalCluster(home: home).conninfo(user: applicationRole)
            mode = .ownLogin
        } else {
            mode = standing.canSet ? .setRole : .loginRole
        }
        if mode != .ownLogin {
            logger.warning(
                "Accord connects as the schema owner or another role that can change the schema (\(mode.rawValue)); give it its own login role, accord_app (docs/database.md)"
            )
        }
        let pool = PostgresPool(
            configuration: .init(
                conninfo: conninfo,
                maxConnections: maxConnections,
                sessionRole: mode == .setRole ? applicationRole : nil,
                sessionSettings: settings
            ),
            logger: logger
        )
        return Store(
            pool: pool,
            location: location,
            auditKey: key,
            maxEvidenceBytes: limit,
            maxDelegationDays: delegationDays,
            ownerConninfo: keepOwnerAccess ? ownerConninfo : nil,
            roleMode: mode,
            logger: logger
        )
    }

    /// Runs `body` with a pool and closes the pool afterwards, whatever happens.
    private static func closing<T: Sendable>(_ pool: PostgresPool, _ body: (PostgresPool) async throws -> T) async throws -> T {
        do {
            let result = try await body(pool)
            try await pool.close()
            return result
        } catch {
            try? await pool.close()
            throw error
        }
    }

    /// 50 MiB.
    public static let defaultMaxEvidenceBytes = 50 << 20
    /// 90 days.
    public static let defaultMaxDelegationDays = 90

    /// Wraps an existing pool (tests, benchmarks).
    public init(
        pool: PostgresPool,
        location: DatabaseLocation,
        auditKey: AuditKey,
        maxEvidenceBytes: Int = Store.defaultMaxEvidenceBytes,
        passwordCost: UInt8 = defaultPasswordCost,
        maxDelegationDays: Int = Store.defaultMaxDelegationDays,
        ownerConninfo: String? = nil,
        roleMode: ApplicationRoleMode = .loginRole,
        logger: Logger = Logger(label: "accord.store")
    ) {
        self.roleMode = roleMode
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
        return try await Self.closing(PostgresPool(configuration: .init(conninfo: ownerConninfo, maxConnections: 1), logger: logger), body)
    }

    /// The role the pool's connections act as (`SELECT current_user`).
    public func currentRole() async throws -> String {
        try await pool.withConnection { try await $0.queryOne(StoreSQL.currentRole) }
    }

    /// Checks that the database answers; used by `/readyz`.
    public func ping() async throws {
        try await pool.withConnection { _ = try await $0.execute(StoreSQL.ping) }
    }

    /// The server's version string, e.g. `PostgreSQL 15.10`.
    public func serverVersion() async throws -> String {
        let version = try await pool.withConnection { try await $0.queryOne(StoreSQL.serverVersion) }
        return "PostgreSQL \(version)"
    }

    /// Closes the pool.
    public func close() async throws {
        try await pool.close()
    }
}

enum StoreSQL {
    /// Where the login role stands towards the application role: it is that role; it may SET ROLE to it;
    /// the role may log in (so the embedded cluster connects as it).
    static let standing = PostgresQuery<String, (isApp: Bool, canSet: Bool, appCanLogin: Bool)>(
        "store_role_standing",
        """
        SELECT current_user = $1 AS is_app,
               EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AND current_user <> $1 AND pg_has_role(current_user, $1, 'MEMBER') AS can_set,
               coalesce((SELECT rolcanlogin FROM pg_roles WHERE rolname = $1), false) AS app_can_login
        """
    ) {
        (
            isApp: try $0.decode(Bool.self, "is_app"), canSet: try $0.decode(Bool.self, "can_set"),
            appCanLogin: try $0.decode(Bool.self, "app_can_login")
        )
    }
    static let currentRole = PostgresQuery<String>("store_current_role", "SELECT current_user AS r") { try $0.decode(String.self, "r") }
    static let ping = PostgresQuery<Void>("store_ping", "SELECT 1")
    static let serverVersion = PostgresQuery<String>("store_server_version", "SELECT current_setting('server_version') AS version") {
        try $0.decode(String.self, "version")
    }

    static let catalogue: [any PostgresCheckable] = [standing, currentRole, ping, serverVersion]
}
