import AccordTestSupport
import Foundation
import Postgres
import Testing

private func migration(_ name: String, _ sql: String) throws -> Migration {
    try Migration(name: name, bytes: Array(sql.utf8))
}

private func sample() throws -> [Migration] {
    [
        try migration("0001_things.sql", "CREATE TABLE things (id int PRIMARY KEY);"),
        try migration("0002_more.sql", "ALTER TABLE things ADD COLUMN label text; CREATE INDEX things_label ON things (label);"),
    ]
}

@Suite("Migrations")
struct MigratorTests {
    @Test("applies in order once; running again changes nothing")
    func idempotent() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let migrator = try Migrator(migrations: try sample())
            let first = try await migrator.migrate(pool: db.pool)
            #expect(first.map(\.version) == [1, 2])
            let second = try await migrator.migrate(pool: db.pool)
            #expect(second.isEmpty)
            let plan = try await migrator.plan(pool: db.pool)
            #expect(plan.currentVersion == 2)
            #expect(plan.pending.isEmpty)
            #expect(plan.applied.map(\.name) == ["0001_things.sql", "0002_more.sql"])
            try await db.pool.withConnection { try await $0.execute("INSERT INTO things VALUES (1, 'x')") }
        }
    }

    @Test("two concurrent migrators leave one consistent schema")
    func concurrentMigrators() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let migrations = try sample() + [try migration("0003_slow.sql", "SELECT pg_sleep(0.2); CREATE TABLE after_sleep (x int);")]
            let a = PostgresPool(configuration: .init(conninfo: db.conninfo, maxConnections: 1))
            let b = PostgresPool(configuration: .init(conninfo: db.conninfo, maxConnections: 1))
            async let ranA = Migrator(migrations: migrations).migrate(pool: a)
            async let ranB = Migrator(migrations: migrations).migrate(pool: b)
            let (appliedA, appliedB) = try await (ranA, ranB)
            #expect(appliedA.count + appliedB.count == 3)
            #expect(appliedA.isEmpty || appliedB.isEmpty)
            let history = try await db.pool.withConnection { c in
                try await c.query("SELECT version FROM accord_meta.schema_migrations ORDER BY version").map { try $0.decode(Int.self, "version") }
            }
            #expect(history == [1, 2, 3])
            try await a.close()
            try await b.close()
        }
    }

    @Test("an applied file that was edited is refused, and nothing runs")
    func editedFileRefused() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await Migrator(migrations: try sample()).migrate(pool: db.pool)
            let edited = [
                try migration("0001_things.sql", "CREATE TABLE things (id bigint PRIMARY KEY);"),
                try sample()[1],
                try migration("0003_new.sql", "CREATE TABLE must_not_exist (x int);"),
            ]
            let error = await #expect(throws: PostgresError.self) { try await Migrator(migrations: edited).migrate(pool: db.pool) }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("0001_things.sql was changed after it was applied") == true)
            let exists = try await db.pool.withConnection {
                try await $0.query("SELECT to_regclass('must_not_exist') IS NOT NULL AS e")[0].decode(Bool.self, "e")
            }
            #expect(exists == false)
        }
    }

    @Test("a database ahead of the code is refused")
    func databaseAhead() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await Migrator(migrations: try sample()).migrate(pool: db.pool)
            let error = await #expect(throws: PostgresError.self) { try await Migrator(migrations: [try sample()[0]]).plan(pool: db.pool) }
            #expect(error?.message.contains("ahead of this build") == true)
            #expect(error?.message.contains("0002_more.sql") == true)
        }
    }

    @Test("a failing migration is rolled back whole and not recorded")
    func failingMigration() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let broken = try sample() + [try migration("0003_broken.sql", "CREATE TABLE half (x int); SELECT no_such_function();")]
            let error = await #expect(throws: PostgresError.self) { try await Migrator(migrations: broken).migrate(pool: db.pool) }
            #expect(error?.message.contains("0003_broken.sql failed and was rolled back") == true)
            let plan = try await Migrator(migrations: broken).plan(pool: db.pool)
            #expect(plan.currentVersion == 2)
            #expect(plan.pending.map(\.name) == ["0003_broken.sql"])
            let half = try await db.pool.withConnection {
                try await $0.query("SELECT to_regclass('half') IS NOT NULL AS e")[0].decode(Bool.self, "e")
            }
            #expect(half == false)
        }
    }

    @Test("file names must be numbered, and numbers unique")
    func badNames() throws {
        #expect(throws: PostgresError.self) { try migration("core.sql", "") }
        #expect(throws: PostgresError.self) { try migration("0000_zero.sql", "") }
        #expect(throws: PostgresError.self) { try Migrator(migrations: [try migration("0001_a.sql", ""), try migration("0001_b.sql", "")]) }
    }
}
