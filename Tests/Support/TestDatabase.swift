public import AccordCore
import AccordResources
public import AccordStore
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
public import Postgres
public import PostgresCluster

/// The audit key the tests sign with.
public let testAuditKey = AuditKey(bytes: Array("accord test audit key, 32+ bytes long".utf8))

/// A database of its own for one test, on a real PostgreSQL server.
///
/// The server is `ACCORD_TEST_DATABASE_URL` when set (`make test` starts a throwaway cluster and sets it),
/// otherwise a private cluster this process starts in a temporary folder and stops at exit.
/// Migrated databases are cloned (`CREATE DATABASE … TEMPLATE`) from a template migrated once, so tests
/// can run in parallel without seeing each other.
public struct TestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// A conninfo for it.
    public let conninfo: String
    /// A pool on it.
    public let pool: PostgresPool

    /// A store over the pool, with the tests' audit key.
    public var store: Store { Store(pool: pool, location: .url(conninfo), auditKey: testAuditKey, maxEvidenceBytes: 1 << 20, passwordCost: 4) }

    /// Creates a database (migrated from the template, or empty), runs `body`, then drops it.
    public static func with<T: Sendable>(
        migrated: Bool = true,
        maxConnections: Int = 8,
        acquireTimeout: Duration = .seconds(10),
        _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let server = try await TestServer.shared()
        let name = "accord_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let template = migrated ? try await server.migratedTemplate() : "template0"
        try await server.admin { try await $0.execute("CREATE DATABASE \(name) TEMPLATE \(template)") }
        let conninfo = try Conninfo.replacingDatabase(in: server.conninfo, with: name)
        let pool = PostgresPool(configuration: .init(conninfo: conninfo, maxConnections: maxConnections, acquireTimeout: acquireTimeout))
        let database = TestDatabase(name: name, conninfo: conninfo, pool: pool)
        do {
            let result = try await body(database)
            try await pool.close()
            try await server.admin { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
            return result
        } catch {
            try? await pool.close()
            _ = try? await server.admin { try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
            throw error
        }
    }
}

/// The PostgreSQL server the tests of this process use.
public final class TestServer: Sendable {
    /// A conninfo for the server's maintenance database.
    public let conninfo: String
    private let adminPool: PostgresPool
    private let template = NIOLockedValueBox<Task<String, any Error>?>(nil)

    private static let instance = NIOLockedValueBox<Task<TestServer, any Error>?>(nil)

    /// The shared server, started on first use.
    public static func shared() async throws -> TestServer {
        let task = instance.withLockedValue { current -> Task<TestServer, any Error> in
            if let current { return current }
            let task = Task { try await TestServer.start() }
            current = task
            return task
        }
        return try await task.value
    }

    private static func start() async throws -> TestServer {
        var conninfo = ProcessInfo.processInfo.environment["ACCORD_TEST_DATABASE_URL"] ?? ""
        if conninfo.isEmpty {
            let cluster = try await PrivateCluster.start()
            conninfo = cluster.conninfo(database: "postgres")
        } else {
            conninfo = try Conninfo.replacingDatabase(in: conninfo, with: "postgres")
        }
        let pool = PostgresPool(configuration: .init(conninfo: conninfo, maxConnections: 4, acquireTimeout: .seconds(60)))
        return TestServer(conninfo: conninfo, adminPool: pool)
    }

    private init(conninfo: String, adminPool: PostgresPool) {
        self.conninfo = conninfo
        self.adminPool = adminPool
    }

    /// Runs SQL as the server's superuser with triggers off (`session_replication_role = replica`),
    /// as an attacker with full database rights would.
    public func asSuperuser(database: String, _ sql: String) async throws {
        let pool = PostgresPool(configuration: .init(conninfo: try Conninfo.replacingDatabase(in: conninfo, with: database), maxConnections: 1))
        do {
            try await pool.withConnection { try await $0.executeScript("SET session_replication_role = replica;\n" + sql) }
            try await pool.close()
        } catch {
            try? await pool.close()
            throw error
        }
    }

    /// Runs `body` on a connection to the maintenance database.
    public func admin<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await adminPool.withConnection { try await body($0) }
    }

    /// The name of a template database with this build's migrations applied, created once.
    ///
    /// Its name carries a digest of the migrations, so a changed `sql/` never reuses a stale template,
    /// and an advisory lock keeps concurrent test processes from building it twice.
    public func migratedTemplate() async throws -> String {
        let task = template.withLockedValue { current -> Task<String, any Error> in
            if let current { return current }
            let task = Task { try await self.buildTemplate() }
            current = task
            return task
        }
        return try await task.value
    }

    private func buildTemplate() async throws -> String {
        let migrations = try Store.migrations()
        let workflows = Resources.workflows.map { String(decoding: $0.bytes, as: UTF8.self) }
        let digest = SHA256.hash(data: Data((migrations.map(\.checksum) + workflows).joined().utf8)).prefix(6).map { String(format: "%02x", $0) }
            .joined()
        let name = "accord_template_\(digest)"
        try await adminPool.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(4242)")
            do {
                let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate", [name])
                if exists.isEmpty {
                    try await connection.execute("DROP DATABASE IF EXISTS \(name)")
                    try await connection.execute("CREATE DATABASE \(name) TEMPLATE template0")
                    let pool = PostgresPool(
                        configuration: .init(conninfo: try Conninfo.replacingDatabase(in: conninfo, with: name), maxConnections: 1)
                    )
                    do {
                        // As `accord` does: migrations, then the built-in workflows.
                        try await Store(pool: pool, location: .url("template"), auditKey: testAuditKey).migrate()
                        try await pool.close()
                    } catch {
                        try? await pool.close()
                        throw error
                    }
                    try await connection.execute("ALTER DATABASE \(name) WITH is_template = true ALLOW_CONNECTIONS = false")
                }
                try await connection.execute("SELECT pg_advisory_unlock(4242)")
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock(4242)")
                throw error
            }
        }
        return name
    }
}

/// A cluster in a temporary folder, for a test process run without `ACCORD_TEST_DATABASE_URL`
/// or for tests that must restart their own server. Stopped and removed when the process exits.
public enum PrivateCluster {
    private static let started = NIOLockedValueBox<[LocalCluster]>([])

    /// Creates and starts a new cluster in a temporary folder.
    public static func start() async throws -> LocalCluster {
        // Short folder names: a Unix socket path holds at most 103 bytes.
        let home = URL(fileURLWithPath: "/tmp/accord-test-\(UUID().uuidString.prefix(8).lowercased())")
        let cluster = LocalCluster(home: home)
        let first = started.withLockedValue { list in
            list.append(cluster)
            return list.count == 1
        }
        if first { atexit { PrivateCluster.stopAll() } }
        try await NIOThreadPool.singleton.runIfActive { _ = try cluster.start() }
        return cluster
    }

    /// Stops and removes every cluster this process started.
    public static func stopAll() {
        for cluster in started.withLockedValue({ list in
            defer { list = [] }
            return list
        }) {
            _ = try? cluster.stop()
            try? FileManager.default.removeItem(at: cluster.home)
        }
    }
}
