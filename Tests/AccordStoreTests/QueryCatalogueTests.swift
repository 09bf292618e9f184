import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// The SQL ↔ Swift contract, checked against the real schema: a renamed column, a reordered or
/// mistyped parameter, a placeholder without a parameter fails here, before any release.
@Suite("The engine's typed queries")
struct StoreQueryCatalogueTests {
    @Test("every query prepares with its Swift parameter types and its row decoder fits its columns")
    func everyQueryFitsTheSchema() async throws {
        try await TestDatabase.with { db in
            try await db.store.pool.withConnection { connection in
                var problems: [String] = []
                for query in StoreQueries.all {
                    problems += try await query.check(on: connection)
                }
                #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            }
        }
    }

    @Test("query names are unique, so pg_stat_statements and the logs name one query each")
    func namesAreUnique() {
        let names = StoreQueries.all.compactMap(\.statement.name)
        #expect(names.count == StoreQueries.all.count, "every query has a name")
        #expect(Set(names).count == names.count, "duplicates: \(Dictionary(grouping: names) { $0 }.filter { $1.count > 1 }.keys.sorted())")
    }

    @Test("every query declared in the engine's sources is in the catalogue")
    func catalogueIsComplete() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/AccordStore")
        var declared = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            declared += text.components(separatedBy: "= PostgresQuery<").count - 1
            declared += text.components(separatedBy: "= PostgresCommand<").count - 1
        }
        #expect(declared == StoreQueries.all.count)
    }
}
