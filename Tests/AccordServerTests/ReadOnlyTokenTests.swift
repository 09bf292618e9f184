import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Read-only tokens: they read what their person may read and change nothing")
struct ReadOnlyTokenTests {
    @Test("a read-only token reads; every change with it is 403 problem+json and leaves nothing; its listing says so")
    func readOnly() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await seededAPI(store)
            let (listed, token) = try await store.createToken(
                for: "otto",
                name: "assistant",
                expires: nil,
                actor: "otto",
                proof: .password(apiPassword),
                readOnly: true
            )
            #expect(listed.readOnly)
            let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for path in ["/api/v1/me", "/api/v1/inbox", "/api/v1/tasks/\(plan.id)", "/api/v1/programs/api"] {
                    let response = try await client.execute(uri: path, method: .get, headers: bearer(token))
                    #expect(response.status == .ok, "\(path): \(response.status)")
                }
                let before = try await store.auditLog(program: "api", actor: "ada").count
                let tokensBefore = try await store.tokens(actor: "otto").count
                let writes: [(HTTPRequest.Method, String)] = [
                    (.post, "/api/v1/tasks/\(plan.id)/start"), (.post, "/api/v1/tasks/\(plan.id)/assign"),
                    (.post, "/api/v1/me/tokens"), (.patch, "/api/v1/me/notifications"), (.delete, "/api/v1/session"),
                ]
                for (method, path) in writes {
                    let response = try await client.execute(
                        uri: path,
                        method: method,
                        headers: bearer(token),
                        body: json(["assignee": "otto", "name": "x", "password": apiPassword])
                    )
                    #expect(response.status == .forbidden, "\(method) \(path): \(response.status)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(String(buffer: response.body).contains("read-only"))
                }
                #expect(try await store.auditLog(program: "api", actor: "ada").count == before, "nothing changed")
                #expect(try await store.tokens(actor: "otto").count == tokensBefore, "no token was made with it")
            }
        }
    }
}
