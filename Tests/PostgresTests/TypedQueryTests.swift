import AccordTestSupport
import Foundation
import Postgres
import Testing

/// A note row, as the typed queries below decode it.
struct Note: Equatable {
    var id: Int64
    var text: String?
    var at: Date
}

@Suite("Typed queries: parameters by type, rows by decoder, checked against the schema")
struct TypedQueryTests {
    static let insert = PostgresQuery<Int64, String?, Date, Int64>(
        "note_insert",
        "INSERT INTO note (id, text, at) VALUES ($1, $2, $3) RETURNING id"
    ) { try $0.decode(Int64.self, "id") }
    static let byID = PostgresQuery<Int64, Note>("note_by_id", "SELECT id, text, at FROM note WHERE id = $1") {
        Note(id: try $0.decode(Int64.self, "id"), text: try $0.decode(String?.self, "text"), at: try $0.decode(Date.self, "at"))
    }
    static let touch = PostgresCommand<Int64>("note_touch", "UPDATE note SET at = now() WHERE id = $1")
    static let count = PostgresQuery<Int>("note_count", "SELECT count(*) AS n FROM note") { try $0.decode(Int.self, "n") }

    @Test("a typed query binds its parameters, decodes its rows, and pipelines into a tuple")
    func runs() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE note (id bigint PRIMARY KEY, text text, at timestamptz NOT NULL)")
                let at = Date(timeIntervalSince1970: 1_800_000_000)
                #expect(try await c.queryOne(Self.insert, 1, "first", at) == 1)
                #expect(try await c.queryOne(Self.insert, 2, nil, at) == 2, "NULL goes with its declared type")
                #expect(try await c.queryFirst(Self.byID, 2) == Note(id: 2, text: nil, at: at))
                #expect(try await c.queryFirst(Self.byID, 3) == nil)
                #expect(try await c.execute(Self.touch, 1) == 1)
                let (one, all) = try await c.pipeline(Self.byID.bind(1), Self.count.bind())
                #expect(one.first?.text == "first" && all == [2])
                let names = try await c.query("SELECT name FROM pg_prepared_statements").map { try $0.decode(String.self, "name") }
                #expect(names.contains("accord_note_by_id") && names.contains("accord_note_insert"), "\(names)")
            }
        }
    }

    @Test("the check finds a renamed column, a mistyped parameter and a placeholder the Swift side does not pass")
    func checkFailsOnDrift() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.executeScript("CREATE TABLE note (id bigint PRIMARY KEY, text text, at timestamptz NOT NULL)")
                for query in [Self.insert, Self.count] as [any PostgresCheckable] {
                    #expect(try await query.check(on: c).isEmpty)
                }
                #expect(try await Self.byID.check(on: c).isEmpty)
                let renamed = PostgresQuery<Int64, Note>("note_renamed", "SELECT id, text AS body, at FROM note WHERE id = $1") {
                    Note(id: try $0.decode(Int64.self, "id"), text: try $0.decode(String?.self, "text"), at: try $0.decode(Date.self, "at"))
                }
                #expect(try await renamed.check(on: c).first?.contains("no column 'text'") == true)
                let retyped = PostgresQuery<Int64, Int64>("note_retyped", "SELECT text FROM note WHERE id = $1") {
                    try $0.decode(Int64.self, "text")
                }
                #expect(try await retyped.check(on: c).first?.contains("cannot be read as") == true)
                let wrongParameter = PostgresCommand<Bool>("note_wrong_parameter", "UPDATE note SET at = now() WHERE id = $1")
                #expect(try await wrongParameter.check(on: c).first?.contains("refuses it") == true)
                let missing = PostgresCommand<Int64>("note_missing", "UPDATE note SET text = $2 WHERE id = $1")
                #expect(try await missing.check(on: c).first?.contains("$1…$2") == true)
            }
        }
    }
}
