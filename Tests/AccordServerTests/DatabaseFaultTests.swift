import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

@Suite("A database that cannot take changes")
struct DatabaseFaultTests {
    @Test("a read-only database: sign-offs get 503 and change nothing, reads still work; writable again, the same server signs")
    func readOnlyDatabase() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await db.store.submitTask(String(plan.id), actor: "otto")
            let server = try await TestServer.shared()
            try await server.admin { _ = try await $0.execute("ALTER DATABASE \(db.name) SET default_transaction_read_only = on") }
            // A server started now: its connections open read-only, as on a standby or a full disk made read-only.
            let pool = PostgresPool(configuration: .init(conninfo: db.conninfo, maxConnections: 4))
            let store = Store(pool: pool, location: .url(db.conninfo), auditKey: testAuditKey, passwordCost: 4)
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let body = json(["password": apiPassword, "meaning": "approval"])
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/sign", method: .post, headers: bearer(tokens["bea"]), body: body) {
                    response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(object(response.body)["type"] as? String == "/problems/database-unavailable")
                    #expect(response.headers[.retryAfter] == "2")
                }
                try await client.execute(uri: "/api/v1/inbox", method: .get, headers: bearer(tokens["bea"])) { #expect($0.status == .ok) }
                #expect(try await db.store.signatures(of: String(plan.id), actor: "ada").isEmpty)
                // Writable again: the server's connections are replaced as they are found dead, and it signs.
                try await server.admin { connection in
                    _ = try await connection.execute("ALTER DATABASE \(db.name) RESET default_transaction_read_only")
                    _ = try await connection.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                        [db.name]
                    )
                }
                var status: HTTPResponse.Status = .serviceUnavailable
                for _ in 0..<20 where status != .ok {
                    try await client.execute(uri: "/api/v1/tasks/\(plan.id)/sign", method: .post, headers: bearer(tokens["bea"]), body: body) {
                        status = $0.status
                    }
                    if status != .ok { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(status == .ok)
            }
            #expect(try await db.store.signatures(of: String(plan.id), actor: "ada").count == 1)
        }
    }
}
