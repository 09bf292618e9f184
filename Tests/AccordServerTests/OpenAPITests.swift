import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import Testing
import Yams

@Suite("The OpenAPI document")
struct OpenAPITests {
    @Test("every /api/v1 route is documented, and every documented operation is a route")
    func routesAgree() async throws {
        let pool = unreachablePool()
        let store = Store(pool: pool, location: .url("host=/nonexistent"), auditKey: testAuditKey)
        let router = try makeRouter(store: store, configuration: ServerConfiguration())
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" }.filter { $0.contains(" /api/v1/") })
        let document = try #require(try Yams.load(yaml: openAPIDocument) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any])?.keys ?? [:].keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(!routes.isEmpty)
        #expect(routes.subtracting(documented).isEmpty, "routes missing from the document: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not routed: \(documented.subtracting(routes).sorted())")
        try await pool.close()
    }

    @Test("the document is served at /api/openapi.yaml")
    func served() async throws {
        let pool = unreachablePool()
        let store = Store(pool: pool, location: .url("host=/nonexistent"), auditKey: testAuditKey)
        let app = try makeApplication(store: store, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == openAPIDocument)
            }
        }
    }
}

/// A real pool aimed at no server: these tests only inspect routes and never query.
func unreachablePool() -> PostgresPool {
    PostgresPool(configuration: .init(conninfo: "host=/nonexistent/accord dbname=none connect_timeout=1", maxConnections: 1))
}
