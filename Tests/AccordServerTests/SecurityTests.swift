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
import Yams

@Suite("Attackers: the authorisation matrix and hostile requests")
struct SecurityTests {
    /// Every documented operation × {no token, a malformed token, an expired token, a revoked token, a
    /// member of another program only, a person in no program}, aimed at the objects of program "api":
    /// only 401/403/404 (or, on a collection, 200 without a trace of "api"), never 5xx, never a change.
    @Test("every endpoint × six callers who may not see program 'api': 401/403/404 only, never its data")
    func authorisationMatrix() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            var tokens = try await seededAPI(store)
            _ = try await store.addPerson(handle: "nora", name: "Nora Nobody", email: nil, admin: false, password: apiPassword, actor: "ada")
            tokens["nora"] = try await store.createToken(for: "nora", name: "t", expires: nil, actor: "nora", proof: .password(apiPassword)).1
            _ = try await store.addPerson(handle: "rex", name: "Rex Revoked", email: nil, admin: false, password: apiPassword, actor: "ada")
            _ = try await store.bindRole(program: "api", role: "board", handles: ["rex"], actor: "ada")
            let revoked = try await store.createToken(for: "rex", name: "t", expires: nil, actor: "rex", proof: .password(apiPassword)).1
            try await store.revokeToken(try await store.tokens(actor: "rex").first!.id, actor: "rex")
            _ = try await store.addPerson(handle: "exp", name: "Ex Pired", email: nil, admin: false, password: apiPassword, actor: "ada")
            _ = try await store.bindRole(program: "api", role: "board", handles: ["exp"], actor: "ada")
            let expired = try await store.createToken(for: "exp", name: "t", expires: nil, actor: "exp", proof: .password(apiPassword)).1
            try await db.pool.withConnection { connection in
                _ = try await connection.execute(
                    """
                    UPDATE accord.api_token SET expires_at = now() - interval '1 day' WHERE person_id = (SELECT id FROM accord.person WHERE handle = 'exp')
                    """
                )
            }
            let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            let evidence = try await store.addEvidence(
                to: String(plan.id),
                fileName: "secret-plan.txt",
                bytes: Array("the api plan".utf8),
                title: "Secret plan",
                actor: "otto"
            )
            _ = try await store.submitTask(String(plan.id), actor: "otto")
            // Other people's session and token, aimed at through one's own /me routes.
            let adaSession = try await store.login(handle: "ada", password: apiPassword, address: nil)
            let adaSessionID = try #require(try await store.ownSessions(actor: "ada", currentCookie: adaSession.cookieToken).first?.id)
            let adaTokenID = try #require(try await store.tokens(actor: "ada", ownOnly: true).first?.id)
            let before = try await db.pool.withConnection {
                try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
            }

            let document = try #require(try Yams.load(yaml: openAPIDocument) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            var operations: [(method: HTTPRequest.Method, path: String, collection: Bool)] = []
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                let item = (item as? [String: Any]) ?? [:]
                for method in item.keys.sorted() where ["get", "post", "put", "patch", "delete"].contains(method) {
                    // Open operations (`security: []`: logging in, using a password link) have their own tests.
                    if let security = (item[method] as? [String: Any])?["security"] as? [Any], security.isEmpty { continue }
                    let concrete = path.replacingOccurrences(of: "{program}", with: "api").replacingOccurrences(of: "{task}", with: String(plan.id))
                        .replacingOccurrences(of: "{evidence}", with: String(evidence.id)).replacingOccurrences(of: "{kind}", with: "status")
                        .replacingOccurrences(of: "{handle}", with: "otto").replacingOccurrences(of: "{session}", with: String(adaSessionID))
                        .replacingOccurrences(of: "{token}", with: String(adaTokenID))
                        .replacingOccurrences(of: "{role}", with: "board").replacingOccurrences(of: "{system}", with: "chatbot")
                        .replacingOccurrences(of: "{challenge}", with: "0b7e4c2a-5d1f-4f0e-9a55-3c1d2b6e8f90")
                    // A well-formed request, so that what is tested is who may, not what is valid.
                    let query = method == "post" && path.hasSuffix("/evidence") ? "?filename=x.txt" : ""
                    operations.append((HTTPRequest.Method(rawValue: method.uppercased())!, concrete + query, !path.contains("{")))
                }
            }
            let callers: [(String, String?)] = [
                ("no token", nil), ("a malformed token", "acc_not-a-token"), ("an expired token", expired), ("a revoked token", revoked),
                ("a member of another program", tokens["eve"]), ("a person in no program", tokens["nora"]),
            ]
            let body = json([
                "password": apiPassword, "meaning": "approval", "assignee": "eve", "reason": "x", "comment": "x", "handle": "eve",
                "password_confirmation": apiPassword,
            ])
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            let matrix = operations
            let (cells, failures) = try await app.test(.router) { client -> (Int, [String]) in
                var cells = 0
                var failures: [String] = []
                for operation in matrix where operation.path != "/api/v1/session" {
                    for (caller, token) in callers {
                        cells += 1
                        try await client.execute(
                            uri: operation.path,
                            method: operation.method,
                            headers: bearer(token),
                            body: operation.method == .get ? nil : body
                        ) { response in
                            let text = String(buffer: response.body)
                            let status = response.status.code
                            let anonymous = token == nil || caller.contains("token")
                            let allowed: Set<Int> = anonymous ? [401] : (operation.collection ? [200, 403, 404, 422] : [403, 404])
                            if !allowed.contains(status) {
                                failures.append("\(operation.method) \(operation.path) as \(caller): \(status) \(text.prefix(120))")
                            }
                            if status == 200,
                                text.contains("\"api\"") || text.contains("Secret plan") || text.contains("secret-plan")
                                    || text.contains("the api plan")
                            {
                                failures.append("\(operation.method) \(operation.path) as \(caller): shows program api's data")
                            }
                            if status >= 400 {
                                if response.headers[.contentType] != "application/problem+json" {
                                    failures.append("\(operation.path) as \(caller): not problem+json")
                                }
                                if text.contains("SELECT") || text.contains("accord.") || text.contains(".swift") {
                                    failures.append("\(operation.path) as \(caller): leaks internals: \(text)")
                                }
                            }
                        }
                    }
                }
                // Nothing changed: no audit entry was written, the task is still in review, no signature.
                let after = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
                }
                #expect(after == before)
                #expect(try await store.task(String(plan.id), actor: "ada").task.state == .inReview)
                #expect(try await store.signatures(of: String(plan.id), actor: "ada").isEmpty)
                return (cells, failures)
            }
            print("authorisation matrix: \(operations.count) operations × \(callers.count) callers = \(cells) cells, \(failures.count) failures")
            #expect(cells >= 100)
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }

    @Test("mass assignment: signer, time, state, role and id fields in a body are ignored")
    func massAssignment() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await db.store.submitTask(String(plan.id), actor: "otto")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let forged = json([
                    "password": apiPassword, "meaning": "approval", "signer": "ada", "signed_at": "2000-01-01T00:00:00Z",
                    "signedAt": "2000-01-01T00:00:00Z",
                    "state": "done", "role": "manager", "id": 1, "on_behalf_of": "ada", "onBehalfOf": "ada", "decision": "reject",
                ])
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/sign", method: .post, headers: bearer(tokens["bea"]), body: forged) {
                    response in
                    #expect(response.status == .ok)
                }
                let signature = try #require(try await db.store.signatures(of: String(plan.id), actor: "ada").first)
                #expect(signature.signer == "bea")
                #expect(signature.role == "board")
                #expect(signature.decision == .approve)
                #expect(signature.onBehalfOf == nil)
                #expect(abs(signature.signedAt.timeIntervalSinceNow) < 120)
            }
        }
    }

    @Test("hostile bodies: oversized, deeply nested, null bytes, invalid UTF-8, wrong types: 4xx problem+json, nothing stored")
    func hostileBodies() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await db.store.submitTask(String(plan.id), actor: "otto")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let sign = "/api/v1/tasks/\(plan.id)/sign"
            let bodies: [(String, ByteBuffer)] = [
                ("2 MiB of JSON", ByteBuffer(string: "{\"password\":\"" + String(repeating: "a", count: 2 << 20) + "\"}")),
                ("JSON nested 100,000 deep", ByteBuffer(string: String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))),
                (
                    "JSON nested 10,000 deep (under the size limit)",
                    ByteBuffer(string: "{\"password\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}")
                ),
                ("a null byte in a field", ByteBuffer(string: "{\"password\":\"api test\u{0}password\",\"meaning\":\"approval\"}")),
                (
                    "invalid UTF-8",
                    ByteBuffer(bytes: Array("{\"password\":\"".utf8) + [0xff, 0xfe, 0xc0] + Array("\",\"meaning\":\"approval\"}".utf8))
                ),
                ("a number for the password", ByteBuffer(string: "{\"password\":12,\"meaning\":\"approval\"}")),
                ("an unknown meaning", ByteBuffer(string: "{\"password\":\"\(apiPassword)\",\"meaning\":\"whatever\"}")),
                ("not JSON", ByteBuffer(string: "password=\(apiPassword)")),
                ("empty", ByteBuffer()),
            ]
            try await app.test(.router) { client in
                for (name, body) in bodies {
                    try await client.execute(uri: sign, method: .post, headers: bearer(tokens["bea"]), body: body) { response in
                        #expect((400..<500).contains(Int(response.status.code)), "\(name): \(response.status)")
                        #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                    }
                }
                // Path tricks and encodings in ids are refused as ids, not interpreted.
                // The page number schemathesis found crashing the server: (page - 1) × per_page overflowed.
                for path in [
                    "/api/v1/tasks/..%2F..%2Fetc%2Fpasswd", "/api/v1/tasks/1%00", "/api/v1/evidence/-1/content",
                    "/api/v1/tasks/99999999999999999999999",
                    "/api/v1/programs?per_page=199&page=2289833349758050048", "/api/v1/tasks?page=9223372036854775807&per_page=500",
                    "/api/v1/programs?per_page=-510511",
                ] {
                    try await client.execute(uri: path, method: .get, headers: bearer(tokens["bea"])) { response in
                        #expect([400, 404, 422].contains(Int(response.status.code)), "\(path): \(response.status)")
                    }
                }
                // A GET to a state-changing route changes nothing.
                try await client.execute(uri: sign, method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect([404, 405].contains(Int(response.status.code)))
                }
                #expect(try await db.store.signatures(of: String(plan.id), actor: "ada").isEmpty)
            }
        }
    }
}
