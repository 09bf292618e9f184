import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

private func browser(_ session: NewWebSession) -> HTTPFields {
    [.cookie: "accord_session=\(session.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
}

@Suite("The account page: one's password and sessions")
struct AccountPageTests {
    @Test("changing the password needs the current one and ends the other sessions, not this one; a session of one's own ends")
    func passwordAndSessions() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let here = try await db.store.login(handle: "bea", password: apiPassword, address: "192.0.2.7")
            let elsewhere = try await db.store.login(handle: "bea", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let fresh = "bea's fresh password"
            try await app.test(.router) { client in
                try await client.execute(uri: "/account", method: .get, headers: browser(here)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("(this session)") && html.contains("192.0.2.7") && html.contains("not recorded"))
                    #expect(html.components(separatedBy: "/end\">").count == 3, "two sessions, each with its form")
                }
                try await client.execute(
                    uri: "/account/password",
                    method: .post,
                    headers: browser(here),
                    body: form([
                        "csrf_token": here.session.csrfToken, "current_password": "wrong", "new_password": fresh, "new_password_confirmation": fresh,
                    ])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unauthorized)
                    #expect(
                        html.contains(
                            "id=\"current-password\" name=\"current_password\" type=\"password\" autocomplete=\"current-password\" required aria-invalid=\"true\""
                        )
                    )
                    #expect(!html.contains(fresh))
                }
                try await client.execute(
                    uri: "/account/password",
                    method: .post,
                    headers: browser(here),
                    body: form([
                        "csrf_token": here.session.csrfToken, "current_password": apiPassword, "new_password": fresh,
                        "new_password_confirmation": "x",
                    ])
                ) { #expect($0.status == .unprocessableContent) }
                try await client.execute(uri: "/account", method: .get, headers: browser(elsewhere)) { #expect($0.status == .ok) }
                try await client.execute(
                    uri: "/account/password",
                    method: .post,
                    headers: browser(here),
                    body: form([
                        "csrf_token": here.session.csrfToken, "current_password": apiPassword, "new_password": fresh,
                        "new_password_confirmation": fresh,
                    ])
                ) { response in
                    #expect(response.status == .seeOther && response.headers[.location] == "/account?password=1")
                }
                try await client.execute(uri: "/account?password=1", method: .get, headers: browser(here)) { response in
                    #expect(response.status == .ok && String(buffer: response.body).contains("Your password is changed"))
                }
                try await client.execute(uri: "/account", method: .get, headers: browser(elsewhere)) { #expect($0.headers[.location] == "/login") }
                await #expect(throws: AccordError.self) { _ = try await db.store.login(handle: "bea", password: apiPassword, address: nil) }
                let third = try await db.store.login(handle: "bea", password: fresh, address: nil)
                let thirdID = try #require(try await db.store.ownSessions(actor: "bea", currentCookie: third.cookieToken).first { $0.current }?.id)
                let ottoID = try #require(try await db.store.ownSessions(actor: "otto", currentCookie: otto.cookieToken).first?.id)
                // Another person's session is not found, and stays.
                try await client.execute(
                    uri: "/account/sessions/\(ottoID)/end",
                    method: .post,
                    headers: browser(here),
                    body: form(["csrf_token": here.session.csrfToken])
                ) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/inbox", method: .get, headers: browser(otto)) { #expect($0.status == .ok) }
                try await client.execute(
                    uri: "/account/sessions/\(thirdID)/end",
                    method: .post,
                    headers: browser(here),
                    body: form(["csrf_token": here.session.csrfToken])
                ) { #expect($0.headers[.location] == "/account?ended=1") }
                try await client.execute(uri: "/inbox", method: .get, headers: browser(third)) { #expect($0.headers[.location] == "/login") }
                try await client.execute(uri: "/inbox", method: .get, headers: browser(here)) { #expect($0.status == .ok) }
            }
        }
    }
}

@Suite("People and one's own account in the JSON API")
struct PeopleAPITests {
    @Test("add a person with a link, set the password with it once, disable, enable, reset; non-administrators refused")
    func people() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/api/v1/people",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["handle": "x", "name": "X"])
                ) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/people", method: .post, headers: bearer(tokens["ada"]), body: json(["handle": "Bad Handle"])) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(object(response.body)["field"] as? String == "handle")
                }
                let link = try await client.execute(
                    uri: "/api/v1/people",
                    method: .post,
                    headers: bearer(tokens["ada"]),
                    body: json(["handle": "nina", "name": "Nina New", "email": "nina@example.org", "admin": false])
                ) { response -> String in
                    #expect(response.status == .created)
                    let answer = object(response.body)
                    #expect((answer["person"] as? [String: Any])?["canSign"] as? Bool == false)
                    let link = answer["passwordLink"] as? [String: Any]
                    #expect((link?["url"] as? String)?.contains("/set-password/") == true)
                    return link?["token"] as? String ?? ""
                }
                try await client.execute(uri: "/api/v1/people?q=nin", method: .get, headers: bearer(tokens["ada"])) { response in
                    #expect(object(response.body)["total"] as? Int == 1)
                }
                try await client.execute(uri: "/api/v1/people?format=csv", method: .get, headers: bearer(tokens["ada"])) { response in
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    #expect(response.headers[.init("X-Total-Count")!] == "5")
                }
                try await client.execute(uri: "/api/v1/people", method: .get, headers: bearer(tokens["bea"])) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/api/v1/people/nina", method: .get, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/api/v1/people/nina", method: .get, headers: bearer(tokens["ada"])) { #expect($0.status == .ok) }
                // Open: the link's token is the credential; once only.
                let use = json(["token": link, "password": "nina's own password", "password_confirmation": "nina's own password"])
                try await client.execute(uri: "/api/v1/password-links", method: .post, headers: bearer(nil), body: use) { response in
                    #expect(response.status == .ok)
                    #expect(object(response.body)["canSign"] as? Bool == true)
                }
                try await client.execute(uri: "/api/v1/password-links", method: .post, headers: bearer(nil), body: use) { response in
                    #expect(response.status == .gone)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(
                    uri: "/api/v1/password-links",
                    method: .post,
                    headers: bearer(nil),
                    body: json(["token": "nope", "password": "x"])
                ) {
                    #expect($0.status == .notFound)
                }
                _ = try await db.store.login(handle: "nina", password: "nina's own password", address: nil)
                try await client.execute(uri: "/api/v1/people/otto/disable", method: .post, headers: bearer(tokens["ada"])) { response in
                    #expect(response.status == .ok && object(response.body)["disabled"] as? Bool == true)
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/api/v1/people/otto/disable", method: .post, headers: bearer(tokens["ada"])) {
                    #expect($0.status == .conflict)
                }
                try await client.execute(uri: "/api/v1/people/ada/disable", method: .post, headers: bearer(tokens["ada"])) {
                    #expect($0.status == .conflict)
                }
                try await client.execute(uri: "/api/v1/people/otto/enable", method: .post, headers: bearer(tokens["ada"])) { response in
                    #expect(response.status == .ok && object(response.body)["disabled"] as? Bool == false)
                }
                try await client.execute(uri: "/api/v1/people/otto/password-link", method: .post, headers: bearer(tokens["ada"])) { response in
                    #expect(response.status == .created)
                    #expect(((object(response.body)["passwordLink"] as? [String: Any])?["purpose"] as? String) == "reset")
                }
                await #expect(throws: AccordError.self) { _ = try await db.store.login(handle: "otto", password: apiPassword, address: nil) }
            }
        }
    }

    @Test("my password, sessions and tokens: my own only")
    func me() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let session = try await db.store.login(handle: "bea", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let ottoSession = try #require(try await db.store.ownSessions(actor: "otto", currentCookie: otto.cookieToken).first?.id)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let id = try await client.execute(uri: "/api/v1/me/sessions", method: .get, headers: bearer(tokens["bea"])) { response -> Int in
                    let items = object(response.body)["items"] as? [[String: Any]] ?? []
                    #expect(items.count == 1 && items.first?["current"] as? Bool == false)
                    return items.first?["id"] as? Int ?? 0
                }
                try await client.execute(uri: "/api/v1/me/sessions/\(ottoSession)", method: .delete, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/me/sessions/\(id)", method: .delete, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .noContent)
                }
                #expect(try await db.store.session(cookieToken: session.cookieToken) == nil)
                #expect(try await db.store.session(cookieToken: otto.cookieToken) != nil)
                try await client.execute(
                    uri: "/api/v1/me/password",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["current_password": "wrong", "new_password": "bea's new password"])
                ) { #expect($0.status == .unauthorized) }
                try await client.execute(
                    uri: "/api/v1/me/password",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["current_password": apiPassword, "new_password": "bea's new password"])
                ) { #expect($0.status == .noContent) }
                _ = try await db.store.login(handle: "bea", password: "bea's new password", address: nil)
                let created = try await client.execute(
                    uri: "/api/v1/me/tokens",
                    method: .post,
                    headers: bearer(tokens["bea"]),
                    body: json(["name": "ci", "password": "bea's new password"])
                ) { response -> [String: Any] in
                    #expect(response.status == .created)
                    return object(response.body)
                }
                let token = try #require(created["token"] as? String)
                let tokenID = try #require((created["listed"] as? [String: Any])?["id"] as? Int)
                try await client.execute(uri: "/api/v1/me/tokens", method: .get, headers: bearer(token)) { response in
                    let names = (object(response.body)["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                    #expect(names.sorted() == ["ci", "test"])
                }
                try await client.execute(uri: "/api/v1/me/tokens/\(tokenID)/revoke", method: .post, headers: bearer(tokens["otto"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/me/tokens/\(tokenID)/revoke", method: .post, headers: bearer(tokens["bea"])) {
                    #expect($0.status == .noContent)
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(token)) { #expect($0.status == .unauthorized) }
            }
        }
    }

    @Test("the open password-link routes: hostile input is a 4xx, never a 500, and another site's form is refused")
    func hostileLinks() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let (_, link) = try await db.store.invitePerson(handle: "nina", name: "Nina New", email: nil, admin: false, actor: "ada")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let bodies: [(String, HTTPFields, ByteBuffer, Int)] = [
                    ("not JSON", [.contentType: "application/x-www-form-urlencoded"], ByteBuffer(string: "token=x&password=y"), 415),
                    ("wrong types", [.contentType: "application/json"], ByteBuffer(string: #"{"token": 1, "password": []}"#), 400),
                    ("no token", [.contentType: "application/json"], ByteBuffer(string: #"{"password": "long enough password"}"#), 422),
                    ("a NUL in the token", [.contentType: "application/json"], ByteBuffer(string: #"{"token": "a\u0000b", "password": "x"}"#), 404),
                    (
                        "too large", [.contentType: "application/json"],
                        ByteBuffer(string: "{\"token\":\"" + String(repeating: "a", count: 1 << 20) + "\"}"), 413
                    ),
                    (
                        "a short password", [.contentType: "application/json"],
                        ByteBuffer(string: #"{"token": "\#(link.token)", "password": "short"}"#), 422
                    ),
                ]
                for (name, headers, body, status) in bodies {
                    try await client.execute(uri: "/api/v1/password-links", method: .post, headers: headers, body: body) { response in
                        #expect(Int(response.status.code) == status, "\(name): \(response.status)")
                        #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                    }
                }
                for path in ["/set-password/%00", "/set-password/" + String(repeating: "x", count: 4000), "/set-password/..%2F..%2Fetc"] {
                    try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound, "\(path.prefix(40))") }
                }
                try await client.execute(
                    uri: "/set-password/\(link.token)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                    body: form(["password": "a long enough password", "password_confirmation": "a long enough password"])
                ) { #expect($0.status == .forbidden) }
                #expect(try await db.store.person("nina").canSign == false)
                #expect(try await db.store.passwordLink(token: link.token) == .live(handle: "nina", name: "Nina New", purpose: .welcome))
                // Disabling the person makes their link stop working.
                _ = try await db.store.disablePerson("nina", actor: "ada")
                try await client.execute(uri: "/set-password/\(link.token)", method: .get) { #expect($0.status == .gone) }
            }
        }
    }
}
