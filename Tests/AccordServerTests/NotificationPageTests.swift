import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

@Suite("The notifications page: preferences per kind, time zone, digest hour; mail status for administrators")
struct NotificationPageTests {
    @Test("choices are saved; switching escalations off is refused with the row marked and the input kept; CSRF; admins see mail is off")
    func preferences() async throws {
        try await TestDatabase.with { db in
            try await seededMail(db.store)
            let otto = try await db.store.login(handle: "otto", password: mailPassword, address: nil)
            let ada = try await db.store.login(handle: "ada", password: mailPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            @Sendable func headers(_ session: NewWebSession) -> HTTPFields {
                [.cookie: "accord_session=\(session.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
            }
            try await app.test(.router) { client in
                try await client.execute(uri: "/account/notifications", method: .get, headers: headers(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("Accord mails you at <strong>otto@example.com</strong>"))
                    #expect(html.contains("id=\"escalation-digest\"") && !html.contains("id=\"escalation-off\""))
                    #expect(html.contains("id=\"comment-off\"") && html.contains("Cannot be switched off"))
                    #expect(!html.contains("Mail for everyone"), "only administrators see the outbox")
                }
                try await client.execute(
                    uri: "/account/notifications",
                    method: .post,
                    headers: headers(otto),
                    body: form(["comment": "off", "reminder": "digest", "time_zone": "Europe/Paris", "digest_hour": "7"])
                ) { response in
                    #expect(response.status == .forbidden, "no CSRF token, no change")
                }
                try await client.execute(
                    uri: "/account/notifications",
                    method: .post,
                    headers: headers(otto),
                    body: form([
                        "csrf_token": otto.session.csrfToken, "comment": "off", "reminder": "digest", "time_zone": "Europe/Paris", "digest_hour": "7",
                    ])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/account/notifications?saved=1")
                }
                let saved = try await db.store.mailPreferences(actor: "otto")
                #expect(saved.mode(.comment) == .off && saved.mode(.reminder) == .digest && saved.timeZone == "Europe/Paris" && saved.digestHour == 7)
                // A forged "off" for escalations: refused, the row marked, the other choices as typed.
                try await client.execute(
                    uri: "/account/notifications",
                    method: .post,
                    headers: headers(otto),
                    body: form([
                        "csrf_token": otto.session.csrfToken, "escalation": "off", "comment": "now", "time_zone": "Asia/Tokyo", "digest_hour": "9",
                    ])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("escalations of late work cannot be switched off"))
                    #expect(html.contains("<p class=\"error\" id=\"escalation-error\">"))
                    #expect(html.contains("value=\"Asia/Tokyo\"") && html.contains("id=\"comment-now\" name=\"comment\" value=\"now\" checked"))
                }
                try await client.execute(
                    uri: "/account/notifications",
                    method: .post,
                    headers: headers(otto),
                    body: form(["csrf_token": otto.session.csrfToken, "time_zone": "Mars/Olympus"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("value=\"Mars/Olympus\" aria-invalid=\"true\""))
                }
                #expect(try await db.store.mailPreferences(actor: "otto") == saved, "a refused form changes nothing")
                // Times on otto's pages are in his zone now (Paris in December: UTC+1); ada's stay UTC.
                try await client.execute(uri: "/account", method: .get, headers: headers(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("+01:00</td>") && !html.contains("Z</td>"), "\(html)")
                }
                try await client.execute(uri: "/account", method: .get, headers: headers(ada)) { response in
                    #expect(String(buffer: response.body).contains("Z</td>"))
                }
                try await client.execute(uri: "/account/notifications", method: .get, headers: headers(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<strong>Mail is off</strong>") && html.contains("0 sent"))
                }
                try await client.execute(uri: "/account/notifications", method: .get) { response in
                    #expect(response.status == .seeOther, "a login first")
                }
            }
        }
    }

    @Test("the API: GET and PATCH /api/v1/me/notifications, problem+json on what is refused, an empty change changes nothing")
    func api() async throws {
        try await TestDatabase.with { db in
            try await seededMail(db.store)
            let token = try await db.store.createToken(for: "otto", name: "t", expires: nil, actor: "otto", proof: .password(mailPassword)).1
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/me/notifications", method: .get, headers: headers) { response in
                    let body = object(response.body)
                    #expect(response.status == .ok && body["timeZone"] as? String == "UTC" && body["digestHour"] as? Int == 8)
                    #expect((body["modes"] as? [String: String])?["escalation"] == "now")
                }
                for (patch, field) in [
                    (["modes": ["escalation": "off"]], "modes"), (["modes": ["nope": "now"]], "modes"), (["time_zone": "Nowhere/Land"], "time_zone"),
                    (["digest_hour": 25], "digest_hour"),
                ] as [([String: Any], String)] {
                    try await client.execute(uri: "/api/v1/me/notifications", method: .patch, headers: headers, body: json(patch)) { response in
                        #expect(response.status == .unprocessableContent, "\(patch)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        _ = field
                    }
                }
                try await client.execute(
                    uri: "/api/v1/me/notifications",
                    method: .patch,
                    headers: headers,
                    body: json(["modes": ["escalation": "digest", "comment": "off"], "time_zone": "America/New_York", "digest_hour": 6])
                ) { response in
                    let body = object(response.body)
                    #expect(response.status == .ok && body["timeZone"] as? String == "America/New_York" && body["digestHour"] as? Int == 6)
                    #expect((body["modes"] as? [String: String])?["comment"] == "off")
                }
                let entries = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE action = 'person.mail-preferences'")[0].decode(
                        Int.self,
                        "n"
                    )
                }
                try await client.execute(uri: "/api/v1/me/notifications", method: .patch, headers: headers, body: json([:])) { response in
                    #expect(response.status == .ok)
                }
                let after = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE action = 'person.mail-preferences'")[0].decode(
                        Int.self,
                        "n"
                    )
                }
                #expect(entries == 1 && after == 1, "one audited change; the empty one changed nothing")
            }
        }
    }
}
