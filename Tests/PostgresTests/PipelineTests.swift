import AccordTestSupport
import Foundation
import Postgres
import Testing

@Suite("Pipelines and deferred statements: one round trip, the same outcomes")
struct PipelineTests {
    @Test("a pipeline returns every result in order; each statement sees the ones before it")
    func pipelineOrder() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE item (id int PRIMARY KEY, note text)")
                let results = try await c.pipeline([
                    ("INSERT INTO item VALUES ($1, $2)", [1, "one"]),
                    ("INSERT INTO item VALUES ($1, $2)", [2, nil]),
                    ("SELECT count(*)::int AS n FROM item", []),
                ])
                #expect(results.count == 3)
                #expect(results[0].affectedRows == 1)
                #expect(try results[2][0].decode(Int.self, "n") == 2)
            }
        }
    }

    @Test("an error in a pipeline is thrown, the statements after it do not run, and the connection stays usable")
    func pipelineError() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE item (id int PRIMARY KEY)")
                let error = await #expect(throws: PostgresError.self) {
                    _ = try await c.pipeline([
                        ("INSERT INTO item VALUES ($1)", [1]),
                        ("INSERT INTO item VALUES ($1)", [1]),
                        ("INSERT INTO item VALUES ($1)", [3]),
                    ])
                }
                #expect(error?.isUniqueViolation == true)
                // Outside a transaction the pipeline is one implicit transaction: nothing of it stays.
                #expect(try await c.query("SELECT count(*)::int AS n FROM item")[0].decode(Int.self, "n") == 0)
            }
        }
    }

    @Test("deferred writes commit with the transaction, or fail it: nothing half-done, the pool keeps working")
    func deferredInTransaction() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { try await $0.executeScript("CREATE TABLE item (id int PRIMARY KEY)") }
            try await db.pool.withTransaction { c in
                try await c.executeDeferred("INSERT INTO item VALUES ($1)", [1])
                try await c.executeDeferred("INSERT INTO item VALUES ($1)", [2])
            }
            // A deferred statement that fails fails the COMMIT it travels with; the earlier ones roll back.
            let error = await #expect(throws: PostgresError.self) {
                try await db.pool.withTransaction { c in
                    try await c.executeDeferred("INSERT INTO item VALUES ($1)", [3])
                    try await c.executeDeferred("INSERT INTO item VALUES ($1)", [1])
                }
            }
            #expect(error?.isUniqueViolation == true)
            // A deferred statement that fails is reported by the next statement read in the transaction.
            await #expect(throws: PostgresError.self) {
                try await db.pool.withTransaction { c in
                    try await c.executeDeferred("INSERT INTO item VALUES ($1)", [2])
                    _ = try await c.query("SELECT 1 AS one")
                    Issue.record("the failed deferred insert should have been thrown by the read")
                }
            }
            // A body that throws discards what it deferred.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await db.pool.withTransaction { c in
                    try await c.executeDeferred("INSERT INTO item VALUES ($1)", [4])
                    throw Refused()
                }
            }
            let ids = try await db.pool.withConnection { c in
                try await c.query("SELECT id FROM item ORDER BY id").map { try $0.decode(Int.self, "id") }
            }
            #expect(ids == [1, 2])
            // Outside a transaction a deferred statement runs at once.
            try await db.pool.withConnection { c in
                try await c.executeDeferred("INSERT INTO item VALUES ($1)", [5])
                #expect(try await c.query("SELECT count(*)::int AS n FROM item WHERE id = 5")[0].decode(Int.self, "n") == 1)
            }
        }
    }
}
