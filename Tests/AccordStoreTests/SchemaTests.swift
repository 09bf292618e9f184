import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

@Suite("The schema")
struct SchemaTests {
    @Test("the binary carries sql/, and a migrated database is at its last version")
    func embeddedMigrations() async throws {
        let migrations = try Store.migrations()
        #expect(migrations.first?.name == "0001_core.sql")
        #expect(migrations.map(\.version) == Array(1...migrations.count))
        try await TestDatabase.with { db in
            let plan = try await db.store.migrationPlan()
            #expect(plan.pending.isEmpty)
            #expect(plan.currentVersion == migrations.count)
        }
    }

    @Test("the audit log refuses UPDATE, DELETE and TRUNCATE, and INSERT still works")
    func auditLogIsAppendOnly() async throws {
        try await TestDatabase.with { db in
            try await db.pool.withConnection { c in
                try await c.execute("INSERT INTO accord.audit_chain (chain) VALUES ('test')")
                try await c.execute(
                    """
                    INSERT INTO accord.audit_entry (chain, seq, actor, action, hash)
                    VALUES ('test', 1, 'system', 'test.append', $1)
                    """,
                    [[UInt8](repeating: 7, count: 32)]
                )
                for statement in [
                    "UPDATE accord.audit_entry SET actor = 'mallory'",
                    "DELETE FROM accord.audit_entry",
                    "TRUNCATE accord.audit_entry",
                ] {
                    let error = await #expect(throws: PostgresError.self, "\(statement)") { try await c.execute(statement) }
                    #expect(error?.sqlState == "AC001")
                    #expect(error?.message.contains("append-only") == true)
                }
                let actor = try await c.query("SELECT actor FROM accord.audit_entry WHERE chain = 'test' AND seq = 1")[0].decode(String.self, "actor")
                #expect(actor == "system")
            }
        }
    }

    @Test("audit entries are checked: a hash is 32 bytes, only the first entry lacks a previous hash")
    func auditConstraints() async throws {
        try await TestDatabase.with { db in
            try await db.pool.withConnection { c in
                try await c.execute("INSERT INTO accord.audit_chain (chain) VALUES ('check')")
                let short = await #expect(throws: PostgresError.self) {
                    try await c.execute(
                        "INSERT INTO accord.audit_entry (chain, seq, actor, action, hash) VALUES ('check', 1, 'system', 'x', $1)",
                        [[UInt8](repeating: 1, count: 31)]
                    )
                }
                #expect(short?.constraint == "audit_entry_hash_sha256")
                let orphan = await #expect(throws: PostgresError.self) {
                    try await c.execute(
                        "INSERT INTO accord.audit_entry (chain, seq, actor, action, hash) VALUES ('check', 2, 'system', 'x', $1)",
                        [[UInt8](repeating: 1, count: 32)]
                    )
                }
                #expect(orphan?.constraint == "audit_entry_first_has_no_prev")
                let firstWithPrevious = await #expect(throws: PostgresError.self) {
                    try await c.execute(
                        "INSERT INTO accord.audit_entry (chain, seq, actor, action, prev_hash, hash) VALUES ('check', 1, 'system', 'x', $1, $1)",
                        [[UInt8](repeating: 1, count: 32)]
                    )
                }
                #expect(firstWithPrevious?.constraint == "audit_entry_first_has_no_prev")
                let unknownChain = await #expect(throws: PostgresError.self) {
                    try await c.execute(
                        "INSERT INTO accord.audit_entry (chain, seq, actor, action, hash) VALUES ('nope', 1, 'system', 'x', $1)",
                        [[UInt8](repeating: 1, count: 32)]
                    )
                }
                #expect(unknownChain?.isForeignKeyViolation == true)
            }
        }
    }
}

@Suite("Choosing the database")
struct DatabaseLocationTests {
    @Test("--database, then DATABASE_URL, then PG* variables, then the embedded cluster")
    func precedence() {
        let env = ["DATABASE_URL": "postgres://db/a", "PGHOST": "elsewhere", "ACCORD_HOME": "/srv/accord"]
        #expect(DatabaseLocation.resolve(flag: "host=x", environment: env) == .url("host=x"))
        #expect(DatabaseLocation.resolve(flag: nil, environment: env) == .url("postgres://db/a"))
        #expect(DatabaseLocation.resolve(flag: nil, environment: ["PGSERVICE": "accord"]) == .environment)
        #expect(
            DatabaseLocation.resolve(flag: nil, environment: ["PGPASSWORD": "only-a-password", "ACCORD_HOME": "/srv/accord"])
                == .embedded(home: URL(fileURLWithPath: "/srv/accord"))
        )
        #expect(
            DatabaseLocation.resolve(flag: "", environment: ["ACCORD_HOME": "/srv/accord"]) == .embedded(home: URL(fileURLWithPath: "/srv/accord"))
        )
    }

    @Test("summaries never show a password")
    func redaction() {
        #expect(redactPassword("postgres://accord:s3cret@db:5432/accord") == "postgres://accord:***@db:5432/accord")
        #expect(redactPassword("host=db password=s3cret dbname=a") == "host=db password=*** dbname=a")
        #expect(redactPassword("host=db password='s3 cret' dbname=a") == "host=db password=*** dbname=a")
        #expect(!DatabaseLocation.url("postgresql://u:hunter2@h/d").summary.contains("hunter2"))
    }
}
