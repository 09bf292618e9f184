import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Testing

let apiWorkflow = """
    id: api-test
    version: 1
    title: API test roadmap
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      board: {title: Board, leadership: true}
    steps:
      - key: s
        title: Step
        tasks:
          - key: plan
            title: Plan
            owner: owner
            approval: {signers: [board]}
          - key: later
            title: Later
            owner: owner
            depends_on: [plan]
    """

let apiPassword = "api test password"

/// ada (admin), otto (owner), bea (board), eve (another program only); returns bearer tokens by handle.
func seededAPI(_ store: Store) async throws -> [String: String] {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: apiPassword, actor: nil)
    for (h, n) in [("otto", "Otto Owner"), ("bea", "Bea Board"), ("eve", "Eve Elsewhere")] {
        _ = try await store.addPerson(handle: h, name: n, email: nil, admin: false, password: apiPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: apiWorkflow, file: "api.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "api-test", version: nil, title: "API", slug: "api", startsOn: nil, actor: "ada")
    _ = try await store.startProgram(workflow: "api-test", version: nil, title: "Other", slug: "other", startsOn: nil, actor: "ada")
    _ = try await store.bindRole(program: "api", role: "owner", handles: ["otto"], actor: "ada")
    _ = try await store.bindRole(program: "api", role: "board", handles: ["bea"], actor: "ada")
    _ = try await store.bindRole(program: "other", role: "owner", handles: ["eve"], actor: "ada")
    var tokens: [String: String] = [:]
    for handle in ["ada", "otto", "bea", "eve"] {
        tokens[handle] = try await store.createToken(for: handle, name: "test", expires: nil, actor: handle, proof: .password(apiPassword)).1
    }
    return tokens
}

func json(_ value: [String: Any]) -> ByteBuffer { ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: value)) }
func object(_ buffer: ByteBuffer) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:] }
func bearer(_ token: String?) -> HTTPFields {
    token.map { [.authorization: "Bearer \($0)", .contentType: "application/json"] } ?? [.contentType: "application/json"]
}

@Suite("The JSON API")
struct APITests {
    @Test("no credentials, a bad token or a revoked one: 401 problem+json; headers on every response")
    func authentication() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/me", method: .get) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(object(response.body)["type"] as? String == "/problems/unauthenticated")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer("acc_wrong")) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { response in
                    #expect(response.status == .ok)
                    #expect(object(response.body)["handle"] as? String == "otto")
                }
                let id = try await db.store.tokens(actor: "otto").first!.id
                try await db.store.revokeToken(id, actor: "otto")
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.headers[.xContentTypeOptions] == "nosniff") }
            }
        }
    }

    @Test("a task goes through the API: list, submit, sign with the password, done; another program's objects are refused")
    func taskFlow() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            let other = try await db.store.tasks(TaskFilter(program: "other"), actor: "ada").first!
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/tasks?program=api&per_page=1", method: .get, headers: bearer(tokens["otto"])) { response in
                    let page = object(response.body)
                    #expect(page["total"] as? Int == 2)
                    #expect((page["items"] as? [[String: Any]])?.count == 1)
                }
                try await client.execute(uri: "/api/v1/tasks/\(other.id)", method: .get, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/programs/other", method: .get, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/submit", method: .post, headers: bearer(tokens["eve"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/evidence?filename=plan.txt",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: ByteBuffer(string: "the plan")
                ) { response in
                    #expect(response.status == .created)
                    #expect(object(response.body)["sha256"] as? String == hexString(Array("the plan".utf8).sha256Digest))
                }
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/submit", method: .post, headers: bearer(tokens["otto"])) { response in
                    #expect(object(response.body)["state"] as? String == "in_review")
                }
                try await client.execute(uri: "/api/v1/inbox", method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect(((object(response.body)["signOffs"] as? [[String: Any]])?.map { $0["key"] as? String }) == ["plan"])
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["password": apiPassword])
                ) { response in
                    #expect(response.status == .forbidden)
                    #expect((object(response.body)["detail"] as? String)?.contains("separation of duties") == true)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["password": "wrong"])
                ) {
                    #expect($0.status == .unauthorized)
                }
                // Fields like signer, state and time are not taken from the body.
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["password": apiPassword, "meaning": "approval", "signer": "ada", "state": "done", "signedAt": "2000-01-01T00:00:00Z"])
                ) { response in
                    #expect(response.status == .ok)
                    let outcome = object(response.body)
                    #expect(outcome["taskState"] as? String == "done")
                    let signature = outcome["signature"] as? [String: Any]
                    #expect(signature?["signer"] as? String == "bea")
                    #expect((signature?["signedAt"] as? String)?.hasPrefix("2000") == false)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: ByteBuffer(string: "{not json")
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect(object(response.body)["problems"] as? [String] == [])
                }
                try await client.execute(uri: "/api/v1/tasks?state=bogus", method: .get, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .unprocessableContent)
                }
            }
        }
    }

    @Test("sessions: a new id at every login, CSRF required on cookie writes, logout ends the session server-side")
    func sessions() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            try await app.test(.router) { client in
                func login() async throws -> (cookie: String, csrf: String) {
                    try await client.execute(
                        uri: "/api/v1/session",
                        method: .post,
                        headers: [.contentType: "application/json"],
                        body: json(["handle": "otto", "password": apiPassword])
                    ) { response in
                        #expect(response.status == .created)
                        let setCookie = response.headers[.setCookie] ?? ""
                        #expect(setCookie.contains("HttpOnly"))
                        #expect(setCookie.contains("SameSite=Strict"))
                        let value = setCookie.split(separator: ";")[0]
                        return (String(value), object(response.body)["csrfToken"] as? String ?? "")
                    }
                }
                let first = try await login()
                let second = try await login()
                // Logging in again while carrying a session cookie works, and starts yet another session.
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json", .cookie: first.cookie],
                    body: json(["handle": "otto", "password": apiPassword])
                ) { #expect($0.status == .created) }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: first.cookie]) { #expect($0.status == .unauthorized) }
                #expect(first.cookie != second.cookie)
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: second.cookie]) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/start", method: .post, headers: [.cookie: second.cookie]) { response in
                    #expect(response.status == .forbidden)
                    #expect((object(response.body)["detail"] as? String)?.contains("CSRF") == true)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/start",
                    method: .post,
                    headers: [.cookie: second.cookie, .init("X-CSRF-Token")!: first.csrf]
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/start",
                    method: .post,
                    headers: [.cookie: second.cookie, .init("X-CSRF-Token")!: second.csrf]
                ) {
                    #expect($0.status == .ok)
                }
                try await client.execute(uri: "/api/v1/session", method: .delete, headers: [.cookie: second.cookie]) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .delete,
                    headers: [.cookie: second.cookie, .init("X-CSRF-Token")!: second.csrf]
                ) {
                    #expect($0.status == .noContent)
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: second.cookie]) { #expect($0.status == .unauthorized) }
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: json(["handle": "otto", "password": "wrong"])
                ) { response in
                    #expect(response.status == .unauthorized)
                    #expect(object(response.body)["detail"] as? String == "wrong handle or password")
                }
            }
        }
    }

    @Test("password guessing is throttled briefly, per account and address; a stranger elsewhere cannot lock the account")
    func loginThrottle() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            var policy = SessionPolicy()
            policy.maxFailures = 3
            policy.block = .seconds(2)
            for _ in 1...3 { _ = try? await db.store.login(handle: "bea", password: "guess", address: "10.0.0.1", policy: policy) }
            do {
                _ = try await db.store.login(handle: "bea", password: apiPassword, address: "10.0.0.1", policy: policy)
                Issue.record("a throttled account logged in from the guessing address")
            } catch let error as AccordError {
                #expect(error.code == .unauthenticated)
                #expect(error.message.contains("too many failed logins"))
            }
            // The real user, elsewhere, is not locked out by the stranger's guesses.
            let elsewhere = try await db.store.login(handle: "bea", password: apiPassword, address: "10.0.0.2", policy: policy)
            #expect(elsewhere.session.person.handle == "bea")
            // Once the short block ends, the right password works from that address too.
            let session = try await eventually(within: .seconds(5)) {
                try await db.store.login(handle: "bea", password: apiPassword, address: "10.0.0.1", policy: policy)
            }
            #expect(session.session.person.handle == "bea")
        }
    }
}

extension Array where Element == UInt8 {
    var sha256Digest: [UInt8] { Array(SHA256.hash(data: self)) }
}

@Suite("Idempotency and metrics")
struct IdempotencyAndMetricsTests {
    @Test("a retried sign-off with the same Idempotency-Key returns the first answer; another body is refused; concurrent retries sign once")
    func idempotencyKey() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await db.store.submitTask(String(plan.id), actor: "otto")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                // The metrics registry is the process's (swift-metrics is bootstrapped once): count from here.
                let before = try await client.execute(uri: "/metrics", method: .get) { signMetrics(String(buffer: $0.body)) }
                var headers = bearer(tokens["bea"])
                headers[.init("Idempotency-Key")!] = "sign-plan-1"
                let body = ["password": apiPassword, "comment": "ok"]
                var answers: [(HTTPResponse.Status, String)] = []
                for _ in 1...3 {
                    answers.append(
                        try await client.execute(uri: "/api/v1/tasks/\(plan.id)/sign", method: .post, headers: headers, body: json(body)) {
                            ($0.status, String(buffer: $0.body))
                        }
                    )
                }
                #expect(answers.allSatisfy { $0.0 == .ok }, "\(answers)")
                #expect(Set(answers.map(\.1)).count == 1)
                #expect(try await db.store.signatures(of: String(plan.id), actor: "ada").count == 1)
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: headers,
                    body: json(["password": apiPassword, "comment": "changed"])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect((object(response.body)["detail"] as? String)?.contains("different request") == true)
                }
                // A refusal is remembered as well: the same retry gets the same refusal.
                var other = bearer(tokens["otto"])
                other[.init("Idempotency-Key")!] = "k2"
                for _ in 1...2 {
                    try await client.execute(
                        uri: "/api/v1/tasks/\(plan.id)/sign",
                        method: .post,
                        headers: other,
                        body: json(["password": apiPassword])
                    ) { response in
                        #expect(response.status == .conflict)
                    }
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                    let after = signMetrics(text)
                    // Tests running beside this one sign too, in the same process: at least these six, each also timed.
                    #expect(after.requests - before.requests >= 6, "six sign requests counted under the route's pattern")
                    #expect(after.timed - before.timed >= 6, "and timed in the latency histogram")
                    #expect(text.contains("accord_signoffs_pending 0"))
                    #expect(text.contains("accord_tasks_overdue 0"))
                }
            }
        }
    }
}

@Suite("Idempotency under concurrency")
struct IdempotencyRaceTests {
    @Test("the same key a hundred times at once, with one body and with two: one signature, one answer, the other body refused with 422")
    func concurrentRetries() async throws {
        for bodies in [1, 2] {
            try await TestDatabase.with(maxConnections: 8) { db in
                _ = try await seededAPI(db.store)
                let store = db.store
                let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
                _ = try await store.submitTask(String(plan.id), actor: "otto")
                let bea = try await store.person("bea")
                let answers = await withTaskGroup(of: (Int, Result<RememberedResponse, any Error>).self) { group in
                    for i in 1...100 {
                        let body = i % bodies
                        group.addTask {
                            do {
                                return (
                                    body,
                                    .success(
                                        try await store.idempotent(person: bea, key: "race", requestHMAC: Array(repeating: UInt8(body), count: 32)) {
                                            claim in
                                            let outcome = try await store.sign(
                                                String(plan.id),
                                                decision: .approve,
                                                meaning: .approval,
                                                comment: body == 0 ? nil : "the other body",
                                                password: apiPassword,
                                                actor: "bea",
                                                idempotency: claim
                                            )
                                            return RememberedResponse(status: 200, body: try outcome.json())
                                        }
                                    )
                                )
                            } catch {
                                return (body, .failure(error))
                            }
                        }
                    }
                    var all: [(Int, Result<RememberedResponse, any Error>)] = []
                    for await answer in group { all.append(answer) }
                    return all
                }
                let answered = answers.compactMap { body, result in (try? result.get()).map { (body, $0) } }
                #expect(Set(answered.map(\.1)).count == 1, "one answer for every request that got one")
                #expect(Set(answered.map(\.0)).count == 1, "only the body that won is answered")
                for (body, result) in answers {
                    guard case .failure(let error) = result else { continue }
                    #expect(body != answered.first?.0)
                    #expect((error as? AccordError)?.code == .invalid, "\(error)")
                }
                #expect(answered.count + answers.filter { if case .failure = $0.1 { true } else { false } }.count == 100)
                if bodies == 1 { #expect(answered.count == 100) }
                #expect(try await store.signatures(of: String(plan.id), actor: "ada").count == 1)
            }
        }
    }
}

@Suite("Every API endpoint: its happy path, an error, another program's object")
struct APIEndpointTests {
    @Test("programs, assign, not-applicable, evidence list and download, leadership, audit verify")
    func remainingEndpoints() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            _ = try await db.store.bindRole(program: "api", role: "manager", handles: ["ada"], actor: "ada")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let tasks = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada")
            let plan = tasks.first { $0.key == "plan" }!
            let later = tasks.first { $0.key == "later" }!
            let other = try await db.store.tasks(TaskFilter(program: "other"), actor: "ada").first!
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/programs", method: .get, headers: bearer(tokens["otto"])) { response in
                    #expect((object(response.body)["items"] as? [[String: Any]])?.compactMap { $0["slug"] as? String } == ["api"])
                }
                try await client.execute(uri: "/api/v1/programs?page=0", method: .get, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .unprocessableContent)
                }
                try await client.execute(uri: "/api/v1/programs/api", method: .get, headers: bearer(tokens["otto"])) { response in
                    #expect(((object(response.body)["summary"] as? [String: Any])?["slug"] as? String) == "api")
                }
                // assign
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/assign",
                    method: .post,
                    headers: bearer(tokens["ada"]),
                    body: json(["assignee": "otto"])
                ) { response in
                    #expect(object(response.body)["assignee"] as? String == "otto")
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/assign",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["assignee": "otto"])
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/assign",
                    method: .post,
                    headers: bearer(tokens["ada"]),
                    body: json(["assignee": "eve"])
                ) {
                    #expect($0.status == .conflict)
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(other.id)/assign",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["assignee": "otto"])
                ) {
                    #expect($0.status == .notFound)
                }
                // not-applicable
                try await client.execute(
                    uri: "/api/v1/tasks/\(later.id)/not-applicable",
                    method: .post,
                    headers: bearer(tokens["ada"]),
                    body: json(["reason": " "])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    // The problem names the member; its detail is the engine's words, with no CLI flag in them.
                    let problem = object(response.body)
                    #expect(problem["field"] as? String == "reason")
                    #expect((problem["detail"] as? String).map { !$0.contains("--") } == true, "\(problem)")
                }
                try await client.execute(
                    uri: "/api/v1/tasks/\(later.id)/not-applicable",
                    method: .post,
                    headers: bearer(tokens["ada"]),
                    body: json(["reason": "Not used here"])
                ) { response in
                    #expect(object(response.body)["state"] as? String == "not_applicable")
                }
                // start and submit refusals
                try await client.execute(uri: "/api/v1/tasks/\(later.id)/start", method: .post, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .conflict)
                }
                try await client.execute(uri: "/api/v1/tasks/abc/start", method: .post, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .unprocessableContent)
                }
                // evidence: upload, list, download; another program's refused
                let id = try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/evidence?filename=a.txt&title=Plan",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: ByteBuffer(string: "abc")
                ) { object($0.body)["id"] as? Int ?? 0 }
                try await client.execute(
                    uri: "/api/v1/tasks/\(plan.id)/evidence",
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: ByteBuffer(string: "abc")
                ) {
                    #expect($0.status == .unprocessableContent)
                }
                try await client.execute(uri: "/api/v1/tasks/\(plan.id)/evidence", method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect(((object(response.body)["items"] as? [[String: Any]])?.first?["title"] as? String) == "Plan")
                }
                try await client.execute(uri: "/api/v1/evidence/\(id)/content", method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect(String(buffer: response.body) == "abc")
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"a.txt\"")
                }
                try await client.execute(uri: "/api/v1/evidence/\(id)/content", method: .get, headers: bearer(tokens["eve"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/evidence/999999/content", method: .get, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .notFound)
                }
                // leadership and audit verify
                try await client.execute(uri: "/api/v1/leadership", method: .get, headers: bearer(tokens["otto"])) { response in
                    let leaders = object(response.body)["leaders"] as? [[String: Any]]
                    #expect(leaders?.compactMap { $0["handle"] as? String } == ["bea"])
                }
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["otto"])) { response in
                    #expect((object(response.body)["chains"] as? [[String: Any]])?.first?["verified"] as? Int ?? 0 > 0)
                }
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["eve"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .forbidden)
                }
            }
        }
    }
}

/// The sign route's request count (over every status) and latency-histogram count in a `/metrics` text.
func signMetrics(_ text: String) -> (requests: Int, timed: Int) {
    func sum(_ prefix: String) -> Int {
        text.split(separator: "\n").filter {
            $0.hasPrefix(prefix) && $0.contains(#"route="/api/v1/tasks/{task}/sign""#) && $0.contains(#"method="POST""#)
        }
        .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
    }
    return (sum("accord_http_requests_total{"), sum("accord_http_request_duration_seconds_count{"))
}
