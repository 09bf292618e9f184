import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Postgres
import Testing

@Suite("Health and readiness")
struct HealthTests {
    @Test("/healthz answers without the database; /readyz answers 200 when the database does")
    func ready() async throws {
        try await TestDatabase.with { db in
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "ok\n")
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test("/readyz answers 503 problem+json when the database does not answer; /healthz stays 200")
    func notReady() async throws {
        let pool = PostgresPool(configuration: .init(conninfo: "host=/nonexistent/accord port=5432 dbname=x connect_timeout=1", maxConnections: 1))
        let store = Store(pool: pool, location: .url("host=/nonexistent/accord"), auditKey: testAuditKey)
        let app = try makeApplication(store: store, configuration: ServerConfiguration(readinessTimeout: .seconds(1)))
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONDecoder().decode(Problem.self, from: Data(buffer: response.body))
                #expect(problem.type == "/problems/database-unavailable")
                #expect(problem.status == 503)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
