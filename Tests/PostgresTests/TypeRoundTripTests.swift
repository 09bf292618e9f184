import AccordTestSupport
import Foundation
import Postgres
import Testing

@Suite("Values round-trip through a real server")
struct TypeRoundTripTests {
    @Test("every supported type, NULL included")
    func everyType() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.execute(
                    """
                    CREATE TABLE t (b boolean, i4 integer, i8 bigint, f8 double precision, s text, at timestamptz,
                                    id uuid, data bytea, doc jsonb, j json)
                    """
                )
                let id = UUID()
                let at = Date(timeIntervalSince1970: 1_764_000_000.123456)
                let text = "Prüfung ✓ — 審査 🧾 'quoted' \\ back"
                let bytes: [UInt8] = [0, 1, 0, 255, 0, 0x5c, 0x78]
                try await c.execute(
                    "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json)",
                    [true, Int32.min, Int64.max, -0.1, text, at, id, bytes, PostgresJSON(text: #"{"a": [1, "ü"]}"#), #"{"k": 1}"#]
                )
                try await c.execute(
                    "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    [nil, nil, Int64.min, nil, nil, nil, nil, nil, nil, nil]
                )
                let rows = try await c.query("SELECT * FROM t ORDER BY i8 DESC")
                #expect(rows.count == 2)
                let r = rows[0]
                #expect(try r.decode(Bool.self, "b") == true)
                #expect(try r.decode(Int32.self, "i4") == Int32.min)
                #expect(try r.decode(Int64.self, "i8") == Int64.max)
                #expect(try r.decode(Double.self, "f8") == -0.1)
                #expect(try r.decode(String.self, "s") == text)
                #expect(try r.decode(Date.self, "at") == at || abs(try r.decode(Date.self, "at").timeIntervalSince(at)) < 0.000_001)
                #expect(try r.decode(UUID.self, "id") == id)
                #expect(try r.decode([UInt8].self, "data") == bytes)
                #expect(try r.decode(PostgresJSON.self, "doc").text == #"{"a": [1, "ü"]}"#)
                #expect(try r.decode(PostgresJSON.self, "j").text == #"{"k": 1}"#)

                let n = rows[1]
                #expect(try n.decode(Int64.self, "i8") == Int64.min)
                #expect(try n.decode(Bool?.self, "b") == nil)
                #expect(try n.decode(Int32?.self, "i4") == nil)
                #expect(try n.decode(String?.self, "s") == nil)
                #expect(try n.decode(Date?.self, "at") == nil)
                #expect(try n.decode(UUID?.self, "id") == nil)
                #expect(try n.decode([UInt8]?.self, "data") == nil)
                #expect(try n.decode(PostgresJSON?.self, "doc") == nil)
            }
        }
    }

    @Test("timestamptz keeps microseconds, and the server's now() reads back as UTC")
    func timestampPrecision() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                for micros in [0, 1, 999_999, 123_456] as [Int64] {
                    let date = Date(timeIntervalSince1970: 1_700_000_000 + Double(micros) / 1_000_000)
                    let row = try await c.query(
                        "SELECT $1::timestamptz AS at, extract(microseconds FROM $1::timestamptz)::bigint % 1000000 AS us",
                        [date]
                    )[0]
                    #expect(try row.decode(Int64.self, "us") == micros)
                    let back = try row.decode(Date.self, "at")
                    #expect(abs(back.timeIntervalSince(date)) < 0.000_000_5)
                }
                let old = try await c.query("SELECT '1969-07-20 20:17:40.000001+00'::timestamptz AS at")[0].decode(Date.self, "at")
                #expect(abs(old.timeIntervalSince1970 - (-14_182_939.999_999)) < 0.000_001)
                let server = try await c.query("SELECT now() AS at")[0].decode(Date.self, "at")
                #expect(abs(server.timeIntervalSinceNow) < 60)
            }
        }
    }

    @Test("text with every byte value but zero, and bytea of 1 MiB with zeros")
    func largeValues() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                let text = String(decoding: (1...127).map { UInt8($0) }, as: UTF8.self) + "ñ€𝄞"
                #expect(try await c.query("SELECT $1::text AS s", [text])[0].decode(String.self, "s") == text)
                let blob = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 7 == 0 ? 0 : $0) }
                let back = try await c.query("SELECT $1::bytea AS b, length($1::bytea) AS n", [blob])[0]
                #expect(try back.decode(Int.self, "n") == blob.count)
                #expect(try back.decode([UInt8].self, "b") == blob)
            }
        }
    }

    @Test("asking for the wrong type or for a NULL as non-optional names the column")
    func decodingErrors() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                let row = try await c.query("SELECT 'x'::text AS label, NULL::int AS missing, 1::bigint AS big")[0]
                let wrongType = #expect(throws: PostgresError.self) { try row.decode(Int.self, "label") }
                #expect(wrongType?.code == .decoding)
                #expect(wrongType?.message.contains("'label'") == true)
                #expect(wrongType?.message.contains("text") == true)
                let null = #expect(throws: PostgresError.self) { try row.decode(Int.self, "missing") }
                #expect(null?.message.contains("NULL") == true)
                let narrow = #expect(throws: PostgresError.self) { try row.decode(Int32.self, "big") }
                #expect(narrow?.message.contains("bigint") == true)
                let absent = #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
                #expect(absent?.message.contains("label, missing, big") == true)
            }
        }
    }

    @Test("parameters are never spliced into SQL")
    func injectionIsInert() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                try await c.execute("CREATE TABLE victims (name text)")
                let hostile = "x'); DROP TABLE victims; --"
                try await c.execute("INSERT INTO victims VALUES ($1)", [hostile])
                let rows = try await c.query("SELECT name FROM victims WHERE name = $1", [hostile])
                #expect(try rows[0].decode(String.self, "name") == hostile)
            }
        }
    }
}
