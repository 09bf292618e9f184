import AccordCore
import AccordReports
import AccordServer
import AccordStore
import AccordTestSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import Postgres
import Testing

@testable import AccordScheduler

/// The security review of issue 14, the items the HTTP layer answers for.
@Suite("Security review over HTTP: fingerprints, limits, proxies, CSRF, SSRF, caching")
struct SecurityReviewHTTPTests {
    // MARK: 1. No password under a fast hash

    @Test("item 1: an Idempotency-Key fingerprint never covers the password; a wrong-password refusal is not remembered")
    func fingerprintWithoutPassword() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            let tokens = try await seededAPI(store)
            let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await store.submitTask(String(plan.id), actor: "otto")
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            let path = "/api/v1/tasks/\(plan.id)/sign"
            try await app.test(.router) { client in
                var headers = bearer(tokens["bea"])
                headers[.init("Idempotency-Key")!] = "one-key"
                // A wrong password is refused and not remembered: the same key with the right one signs.
                try await client.execute(
                    uri: path,
                    method: .post,
                    headers: headers,
                    body: json(["password": "not the password", "meaning": "approval"])
                ) {
                    #expect($0.status == .unauthorized)
                }
                try await client.execute(uri: path, method: .post, headers: headers, body: json(["password": apiPassword, "meaning": "approval"])) {
                    #expect($0.status == .ok)
                }
                // A guess under the same key gets the first answer back without bcrypt: it learns nothing.
                let checks = store.passwordChecks
                try await client.execute(
                    uri: path,
                    method: .post,
                    headers: headers,
                    body: json(["password": "another guess", "meaning": "approval"])
                ) {
                    #expect($0.status == .ok)
                }
                #expect(store.passwordChecks == checks)
                try await checkStoredFingerprint(db, store, path)
            }
        }
    }

    func checkStoredFingerprint(_ db: TestDatabase, _ store: Store, _ path: String) async throws {
        do {
            let stored = try await db.pool.withConnection {
                try await $0.query("SELECT request_hmac FROM accord.idempotency_key")[0].decode([UInt8].self, "request_hmac")
            }
            // Not the old fingerprint (SHA-256 over the body with its password), nor any fast hash of one.
            let canonical = JSONEncoder()
            canonical.outputFormatting = [.sortedKeys]
            struct Old: Encodable {
                var password: String
                var meaning: String
            }
            let old = Array("POST \(path)\n".utf8) + Array(try canonical.encode(Old(password: apiPassword, meaning: "approval")))
            #expect(stored != Array(SHA256.hash(data: old)))
            #expect(stored == store.requestFingerprint(Array("POST \(path)\n".utf8) + Array(#"{"meaning":"approval"}"#.utf8)))
            // Without the audit key (it is not in the database) the fingerprint cannot be recomputed at all.
            let other = Store(pool: db.pool, location: .url(db.conninfo), auditKey: AuditKey(bytes: Array(repeating: 1, count: 32)))
            #expect(other.requestFingerprint(Array("POST \(path)\n".utf8) + Array(#"{"meaning":"approval"}"#.utf8)) != stored)
        }
    }

    // MARK: 8. Denial of service

    @Test("item 8: the login reads at most 16 KiB and 63-character handles; throttle and idempotency rows are pruned")
    func loginLimitsAndPruning() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await seededAPI(store)
            let bea = try await store.person("bea")
            try await db.pool.withConnection { connection in
                _ = try await connection.execute(
                    "INSERT INTO accord.auth_throttle (key, failures, last_attempt) VALUES ('login:old@1.2.3.4', 3, now() - interval '3 days'), ('login:new@1.2.3.4', 1, now())"
                )
                _ = try await connection.execute(
                    "INSERT INTO accord.idempotency_key (person_id, key, request_hmac, status, created_at) VALUES ($1, 'old', $2, 200, now() - interval '30 days'), ($1, 'new', $2, 200, now())",
                    [bea.id, Array(repeating: UInt8(7), count: 32)]
                )
            }
            #expect(try await store.pruneSecurityRows() == 2)
            let left = try await db.pool.withConnection { connection in
                (
                    try await connection.query("SELECT key FROM accord.auth_throttle").map { try $0.decode(String.self, "key") },
                    try await connection.query("SELECT key FROM accord.idempotency_key").map { try $0.decode(String.self, "key") }
                )
            }
            // The old key is forgotten; the recent one stays, as do the keys at rest of the seed's own
            // signatures (a right password leaves its key in place, failures and claims cleared).
            #expect(!left.0.contains("login:old@1.2.3.4"))
            #expect(left.0.contains("login:new@1.2.3.4"))
            let atRest = try await db.pool.withConnection { connection in
                try await connection.query(
                    "SELECT count(*)::int AS n FROM accord.auth_throttle WHERE key LIKE 'sign:%' AND (failures > 0 OR in_flight > 0)"
                )[0]
                .decode(Int.self, "n")
            }
            #expect(atRest == 0)
            #expect(left.1 == ["new"])
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let huge = String(repeating: "x", count: 20 << 10)
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: json(["handle": "bea", "password": huge])
                ) {
                    #expect($0.status == .contentTooLarge)
                    #expect($0.headers[.contentType] == "application/problem+json")
                }
                let checks = store.passwordChecks
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: json(["handle": String(repeating: "h", count: 500), "password": "x"])
                ) {
                    #expect($0.status == .unauthorized)
                }
                #expect(store.passwordChecks == checks, "an over-long handle is refused before bcrypt")
            }
        }
    }

    @Test("item 8: GET audit/verify answers from its last run while the chains have not moved, and recomputes once they do")
    func verificationIsReused() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            let tokens = try await seededAPI(store)
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["ada"])) {
                    #expect((object($0.body)["problems"] as? [Any])?.isEmpty == true)
                }
                // A database administrator rewrites an entry, head untouched: the next answer is the one just computed…
                let server = try await TestServer.shared()
                try await server.asSuperuser(
                    database: db.name,
                    "UPDATE accord.audit_entry SET actor = 'mallory' WHERE chain = 'program:api' AND seq = 1;"
                )
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["ada"])) {
                    #expect((object($0.body)["problems"] as? [Any])?.isEmpty == true)
                }
                // …the CLI's verification (no reuse) sees it at once…
                #expect(try await !store.verifyAudit(program: "api", actor: "ada").ok)
                // …and so does the API as soon as the chain moves.
                _ = try await store.bindRole(program: "api", role: "owner", handles: ["bea"], actor: "ada")
                try await client.execute(uri: "/api/v1/audit/verify?program=api", method: .get, headers: bearer(tokens["ada"])) { response in
                    #expect((object(response.body)["problems"] as? [Any])?.isEmpty == false)
                }
            }
        }
    }

    // MARK: 9. Behind a proxy

    @Test("item 9: X-Forwarded-For is believed only from a trusted proxy, and only its right-most untrusted hop")
    func trustedProxy() {
        let proxies = [IPNetwork("10.0.0.0/8")!, IPNetwork("::1")!]
        #expect(
            clientAddress(peer: "198.51.100.4", forwardedFor: ["203.0.113.9"], trustedProxies: proxies) == "198.51.100.4",
            "a stranger's header is ignored"
        )
        #expect(clientAddress(peer: "10.0.0.2", forwardedFor: ["203.0.113.9"], trustedProxies: proxies) == "203.0.113.9")
        #expect(
            clientAddress(peer: "10.0.0.2", forwardedFor: ["1.1.1.1, 203.0.113.9, 10.0.0.7"], trustedProxies: proxies) == "203.0.113.9",
            "what the client wrote to the left is not believed"
        )
        #expect(clientAddress(peer: "10.0.0.2", forwardedFor: ["garbage"], trustedProxies: proxies) == "10.0.0.2")
        #expect(clientAddress(peer: "10.0.0.2", forwardedFor: [], trustedProxies: proxies) == "10.0.0.2")
        #expect(clientAddress(peer: "::1", forwardedFor: ["2001:db8::5"], trustedProxies: proxies) == "2001:db8::5")
        #expect(clientAddress(peer: "10.0.0.2", forwardedFor: ["203.0.113.9"], trustedProxies: []) == "10.0.0.2")
    }

    // MARK: 11. CSV injection

    @Test("item 11: CSV cells a spreadsheet would run as formulas are neutralised, the SoA's not-applicable reason included")
    func csvInjection() async throws {
        #expect(
            CSV.line(["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-3", "+4.5", "plain", "a-b"])
                == "\"'=HYPERLINK(\"\"http://x\"\")\",'+1+1,'-2+3,'@SUM(A1),'\tx,\"'\rx\",-3,+4.5,plain,a-b"
        )
        try await TestDatabase.with { db in
            let store = db.store
            let tokens = try await seededAPI(store)
            let later = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "later" }!
            _ = try await store.markNotApplicable(String(later.id), reason: "=cmd|' /C calc'!A0", actor: "ada")
            let session = try await store.login(handle: "ada", password: apiPassword, address: nil)
            _ = tokens
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for kind in ReportKind.allCases {
                    try await client.execute(
                        uri: "/programs/api/reports/\(kind.rawValue).csv",
                        method: .get,
                        headers: [.cookie: "accord_session=\(session.cookieToken)"]
                    ) { response in
                        let text = String(buffer: response.body)
                        #expect(
                            !text.contains(",=cmd") && !text.hasPrefix("=cmd") && !text.contains("\n=cmd") && !text.contains("\"=cmd"),
                            "\(kind): \(text)"
                        )
                    }
                }
            }
        }
    }

    // MARK: 12. Login CSRF

    @Test("item 12: the login form needs its pre-session token and this site's Origin; the API login refuses other sites and non-JSON")
    func loginCSRF() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let formType: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                try await client.execute(uri: "/login", method: .post, headers: formType, body: form(["handle": "bea", "password": apiPassword])) {
                    response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.setCookie] == nil || !(response.headers[.setCookie] ?? "").contains("accord_session="))
                    let html = String(buffer: response.body)
                    #expect(html.contains("this login form has expired or did not come from Accord"))
                    #expect(html.contains("value=\"bea\""), "the handle is kept")
                }
                let login = try await client.execute(uri: "/login", method: .get) { loginForm($0) }
                var headers = formType
                headers[.cookie] = login.cookie
                try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: headers,
                    body: form(["handle": "bea", "password": apiPassword, "login_token": "forged"])
                ) {
                    #expect($0.status == .forbidden)
                }
                var crossSite = headers
                crossSite[.origin] = "https://evil.example"
                try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: crossSite,
                    body: form(["handle": "bea", "password": apiPassword, "login_token": login.token])
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: headers,
                    body: form(["handle": "bea", "password": apiPassword, "login_token": login.token])
                ) {
                    #expect($0.status == .seeOther)
                    #expect(($0.headers[.setCookie] ?? "").contains("accord_session="))
                }
                var evil: HTTPFields = [.contentType: "application/json", .origin: "https://evil.example"]
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: evil,
                    body: json(["handle": "bea", "password": apiPassword])
                ) {
                    #expect($0.status == .forbidden)
                }
                evil = [.contentType: "application/json", .init("Sec-Fetch-Site")!: "cross-site"]
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: evil,
                    body: json(["handle": "bea", "password": apiPassword])
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "text/plain"],
                    body: json(["handle": "bea", "password": apiPassword])
                ) {
                    #expect($0.status == .unsupportedMediaType)
                    #expect($0.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: json(["handle": "bea", "password": apiPassword])
                ) {
                    #expect($0.status == .created)
                }
            }
        }
    }

    @Test("a form Hummingbird's decoder cannot read is a 422 page, not a 500; '+' and escapes decode")
    func unreadableForm() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let login = try await client.execute(uri: "/login", method: .get) { loginForm($0) }
                let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: login.cookie]
                try await client.execute(uri: "/login", method: .post, headers: headers, body: ByteBuffer(string: "handle=a&handle=b&login_token=x"))
                { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(String(buffer: response.body).contains("this form could not be read"))
                }
                let token = login.token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? login.token
                try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: headers,
                    body: ByteBuffer(string: "handle=bea&password=api+test+password&login_token=\(token)")
                ) {
                    #expect($0.status == .seeOther, "'+' decodes as a space")
                }
            }
        }
    }

    // MARK: 13. Webhooks and SSRF

    @Test("item 13: webhooks to loopback or private addresses are refused after resolution unless allowed, and redirects are not followed")
    func webhookSSRF() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
            let log = NIOLockedValueBox<[Received]>([])
            let router = Router()
            router.post("moved") { _, _ in Response(status: .found, headers: [.location: "/ok"]) }
            router.post("ok") { request, _ -> HTTPResponse.Status in
                log.withLockedValue { $0.append(Received(path: "ok", delivery: "", attempt: "", signature: "", body: "")) }
                return .noContent
            }
            try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
                let port = client.port!
                _ = try await store.addWebhook(url: "http://localhost:\(port)/ok", program: nil, topics: [], actor: "ada")
                try await db.pool.withConnection { _ = try await $0.query("SELECT accord.emit('cycle.opened', NULL, '{}'::jsonb)") }
                let refused = try await Scheduler.deliverWebhooks(store: store, now: Date(), timeout: 5)
                #expect(refused.delivered == 0 && refused.failed == 1)
                #expect(log.withLockedValue { $0.isEmpty }, "nothing reached the loopback receiver")
                let errors = try await deliveryOutcomes(db)
                #expect(errors.contains { ($0.error ?? "").contains("resolves to 127.0.0.1, which is not a public address") }, "\(errors)")

                // Allowed (a test or an intranet install), a redirect is still not followed.
                _ = try await store.addWebhook(url: "http://127.0.0.1:\(port)/moved", program: nil, topics: [], actor: "ada")
                try await db.pool.withConnection { _ = try await $0.query("SELECT accord.emit('cycle.opened', NULL, '{}'::jsonb)") }
                let later = Date().addingTimeInterval(3600)
                _ = try await Scheduler.deliverWebhooks(store: store, now: later, timeout: 5, allowPrivate: true)
                let moved = try await deliveryOutcomes(db).filter { $0.url.hasSuffix("/moved") }
                #expect(!moved.isEmpty && moved.allSatisfy { $0.status == 302 }, "\(moved)")
                #expect(log.withLockedValue { $0.count } >= 1, "the loopback /ok receiver was reached only once allowed")
            }
        }
    }

    @Test("item 13: a delivery is pinned to the address that was checked, so a name cannot resolve elsewhere between check and connect")
    func webhookPinnedToCheckedAddress() async throws {
        let public4 = try #require(URL(string: "https://93.184.215.14/hook"))
        #expect(await Scheduler.target(of: public4, allowPrivate: false) == .allowed(host: "93.184.215.14", pinnedTo: "93.184.215.14"))
        let inside = try #require(URL(string: "http://169.254.169.254/latest/meta-data"))
        guard case .refused(let reason) = await Scheduler.target(of: inside, allowPrivate: false) else {
            Issue.record("the metadata address was not refused")
            return
        }
        #expect(reason.contains("169.254.169.254"))
        let ftp = try #require(URL(string: "ftp://93.184.215.14/x"))
        #expect(await Scheduler.target(of: ftp, allowPrivate: true) == .refused("refused: a webhook URL is http:// or https:// with a host"))
        // Allowed inside on purpose (--allow-private-webhooks), the system resolver is used as is.
        let local = try #require(URL(string: "http://localhost:9/x"))
        #expect(await Scheduler.target(of: local, allowPrivate: true) == .allowed(host: "localhost", pinnedTo: nil))
    }

    // MARK: 14 and 15. TLS behind a proxy, caching

    @Test("item 14: a non-loopback address without TLS warns; behind a TLS proxy cookies are Secure __Host- and HSTS is sent")
    func tlsBehindProxy() async throws {
        #expect(ServerConfiguration(host: "0.0.0.0").exposureWarning?.contains("--behind-tls-proxy") == true)
        #expect(ServerConfiguration(host: "10.1.2.3", tls: true).exposureWarning == nil)
        #expect(ServerConfiguration(host: "127.0.0.1").exposureWarning == nil)
        #expect(ServerConfiguration(host: "::1").exposureWarning == nil)
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration(host: "0.0.0.0", tls: true))
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/api/v1/session",
                    method: .post,
                    headers: [.contentType: "application/json"],
                    body: json(["handle": "bea", "password": apiPassword])
                ) { response in
                    #expect(response.status == .created)
                    let cookie = response.headers[.setCookie] ?? ""
                    #expect(cookie.hasPrefix("__Host-accord_session=") && cookie.contains("Secure") && cookie.contains("HttpOnly"), "\(cookie)")
                    #expect(response.headers[.strictTransportSecurity]?.contains("max-age=") == true)
                }
            }
        }
    }

    @Test("item 15: API answers (problems too) and evidence downloads carry Cache-Control: no-store")
    func noStore() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            let tokens = try await seededAPI(store)
            let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            let evidence = try await store.addEvidence(
                to: String(plan.id),
                fileName: "plan.txt",
                bytes: Array("the plan".utf8),
                title: nil,
                actor: "otto"
            )
            let session = try await store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for (uri, headers) in [
                    ("/api/v1/me", bearer(tokens["otto"])), ("/api/v1/me", bearer(nil)), ("/api/v1/tasks/\(plan.id)", bearer(tokens["otto"])),
                    ("/api/v1/evidence/\(evidence.id)/content", bearer(tokens["otto"])),
                    ("/evidence/\(evidence.id)", [HTTPField.Name.cookie: "accord_session=\(session.cookieToken)"] as HTTPFields),
                ] {
                    try await client.execute(uri: uri, method: .get, headers: headers) { response in
                        #expect(response.headers[.cacheControl] == "no-store", "\(uri): \(response.status)")
                    }
                }
            }
        }
    }
}

/// Each delivery's webhook URL, last status and last error, as stored.
func deliveryOutcomes(_ db: TestDatabase) async throws -> [(url: String, status: Int?, error: String?)] {
    try await db.pool.withConnection { connection in
        try await connection.query(
            "SELECT w.url, d.last_status, d.last_error FROM accord.webhook_delivery d JOIN accord.webhook w ON w.id = d.webhook_id ORDER BY w.id"
        ).map {
            (try $0.decode(String.self, "url"), try $0.decode(Int?.self, "last_status"), try $0.decode(String?.self, "last_error"))
        }
    }
}
