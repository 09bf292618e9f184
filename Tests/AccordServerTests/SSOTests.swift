import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Postgres
import Testing

/// The site Accord says it is at; the provider sends browsers back to its /sso/callback.
private let site = "https://accord.example.com"

/// One browser's round trip through the real provider (Tests/sso/oidc_provider.py, on Authlib): Accord's
/// redirect, the provider's login form posted with the user's credentials, and the code and state it
/// sends back, followed to Accord's callback.
private struct ProviderBrowser {
    let provider: OIDCTestProvider
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    /// Logs in at the provider for an authorization URL; returns the callback's path and query.
    func authenticate(_ url: String, username: String, password: String) async throws -> String {
        let components = try #require(URLComponents(string: url))
        var fields = (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        fields += [("username", username), ("password", password)]
        var request = HTTPClientRequest(url: provider.issuer + "/authorize")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let body = fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        let location = try #require(response.headers.first(name: "Location"), "the provider did not redirect (\(response.status))")
        #expect(location.hasPrefix(site + "/sso/callback?"))
        return String(location.dropFirst(site.count))
    }

    func control(_ path: String) async throws {
        var request = HTTPClientRequest(url: provider.issuer + path)
        request.method = .POST
        _ = try await http.execute(request, timeout: .seconds(5)).body.collect(upTo: 1 << 16)
    }

    func requestsSeen() async throws -> String {
        let response = try await http.execute(HTTPClientRequest(url: provider.issuer + "/_test/log"), timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    private func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// Runs a body with a provider browser, whose HTTP client is shut down whatever happens.
private func withBrowser(_ provider: OIDCTestProvider, _ body: (ProviderBrowser) async throws -> Void) async throws {
    let browser = ProviderBrowser(provider: provider)
    do {
        try await body(browser)
    } catch {
        try? await browser.http.shutdown()
        throw error
    }
    try await browser.http.shutdown()
}

/// The value of a cookie a response sets.
private func setCookie(_ name: String, in response: TestResponse) -> String? {
    for value in response.headers[values: .setCookie] where value.hasPrefix(name + "=") {
        return String(value.dropFirst(name.count + 1).prefix { $0 != ";" })
    }
    return nil
}

@Suite("Single sign-on through a real OpenID provider: login, linking, group rules, signing with a fresh login", .serialized)
struct SSOTests {
    static func provider() throws -> OIDCTestProvider {
        try OIDCTestProvider(
            clients: ["accord:s3cret:\(site)/sso/callback"],
            users: [
                "sub-ada:ada:ada-pw:ada@example.com", "sub-bea:bea:bea-pw:bea@example.com:board-members",
                "sub-dora:dora:dora-pw:dora@example.com:board-members", "sub-otto:otto:otto-pw:otto@example.com",
            ]
        )
    }

    @Test("log in: first login links by a verified address (never an administrator's), groups bind roles, a bad token logs nobody in")
    func login() async throws {
        let provider = try Self.provider()
        defer { provider.stop() }
        try await withBrowser(provider) { browser in
            try await TestDatabase.with { db in
                let store = db.store
                try await seededMail(store)
                _ = try await store.addPerson(handle: "dora", name: "Dora", email: "dora@example.com", admin: false, password: nil, actor: "ada")
                let issuer = try await store.addSSOIssuer(
                    provider.issuer,
                    displayName: "Test IdP",
                    clientID: "accord",
                    clientSecret: "s3cret",
                    linkByEmail: true,
                    actor: "ada"
                )
                _ = try await store.addSSOGroupRule(group: "board-members", program: "m", role: "board", actor: "ada")
                let app = try makeApplication(store: store, configuration: ServerConfiguration(publicURL: site))
                try await app.test(.router) { client in
                    /// Starts a login from the login page and comes back through the provider; returns the callback's response.
                    func login(_ user: String, _ password: String, before: (() async throws -> Void)? = nil) async throws -> TestResponse {
                        let page = try await client.execute(uri: "/login", method: .get)
                        let token = try #require(setCookie("accord_login", in: page))
                        #expect(String(buffer: page.body).contains("Log in with Test IdP"))
                        let start = try await client.execute(
                            uri: "/login/sso",
                            method: .post,
                            headers: [.cookie: "accord_login=\(token)", .contentType: "application/x-www-form-urlencoded"],
                            body: form(["login_token": token, "issuer": String(issuer.id)])
                        )
                        #expect(start.status == .seeOther)
                        let binding = try #require(setCookie("accord_sso", in: start))
                        let url = try #require(start.headers[.location])
                        #expect(
                            url.hasPrefix(provider.issuer + "/authorize?") && url.contains("code_challenge_method=S256") && url.contains("nonce=")
                        )
                        try await before?()
                        let back = try await browser.authenticate(url, username: user, password: password)
                        return try await client.execute(uri: back, method: .get, headers: [.cookie: "accord_sso=\(binding)"])
                    }
                    let dora = try await login("dora", "dora-pw")
                    #expect(dora.status == .ok, "\(String(buffer: dora.body))")
                    #expect(setCookie("accord_session", in: dora) != nil)
                    #expect(String(buffer: dora.body).contains("<meta http-equiv=\"refresh\" content=\"0; url=/inbox\">"))
                    #expect(try await store.ssoIdentities(of: "dora", actor: "ada").map(\.subject) == ["sub-dora"], "linked by verified e-mail")
                    let board = try await store.roles(program: "m", actor: "ada").first { $0.role == "board" }
                    #expect(board?.members.sorted() == ["bea", "dora"], "the group rule bound dora")

                    let ada = try await login("ada", "ada-pw")
                    #expect(ada.status == .unauthorized && setCookie("accord_session", in: ada) == nil)
                    #expect(String(buffer: ada.body).contains("ada is an administrator, whose identity an administrator links by hand"))
                    try await store.linkSSOIdentity("ada", issuer: issuer.id, subject: "sub-ada", actor: "ada")
                    #expect(try await login("ada", "ada-pw").status == .ok, "linked by an administrator, ada logs in")

                    // Each wrong ID token is refused with what was wrong; nobody is logged in.
                    for (what, message) in [
                        ("nonce", "does not carry this request&#39;s nonce"), ("aud", "was refused"), ("iss", "was issued by"),
                        ("signature", "signature does not verify"), ("expired", "was refused"),
                    ] {
                        let refused = try await login("dora", "dora-pw") { try await browser.control("/_test/tamper?what=\(what)") }
                        #expect(refused.status == .unauthorized, "\(what)")
                        #expect(String(buffer: refused.body).contains(message), "\(what): \(String(buffer: refused.body))")
                        #expect(setCookie("accord_session", in: refused) == nil)
                    }
                    // A rotated key (the old one dropped from the JWKS) is fetched and accepted.
                    try await browser.control("/_test/rotate?drop=1")
                    #expect(try await login("dora", "dora-pw").status == .ok, "a rotated key is accepted")

                    // The provider's answer brought to another browser, or twice, is refused.
                    let page = try await client.execute(uri: "/login", method: .get)
                    let token = try #require(setCookie("accord_login", in: page))
                    let start = try await client.execute(
                        uri: "/login/sso",
                        method: .post,
                        headers: [.cookie: "accord_login=\(token)", .contentType: "application/x-www-form-urlencoded"],
                        body: form(["login_token": token, "issuer": String(issuer.id)])
                    )
                    let back = try await browser.authenticate(try #require(start.headers[.location]), username: "dora", password: "dora-pw")
                    let elsewhere = try await client.execute(uri: back, method: .get, headers: [.cookie: "accord_sso=another-browser"])
                    #expect(elsewhere.status == .unauthorized && String(buffer: elsewhere.body).contains("came to another browser"))
                    let binding = try #require(setCookie("accord_sso", in: start))
                    let replay = try await client.execute(uri: back, method: .get, headers: [.cookie: "accord_sso=\(binding)"])
                    #expect(replay.status == .unauthorized, "a request is taken once, whoever tried first")
                    // An answer without the binding cookie at all: refused, not a 500.
                    let restart = try await client.execute(
                        uri: "/login/sso",
                        method: .post,
                        headers: [.cookie: "accord_login=\(token)", .contentType: "application/x-www-form-urlencoded"],
                        body: form(["login_token": token, "issuer": String(issuer.id)])
                    )
                    let bare = try await browser.authenticate(try #require(restart.headers[.location]), username: "dora", password: "dora-pw")
                    #expect(try await client.execute(uri: bare, method: .get).status == .unauthorized)
                    // Leaving the group: the next login removes the binding the rule made (not those made by hand).
                    let again = try await store.ssoLogin(
                        SSOAuthentication(
                            issuer: provider.issuer,
                            subject: "sub-dora",
                            authTime: Date(),
                            email: nil,
                            emailVerified: false,
                            groups: []
                        ),
                        address: nil
                    )
                    #expect(again.session.person.handle == "dora")
                    let boardAfter = try await store.roles(program: "m", actor: "ada").first { $0.role == "board" }
                    #expect(boardAfter?.members == ["bea"], "the rule's binding is gone; bea's, made by hand, stays")
                    let audit = try await store.auditLog(program: "m", actor: "ada").map(\.action)
                    #expect(audit.filter { $0 == "role.bind" }.count >= 4 && audit.contains("role.unbind"))
                    // Unlinking someone who logged in through the provider works, and ends those sessions.
                    try await store.unlinkSSOIdentity("dora", issuer: issuer.id, actor: "ada")
                    #expect(try await store.ssoIdentities(of: "dora", actor: "ada").isEmpty)
                    #expect(try await store.session(cookieToken: again.cookieToken) == nil)
                }
            }
        }
    }

    @Test("sign through SSO: a fresh login names the signature; stale, another person's login, and passwords off are refused")
    func signing() async throws {
        let provider = try Self.provider()
        defer { provider.stop() }
        try await withBrowser(provider) { browser in
            try await TestDatabase.with { db in
                let store = db.store
                try await seededMail(store)
                let issuer = try await store.addSSOIssuer(
                    provider.issuer,
                    displayName: "Test IdP",
                    clientID: "accord",
                    clientSecret: "s3cret",
                    linkByEmail: false,
                    actor: "ada"
                )
                try await store.linkSSOIdentity("bea", issuer: issuer.id, subject: "sub-bea", actor: "ada")
                _ = try await store.assignTask("m/plan", to: "otto", actor: "ada")
                _ = try await store.startTask("m/plan", actor: "otto")
                _ = try await store.submitTask("m/plan", actor: "otto")
                let task = try await store.task("m/plan", actor: "ada").task.id
                // Local passwords off, ada the break-glass administrator: bea's password no longer signs.
                try await store.setLocalPasswords(false, breakGlass: ["ada"], actor: "ada")
                await #expect(throws: AccordError.self) {
                    _ = try await store.sign("m/plan", decision: .approve, meaning: nil, comment: nil, password: mailPassword, actor: "bea")
                }
                await #expect(throws: AccordError.self, "and it no longer logs in") {
                    _ = try await store.login(handle: "bea", password: mailPassword, address: nil)
                }
                let bea = try await store.ssoLogin(
                    SSOAuthentication(issuer: provider.issuer, subject: "sub-bea", authTime: Date(), email: nil, emailVerified: false, groups: nil),
                    address: nil
                )
                let app = try makeApplication(store: store, configuration: ServerConfiguration(publicURL: site))
                try await app.test(.router) { client in
                    let session: HTTPFields = [
                        .cookie: "accord_session=\(bea.cookieToken)", .init("X-CSRF-Token")!: bea.session.csrfToken, .contentType: "application/json",
                    ]
                    func challenge() async throws -> (id: String, url: String) {
                        let created = try await client.execute(
                            uri: "/api/v1/tasks/\(task)/signing-challenges",
                            method: .post,
                            headers: session,
                            body: ByteBuffer(string: #"{"decision": "approve", "meaning": "approval"}"#)
                        )
                        #expect(created.status == .created, "\(String(buffer: created.body))")
                        let json = try #require(try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as? [String: Any])
                        return (try #require(json["id"] as? String), try #require(json["authorizationURL"] as? String))
                    }
                    func status(_ id: String) async throws -> [String: Any] {
                        let shown = try await client.execute(uri: "/api/v1/signing-challenges/\(id)", method: .get, headers: session)
                        return try #require(try JSONSerialization.jsonObject(with: Data(shown.body.readableBytesView)) as? [String: Any])
                    }
                    // Another person's login at the provider does not sign for bea.
                    let first = try await challenge()
                    #expect(first.url.contains("prompt=login") && first.url.contains("max_age=0"))
                    let wrong = try await client.execute(
                        uri: try await browser.authenticate(first.url, username: "otto", password: "otto-pw"),
                        method: .get
                    )
                    #expect(wrong.status == .forbidden && String(buffer: wrong.body).contains("is not bea&#39;s"))
                    #expect(try await status(first.id)["status"] as? String == "refused")
                    // A stale authentication (auth_time ten minutes old) does not sign.
                    let second = try await challenge()
                    try await browser.control("/_test/tamper?what=stale")
                    let stale = try await client.execute(
                        uri: try await browser.authenticate(second.url, username: "bea", password: "bea-pw"),
                        method: .get
                    )
                    #expect(stale.status == .unauthorized && String(buffer: stale.body).contains("reused a login from before"))
                    // A fresh login signs, and the signature names it.
                    let third = try await challenge()
                    let signed = try await client.execute(
                        uri: try await browser.authenticate(third.url, username: "bea", password: "bea-pw"),
                        method: .get
                    )
                    #expect(signed.status == .ok, "\(String(buffer: signed.body))")
                    #expect(try await status(third.id)["status"] as? String == "signed")
                    let page = try await client.execute(uri: "/tasks/\(task)", method: .get, headers: [.cookie: "accord_session=\(bea.cookieToken)"])
                    #expect(String(buffer: page.body).contains("single sign-on at \(provider.issuer), fresh login at "))
                    // Logging out of a session opened through the provider ends it here and sends the browser to the
                    // provider's end_session_endpoint (RP-initiated logout), back to Accord's login page.
                    let logout = try await client.execute(
                        uri: "/logout",
                        method: .post,
                        headers: [.cookie: "accord_session=\(bea.cookieToken)", .contentType: "application/x-www-form-urlencoded"],
                        body: form(["csrf_token": bea.session.csrfToken])
                    )
                    #expect(logout.status == .ok, "a page that goes on to the provider (CSP form-action blocks a redirect)")
                    #expect(
                        String(buffer: logout.body).contains(
                            "url=\(provider.issuer)/logout?client_id=accord&amp;post_logout_redirect_uri=https%3A%2F%2Faccord.example.com%2Flogin"
                        )
                    )
                    #expect(try await store.session(cookieToken: bea.cookieToken) == nil, "the Accord session ended")
                    let signatures = try await store.signatures(of: "m/plan", actor: "ada")
                    #expect(signatures.count == 1 && signatures[0].authMethod.hasPrefix("oidc iss=\(provider.issuer) auth_time="))
                    #expect(try await store.task("m/plan", actor: "ada").task.state == .done)
                    #expect(try await store.verifyAudit(program: "m", actor: "ada").ok, "the signature's MAC covers the method")
                    #expect(try await browser.requestsSeen().contains(#""prompt": "login", "max_age": "0""#))
                }
            }
        }
    }
}
