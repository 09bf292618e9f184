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

/// The cookie and form headers of a browser session.
private func browser(_ session: NewWebSession) -> HTTPFields {
    [.cookie: "accord_session=\(session.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
}

/// The token of the first password link in a page or a JSON answer.
private func linkToken(_ text: String) -> String? {
    text.range(of: #"/set-password/[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(text[$0].dropFirst("/set-password/".count)) }
}

private let newPassword = "a brand new password"

@Suite("People pages: adding people with a one-time link, disabling, resetting")
struct PeoplePageTests {
    @Test("an administrator adds a person; the link sets the password once, then is refused; an expired link is refused; they log in")
    func addAndSetPassword() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                // A bad e-mail: the same page, the field marked, the input kept.
                try await client.execute(
                    uri: "/people",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "handle": "nina", "name": "Nina New", "email": "not-an-address"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("role=\"alert\"") && html.contains("not an e-mail address"))
                    #expect(html.contains("value=\"not-an-address\" aria-invalid=\"true\" aria-describedby=\"page-error\""))
                    #expect(html.contains("value=\"Nina New\""))
                }
                let token = try await client.execute(
                    uri: "/people",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "handle": "nina", "name": "Nina New", "email": "nina@example.org"])
                ) { response -> String? in
                    #expect(response.status == .created)
                    return linkToken(String(buffer: response.body))
                }
                let link = try #require(token)
                #expect(try await db.store.person("nina").canSign == false)
                // Only the hash is kept.
                let stored = try await db.pool.withConnection {
                    try await $0.query(
                        "SELECT count(*)::int AS n FROM accord.password_link WHERE token_sha256 = sha256(convert_to('\(link)', 'UTF8'))"
                    )[0]
                    .decode(Int.self, "n")
                }
                #expect(stored == 1)
                try await client.execute(uri: "/set-password/\(link)", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("Choose your password") && html.contains("For Nina New (nina)"))
                    #expect(html.contains("<label for=\"set-password-again\">"))
                }
                try await client.execute(
                    uri: "/set-password/\(link)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": newPassword, "password_confirmation": "something else entirely"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("the two passwords differ"))
                    #expect(
                        html.contains(
                            "name=\"password_confirmation\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\" required aria-invalid=\"true\""
                        )
                    )
                    #expect(!html.contains(newPassword), "a password is never echoed")
                }
                try await client.execute(
                    uri: "/set-password/\(link)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": "short", "password_confirmation": "short"])
                ) { #expect($0.status == .unprocessableContent) }
                #expect(try await db.store.person("nina").canSign == false)
                try await client.execute(
                    uri: "/set-password/\(link)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": newPassword, "password_confirmation": newPassword])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/login?password-set=1")
                }
                try await client.execute(uri: "/login?password-set=1", method: .get) { response in
                    #expect(String(buffer: response.body).contains("Your password is set. Log in with it."))
                }
                // Once only.
                try await client.execute(
                    uri: "/set-password/\(link)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": "another long password", "password_confirmation": "another long password"])
                ) { response in
                    #expect(response.status == .gone)
                    #expect(String(buffer: response.body).contains("This link no longer works"))
                }
                try await client.execute(uri: "/set-password/\(link)", method: .get) { #expect($0.status == .gone) }
                try await client.execute(uri: "/set-password/not-a-link", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(String(buffer: response.body).contains("No such link"))
                }
                _ = try await db.store.login(handle: "nina", password: newPassword, address: nil)

                // A reset: a new link; the old password stops working; an aged link is refused.
                let reset = try await client.execute(
                    uri: "/people/nina/password-link",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken])
                ) { response -> String? in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("Their link to choose a new password"))
                    return linkToken(String(buffer: response.body))
                }
                let resetLink = try #require(reset)
                await #expect(throws: AccordError.self) { _ = try await db.store.login(handle: "nina", password: newPassword, address: nil) }
                try await db.pool.withConnection { connection in
                    _ = try await connection.execute(
                        """
                        UPDATE accord.password_link SET created_at = now() - interval '73 hours', expires_at = now() - interval '1 hour'
                        WHERE token_sha256 = sha256(convert_to('\(resetLink)', 'UTF8'))
                        """
                    )
                }
                try await client.execute(uri: "/set-password/\(resetLink)", method: .get) { response in
                    #expect(response.status == .gone)
                    #expect(String(buffer: response.body).contains("This link has expired"))
                }
                try await client.execute(
                    uri: "/set-password/\(resetLink)",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": newPassword, "password_confirmation": newPassword])
                ) { #expect($0.status == .gone) }
                #expect(try await db.store.person("nina").canSign == false)
                #expect(try await db.store.verifyAudit(program: nil, actor: "ada").ok)
            }
        }
    }

    @Test("disabling ends the person's session and API token at once; enabling lets them log in afresh; no one disables themselves")
    func disableAndEnable() async throws {
        try await TestDatabase.with { db in
            let tokens = try await seededAPI(db.store)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/inbox", method: .get, headers: browser(otto)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { #expect($0.status == .ok) }
                // Without the form's token nothing happens.
                try await client.execute(uri: "/people/otto/disable", method: .post, headers: browser(ada), body: form([:])) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/people/otto/disable",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/people/otto?disabled=1")
                }
                try await client.execute(uri: "/inbox", method: .get, headers: browser(otto)) { #expect($0.headers[.location] == "/login") }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { #expect($0.status == .unauthorized) }
                await #expect(throws: AccordError.self) { _ = try await db.store.login(handle: "otto", password: apiPassword, address: nil) }
                try await client.execute(uri: "/people/otto?disabled=1", method: .get, headers: browser(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("is disabled: their sessions ended") && html.contains("Enable otto again"))
                }
                try await client.execute(
                    uri: "/people/ada/disable",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken])
                ) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("you cannot disable yourself"))
                }
                try await client.execute(
                    uri: "/people/otto/enable",
                    method: .post,
                    headers: browser(ada),
                    body: form(["csrf_token": ada.session.csrfToken])
                ) { #expect($0.headers[.location] == "/people/otto?enabled=1") }
                _ = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
                // The old session and token stay ended.
                try await client.execute(uri: "/inbox", method: .get, headers: browser(otto)) { #expect($0.headers[.location] == "/login") }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: bearer(tokens["otto"])) { #expect($0.status == .unauthorized) }
            }
        }
    }

    @Test("only administrators see and use the people pages; the list filters in SQL, pages and downloads")
    func administratorsOnly() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let bea = try await db.store.login(handle: "bea", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for uri in ["/people", "/people/otto", "/people?format=csv"] {
                    try await client.execute(uri: uri, method: .get, headers: browser(bea)) { #expect($0.status == .forbidden, "\(uri)") }
                }
                for uri in ["/people", "/people/otto/disable", "/people/otto/password-link"] {
                    try await client.execute(
                        uri: uri,
                        method: .post,
                        headers: browser(bea),
                        body: form(["csrf_token": bea.session.csrfToken, "handle": "mallory", "name": "Mallory"])
                    ) { #expect($0.status == .forbidden, "\(uri)") }
                }
                #expect(try await db.store.person("otto").disabled == false)
                try await client.execute(uri: "/inbox", method: .get, headers: browser(bea)) {
                    #expect(!String(buffer: $0.body).contains("href=\"/people\""))
                }
                try await client.execute(uri: "/inbox", method: .get, headers: browser(ada)) {
                    #expect(String(buffer: $0.body).contains("href=\"/people\""))
                }
                try await client.execute(uri: "/people?q=OTT", method: .get, headers: browser(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("href=\"/people/otto\"") && !html.contains("href=\"/people/bea\""))
                    #expect(html.contains("value=\"OTT\""))
                }
                try await client.execute(uri: "/people?per_page=2", method: .get, headers: browser(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Page 1 of 2") && html.contains("href=\"/people?page=2&amp;per_page=2\" rel=\"next\""))
                    #expect(html.contains("href=\"/people/ada\"") && !html.contains("href=\"/people/otto\""))
                }
                try await client.execute(uri: "/people?q=%25", method: .get, headers: browser(ada)) { response in
                    #expect(String(buffer: response.body).contains("Nobody matches."), "% is a character, not a wildcard")
                }
                _ = try await db.store.disablePerson("eve", actor: "ada")
                try await client.execute(uri: "/people?status=disabled&format=csv", method: .get, headers: browser(ada)) { response in
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    #expect(String(buffer: response.body) == "id,handle,name,email,admin,can_sign,disabled\r\n4,eve,Eve Elsewhere,,no,yes,yes\r\n")
                }
                try await client.execute(uri: "/people?status=whatever", method: .get, headers: browser(ada)) {
                    #expect($0.status == .unprocessableContent)
                }
            }
        }
    }

    @Test("two administrators disabling each other at once: one of them stays active")
    func lastAdministrator() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            _ = try await db.store.addPerson(handle: "zed", name: "Zed Admin", email: nil, admin: true, password: nil, actor: "ada")
            async let first: Person? = try? db.store.disablePerson("zed", actor: "ada")
            async let second: Person? = try? db.store.disablePerson("ada", actor: "zed")
            let results = await [first, second]
            #expect(results.compactMap { $0 }.count == 1)
            let admins = try await db.store.people().filter { $0.isAdmin && !$0.disabled }
            #expect(admins.count == 1)
        }
    }
}
