import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Setting a program up through the API")
struct SetupAPITests {
    @Test("workflows, programs, role holders, AI systems, upgrade and reinstate say what the pages say; non-admins are refused")
    func setupThroughTheAPI() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let ada = bearer(tokens["ada"])
            try await app.test(.router) { client in
                // An invalid workflow: 422, each problem at its line and column; nothing stored.
                let before = try await db.store.workflows().count
                try await client.execute(
                    uri: "/api/v1/workflows?filename=broken.yaml",
                    method: .post,
                    headers: ada,
                    body: ByteBuffer(string: brokenWorkflow)
                ) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let problems = object(response.body)["problems"] as? [[String: Any]] ?? []
                    #expect(problems.count >= 2)
                    #expect(problems.allSatisfy { ($0["line"] as? Int ?? 0) > 1 && ($0["column"] as? Int ?? 0) >= 1 && $0["message"] is String })
                }
                try await client.execute(
                    uri: "/api/v1/workflows",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: ByteBuffer(string: apiWorkflowV2)
                ) {
                    #expect($0.status == .forbidden)
                }
                #expect(try await db.store.workflows().count == before)
                try await client.execute(uri: "/api/v1/workflows", method: .post, headers: ada, body: ByteBuffer(string: apiWorkflowV2)) { response in
                    #expect(response.status == .created)
                    #expect(object(response.body)["version"] as? Int == 2)
                }
                try await client.execute(uri: "/api/v1/workflows?per_page=1&page=2", method: .get, headers: bearer(tokens["eve"])) { response in
                    let page = object(response.body)
                    #expect(page["total"] as? Int == before + 1)
                    #expect((page["items"] as? [[String: Any]])?.count == 1)
                }
                // Start a program: administrators only; a duplicate slug is a conflict on the field.
                let start = json(["workflow": "api-test", "version": 2, "title": "Through the API", "slug": "thru", "starts_on": "2026-02-02"])
                try await client.execute(uri: "/api/v1/programs", method: .post, headers: bearer(tokens["otto"]), body: start) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/programs", method: .post, headers: ada, body: start) { #expect($0.status == .created) }
                try await client.execute(uri: "/api/v1/programs", method: .post, headers: ada, body: start) { response in
                    #expect(response.status == .conflict)
                    #expect(object(response.body)["field"] as? String == "slug")
                }
                // Role holders.
                try await client.execute(
                    uri: "/api/v1/programs/thru/roles/manager/holders",
                    method: .post,
                    headers: ada,
                    body: json(["handle": "otto"])
                ) {
                    #expect((object($0.body)["members"] as? [String]) == ["otto"])
                }
                try await client.execute(
                    uri: "/api/v1/programs/thru/roles/board/holders",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["handle": "otto"])
                ) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/api/v1/programs/thru/roles", method: .get, headers: bearer(tokens["otto"])) { response in
                    let roles = object(response.body)["items"] as? [[String: Any]] ?? []
                    #expect(roles.first { $0["role"] as? String == "manager" }?["holders"] as? [String] == ["otto"])
                    #expect(roles.first { $0["role"] as? String == "board" }?["grantsAuthority"] as? Bool == true)
                }
                try await client.execute(uri: "/api/v1/programs/thru/roles/manager/holders/otto", method: .delete, headers: ada) {
                    #expect((object($0.body)["members"] as? [String]) == [])
                }
                try await client.execute(uri: "/api/v1/programs/thru/roles/manager/holders/otto", method: .delete, headers: ada) {
                    #expect($0.status == .notFound)
                }
                // AI systems: add, a bad import stores nothing and names row and column, a good one adds all.
                try await client.execute(
                    uri: "/api/v1/programs/thru/systems",
                    method: .post,
                    headers: ada,
                    body: json(["name": "Chatbot", "role": "provider", "risk": "high", "annex_iii": 4])
                ) { response in
                    #expect(response.status == .created)
                    #expect(object(response.body)["tasks"] as? Int == 1)
                }
                try await client.execute(
                    uri: "/api/v1/programs/thru/systems",
                    method: .post,
                    headers: ada,
                    body: json(["name": "X", "role": "vendor"])
                ) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(object(response.body)["field"] as? String == "role")
                }
                let csv: HTTPFields = [.authorization: "Bearer \(tokens["ada"]!)", .contentType: "text/csv"]
                try await client.execute(
                    uri: "/api/v1/programs/thru/systems/import",
                    method: .post,
                    headers: csv,
                    body: ByteBuffer(string: "name,role,risk\nScreening,provider,high\nForecast,deployer,extreme\n")
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect((object(response.body)["detail"] as? String ?? "").contains("body:3: column 3 (risk)"))
                }
                try await client.execute(uri: "/api/v1/programs/thru/systems", method: .get, headers: ada) {
                    #expect(object($0.body)["total"] as? Int == 1)
                }
                try await client.execute(
                    uri: "/api/v1/programs/thru/systems/import",
                    method: .post,
                    headers: csv,
                    body: ByteBuffer(string: "name,role,risk\nScreening,provider,high\nForecast,deployer,minimal\n")
                ) { response in
                    #expect(response.status == .created)
                    #expect((object(response.body)["items"] as? [Any])?.count == 2)
                }
                try await client.execute(uri: "/api/v1/programs/thru/systems?format=csv", method: .get, headers: ada) { response in
                    #expect(response.headers[.init("X-Total-Count")!] == "3")
                }
                try await client.execute(uri: "/api/v1/programs/thru/systems/screening", method: .get, headers: ada) { response in
                    let body = object(response.body)
                    #expect((body["system"] as? [String: Any])?["riskClass"] as? String == "high")
                    let tasks = (body["tasks"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
                    #expect(tasks.map { $0["ref"] as? String } == ["thru/fria@screening"])
                }
                try await client.execute(uri: "/api/v1/programs/thru/systems/screening", method: .get, headers: bearer(tokens["eve"])) {
                    #expect($0.status == .notFound)
                }
                // Upgrade: the dry run writes nothing, then it applies.
                try await client.execute(uri: "/api/v1/programs/api/upgrade?dry_run=true", method: .post, headers: ada, body: json(["version": 2])) {
                    response in
                    let plan = object(response.body)
                    #expect(plan["applied"] as? Bool == false)
                    #expect(plan["add"] as? [String] == ["api/review"])
                }
                #expect(try await db.store.program("api", actor: "ada").summary.workflowVersion == 1)
                try await client.execute(
                    uri: "/api/v1/programs/api/upgrade",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["version": 2])
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/programs/api/upgrade", method: .post, headers: ada, body: json(["version": 2])) {
                    #expect(object($0.body)["applied"] as? Bool == true)
                }
                #expect(try await db.store.program("api", actor: "ada").summary.workflowVersion == 2)
                // Reinstate.
                let later = try #require(try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "later" })
                _ = try await db.store.markNotApplicable(String(later.id), reason: "not ours", actor: "ada")
                try await client.execute(uri: "/api/v1/tasks/\(later.id)/reinstate", method: .post, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/tasks/\(later.id)/reinstate", method: .post, headers: ada) { response in
                    #expect(object(response.body)["state"] as? String == "blocked")
                }
                try await client.execute(uri: "/api/v1/tasks/\(later.id)/reinstate", method: .post, headers: ada) { #expect($0.status == .conflict) }
            }
        }
    }
}
