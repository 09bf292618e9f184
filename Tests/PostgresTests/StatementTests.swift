import AccordTestSupport
import Foundation
import Postgres
import Testing

@Suite("Named statements, planning and array parameters")
struct StatementTests {
    @Test("a named statement is prepared under its name; a per-call one is never prepared; the SQL's text decides nothing")
    func namesAndPlanning() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE item (id int PRIMARY KEY, note text)")
                _ = try await c.query(.named("item_by_id", "SELECT note FROM item WHERE id = $1"), [1])
                _ = try await c.query(.perCall("item_filtered", "SELECT note FROM item WHERE ($1::text IS NULL OR note = $1)"), [String?.none])
                // Before, any text with "IS NULL OR" was planned per call: now only the flag decides.
                _ = try await c.query("SELECT note FROM item WHERE note IS NULL OR id = $1", [2])
                let prepared = try await c.query("SELECT name, statement FROM pg_prepared_statements ORDER BY name").map {
                    (try $0.decode(String.self, "name"), try $0.decode(String.self, "statement"))
                }
                #expect(prepared.contains { $0.0 == "accord_item_by_id" && $0.1 == "SELECT note FROM item WHERE id = $1" }, "\(prepared)")
                #expect(!prepared.contains { $0.1.contains("item_filtered") || $0.1.contains("$1::text IS NULL OR note") })
                #expect(prepared.contains { $0.1 == "SELECT note FROM item WHERE note IS NULL OR id = $1" })
                // The same name with other parameter types is a second statement, never a clash.
                _ = try await c.query(.named("item_by_id", "SELECT note FROM item WHERE id = $1"), ["1"])
                #expect(
                    try await c.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'accord_item_by_id%'")[0].decode(
                        Int.self,
                        "n"
                    ) == 2
                )
            }
        }
    }

    @Test("arrays go in PostgreSQL's binary format: quotes, backslashes, commas, braces, NULL-looking text and empty arrays pass unchanged")
    func arrays() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                let texts = ["plain", "with \"quotes\"", "back\\slash", "a,b", "{braces}", "NULL", "", "ünïcödé"]
                let echoed = try await c.query("SELECT unnest($1::text[]) AS t", [PostgresArray(texts)]).map { try $0.decode(String.self, "t") }
                #expect(echoed == texts)
                let numbers: [Int64] = [1, -2, Int64.max]
                #expect(
                    try await c.query("SELECT unnest($1::bigint[]) AS n", [PostgresArray(numbers)]).map { try $0.decode(Int64.self, "n") } == numbers
                )
                #expect(try await c.query("SELECT cardinality($1::text[]) AS n", [PostgresArray([String]())])[0].decode(Int.self, "n") == 0)
                #expect(try await c.query("SELECT 'b' = ANY($1) AS hit", [PostgresArray(["a", "b"])])[0].decode(Bool.self, "hit"))
            }
        }
    }
}
