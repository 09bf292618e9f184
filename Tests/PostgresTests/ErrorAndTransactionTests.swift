import AccordTestSupport
import Foundation
import NIOConcurrencyHelpers
import Postgres
import Testing

@Suite("Errors carry SQLSTATE; transactions commit, roll back and retry")
struct ErrorAndTransactionTests {
    @Test("unique and foreign-key violations are recognisable, with the constraint's name")
    func sqlStateMapping() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript(
                    """
                    CREATE TABLE parent (id int PRIMARY KEY);
                    CREATE TABLE child (parent int CONSTRAINT child_parent_fk REFERENCES parent (id));
                    INSERT INTO parent VALUES (1);
                    """
                )
                let unique = await #expect(throws: PostgresError.self) { try await c.execute("INSERT INTO parent VALUES ($1)", [1]) }
                #expect(unique?.isUniqueViolation == true)
                #expect(unique?.sqlState == "23505")
                #expect(unique?.constraint == "parent_pkey")
                #expect(unique?.table == "parent")
                #expect(unique?.isForeignKeyViolation == false)
                let foreign = await #expect(throws: PostgresError.self) { try await c.execute("INSERT INTO child VALUES ($1)", [2]) }
                #expect(foreign?.isForeignKeyViolation == true)
                #expect(foreign?.constraint == "child_parent_fk")
                let syntax = await #expect(throws: PostgresError.self) { try await c.execute("SELEC 1") }
                #expect(syntax?.sqlState == "42601")
                // The description is for people: the server's message, not the SQL; debugDescription has the SQL.
                let division = await #expect(throws: PostgresError.self) { try await c.query("SELECT 1/0 AS hidden_column_name") }
                #expect(division?.sqlState == "22012")
                #expect(division?.description.contains("hidden_column_name") == false)
                #expect(division?.debugDescription.contains("hidden_column_name") == true)
                // The connection is still usable after errors.
                #expect(try await c.query("SELECT 1 AS one")[0].decode(Int.self, "one") == 1)
            }
        }
    }

    @Test("a transaction whose body throws is rolled back")
    func rollbackOnThrow() async throws {
        struct Abort: Error {}
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { try await $0.execute("CREATE TABLE t (v int)") }
            await #expect(throws: Abort.self) {
                try await db.pool.withTransaction { c in
                    try await c.execute("INSERT INTO t VALUES (1)")
                    throw Abort()
                }
            }
            // A failed statement inside the body rolls back the earlier ones too.
            await #expect(throws: PostgresError.self) {
                try await db.pool.withTransaction { c in
                    try await c.execute("INSERT INTO t VALUES (2)")
                    try await c.execute("INSERT INTO t VALUES ('not a number')")
                }
            }
            // A body that swallows a failed statement cannot commit half a transaction.
            await #expect(throws: PostgresError.self) {
                try await db.pool.withTransaction { c in
                    try await c.execute("INSERT INTO t VALUES (3)")
                    _ = try? await c.execute("SELECT 1/0")
                }
            }
            try await db.pool.withTransaction { c in try await c.execute("INSERT INTO t VALUES (4)") }
            let values = try await db.pool.withConnection { c in try await c.query("SELECT v FROM t").map { try $0.decode(Int.self, "v") } }
            #expect(values == [4])
        }
    }

    @Test("two SERIALIZABLE transactions forced into conflict both succeed through the retry")
    func serializableRetry() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript(
                    "CREATE TABLE doctors (name text PRIMARY KEY, on_call bool NOT NULL); INSERT INTO doctors VALUES ('a', true), ('b', true);"
                )
            }
            // Write skew: each reads both rows, then each writes a different row. Under SERIALIZABLE one
            // of them must fail with 40001; the retry then sees the other's write.
            let arrived = NIOLockedValueBox(0)
            let attempts = NIOLockedValueBox(0)
            @Sendable func body(_ me: String) async throws -> Int {
                try await db.pool.withTransaction(.serializable) { c in
                    let attempt = attempts.withLockedValue {
                        $0 += 1
                        return $0
                    }
                    let count = try await c.query("SELECT count(*) AS n FROM doctors WHERE on_call")[0].decode(Int.self, "n")
                    if attempt <= 2 {
                        // Both first attempts wait here until both have read.
                        arrived.withLockedValue { $0 += 1 }
                        while arrived.withLockedValue({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    try await c.execute("INSERT INTO doctors VALUES ($1, $2)", ["new-\(me)", count > 1])
                    return count
                }
            }
            async let first = body("x")
            async let second = body("y")
            let counts = try await [first, second]
            #expect(counts.sorted() == [2, 3])
            #expect(attempts.withLockedValue { $0 } >= 3)
            let total = try await db.pool.withConnection { try await $0.query("SELECT count(*) AS n FROM doctors")[0].decode(Int.self, "n") }
            #expect(total == 4)
        }
    }

    @Test("a deadlock victim is retried and both transactions complete")
    func deadlockRetry() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE acct (id int PRIMARY KEY, v int); INSERT INTO acct VALUES (1, 0), (2, 0);")
            }
            let locked = NIOLockedValueBox(0)
            let attempts = NIOLockedValueBox(0)
            @Sendable func transfer(_ first: Int, _ second: Int) async throws {
                try await db.pool.withTransaction { c in
                    let attempt = attempts.withLockedValue {
                        $0 += 1
                        return $0
                    }
                    try await c.execute("UPDATE acct SET v = v + 1 WHERE id = $1", [first])
                    if attempt <= 2 {
                        locked.withLockedValue { $0 += 1 }
                        while locked.withLockedValue({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    try await c.execute("UPDATE acct SET v = v + 1 WHERE id = $1", [second])
                }
            }
            async let a: Void = transfer(1, 2)
            async let b: Void = transfer(2, 1)
            _ = try await (a, b)
            #expect(attempts.withLockedValue { $0 } >= 3)
            let sum = try await db.pool.withConnection { try await $0.query("SELECT sum(v)::bigint AS s FROM acct")[0].decode(Int.self, "s") }
            #expect(sum == 4)
        }
    }
}
