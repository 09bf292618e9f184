import AccordCore
import AccordReports
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

func form(_ fields: [String: String]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
}

@Suite("The web pages")
struct PageTests {
    @Test("log in with the form, see the sign-off in the inbox, sign with the password; CSRF and sessions hold")
    func signInTheBrowser() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await db.store.submitTask(String(plan.id), actor: "otto")
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/inbox", method: .get) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/login")
                }
                let login = try await client.execute(uri: "/login", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("<form class=\"card narrow\" method=\"post\" action=\"/login\">"))
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    return loginForm(response)
                }
                try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .cookie: login.cookie],
                    body: form(["handle": "bea", "password": "wrong", "login_token": login.token])
                ) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("wrong handle or password"))
                }
                let cookie = try await client.execute(
                    uri: "/login",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .cookie: login.cookie],
                    body: form(["handle": "bea", "password": apiPassword, "login_token": login.token])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/inbox")
                    return String((response.headers[.setCookie] ?? "").split(separator: ";")[0])
                }
                let csrf = try await client.execute(uri: "/inbox", method: .get, headers: [.cookie: cookie]) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Bea Board (bea)"))
                    #expect(html.contains("<title>Inbox · Accord</title>"))
                    #expect(html.contains("/tasks/\(plan.id)\">Plan</a>"))
                    let marker = "name=\"csrf_token\" value=\""
                    let start = html.range(of: marker)!.upperBound
                    return String(html[start...].prefix { $0 != "\"" })
                }
                try await client.execute(uri: "/tasks/\(plan.id)", method: .get, headers: [.cookie: cookie]) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Your password, again"))
                    #expect(html.contains("Sign-off: 1 of board"))
                }
                try await client.execute(
                    uri: "/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["password": apiPassword, "decision": "approve"])
                ) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(
                    uri: "/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["csrf_token": csrf, "password": "not mine", "decision": "approve"])
                ) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("wrong password; nothing was signed"))
                }
                try await client.execute(
                    uri: "/tasks/\(plan.id)/sign",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["csrf_token": csrf, "password": apiPassword, "decision": "approve", "meaning": "approval", "comment": "Fine"])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/tasks/\(plan.id)?signed=1")
                }
                try await client.execute(uri: "/tasks/\(plan.id)?signed=1", method: .get, headers: [.cookie: cookie]) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Your decision is recorded."))
                    #expect(html.contains("<span class=\"state done\">done</span>"))
                    #expect(html.contains("approved as board"))
                }
                try await client.execute(uri: "/programs/api/timeline.svg", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.headers[.contentType] == "image/svg+xml")
                    #expect(String(buffer: response.body).hasPrefix("<svg"))
                }
                try await client.execute(uri: "/programs/other", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(String(buffer: response.body).contains("no program &#39;other&#39;"))
                    #expect(String(buffer: response.body).contains("<h1>Not found</h1>"))
                }
                // A state change on GET does nothing: there is no GET route that signs, assigns or submits.
                try await client.execute(uri: "/tasks/\(plan.id)/sign", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .notFound) }
                try await client.execute(
                    uri: "/logout",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["csrf_token": csrf])
                ) { #expect($0.status == .seeOther) }
                try await client.execute(uri: "/inbox", method: .get, headers: [.cookie: cookie]) { #expect($0.headers[.location] == "/login") }
                // The application owns the pool while it runs: check the trail before it stops.
                #expect(try await db.store.verifyAudit(program: "api", actor: "ada").ok)
            }
        }
    }
}

@Suite("Page rendering")
struct PageRenderingTests {
    @Test("a finished task is never shown late, even when its program has overdue work")
    func finishedIsNotLate() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada", email: nil, admin: true, password: apiPassword, actor: nil)
            _ = try await store.loadWorkflow(
                yaml: """
                    id: late-test
                    version: 1
                    title: Late
                    roles:
                      lead: {title: Lead, manager: true}
                    steps:
                      - key: s
                        title: Step
                        tasks:
                          - {key: finished, title: Finished task, owner: lead, due: P1D}
                          - {key: late, title: Late task, owner: lead, due: P2D}
                    """,
                file: "late.yaml",
                actor: "ada"
            )
            _ = try await store.startProgram(
                workflow: "late-test",
                version: nil,
                title: "Late",
                slug: "late",
                startsOn: CalendarDate.today().adding(days: -10),
                actor: "ada"
            )
            _ = try await store.bindRole(program: "late", role: "lead", handles: ["ada"], actor: "ada")
            _ = try await store.submitTask("late/finished", actor: "ada")
            let session = try await store.login(handle: "ada", password: apiPassword, address: nil)
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/late", method: .get, headers: [.cookie: "accord_session=\(session.cookieToken)"]) {
                    response in
                    let html = String(buffer: response.body)
                    let rows = html.components(separatedBy: "<tr").filter { $0.contains("/tasks/") }
                    let finished = try #require(rows.first { $0.contains("Finished task") })
                    let late = try #require(rows.first { $0.contains("Late task") })
                    #expect(!finished.contains("days late"))
                    #expect(late.contains("8 days late"))
                    #expect(html.contains("· 1 overdue</p>"))
                }
            }
        }
    }
}

extension PageRenderingTests {
    @Test("after a scheduler pass, escalations show in the leader's inbox, on the task page, on the leadership page and in the API")
    func escalationsShow() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada", email: nil, admin: true, password: apiPassword, actor: nil)
            _ = try await store.addPerson(handle: "ceo", name: "Cleo Chief", email: nil, admin: false, password: apiPassword, actor: "ada")
            _ = try await store.loadWorkflow(
                yaml: """
                    id: escalation-test
                    version: 1
                    title: Escalation
                    roles:
                      lead: {title: Lead, manager: true}
                      chief: {title: Chief, leadership: true}
                    defaults:
                      escalation: {chain: [{after: P3D, to: chief}]}
                    steps:
                      - key: s
                        title: Step
                        tasks:
                          - {key: late, title: Late <task>, owner: lead, due: P2D}
                    """,
                file: "esc.yaml",
                actor: "ada"
            )
            _ = try await store.startProgram(
                workflow: "escalation-test",
                version: nil,
                title: "Esc",
                slug: "esc",
                startsOn: CalendarDate.today().adding(days: -10),
                actor: "ada"
            )
            _ = try await store.bindRole(program: "esc", role: "lead", handles: ["ada"], actor: "ada")
            _ = try await store.bindRole(program: "esc", role: "chief", handles: ["ceo"], actor: "ada")
            let pass = try await store.runDeadlines()
            #expect(pass.escalations == 1)
            let session = try await store.login(handle: "ceo", password: apiPassword, address: nil)
            let cookie: HTTPFields = [.cookie: "accord_session=\(session.cookieToken)"]
            let task = try await store.task("esc/late", actor: "ada")
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/inbox", method: .get, headers: cookie) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Reminders and escalations <span class=\"count\">1</span>"))
                    #expect(html.contains("Escalation level 1 to chief: esc/late (Late &lt;task&gt;) is 8 days late; unassigned"), "\(html)")
                }
                try await client.execute(uri: "/tasks/\(task.task.id)", method: .get, headers: cookie) { response in
                    #expect(String(buffer: response.body).contains("Escalation 1 to chief on \(CalendarDate.today()) → ceo"))
                }
                try await client.execute(uri: "/leadership", method: .get, headers: cookie) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<h2>Open escalations</h2>"))
                    #expect(html.contains("<td>chief</td><td>ceo</td>"))
                }
                try await client.execute(uri: "/api/v1/inbox", method: .get, headers: cookie) { response in
                    let notices = object(response.body)["notices"] as? [[String: Any]]
                    #expect(notices?.first?["kind"] as? String == "escalation")
                    #expect(notices?.first?["task"] as? String == "esc/late")
                }
            }
        }
    }
}

@Suite("Reports and the calendar feed in the web front")
struct ReportPageTests {
    @Test("each report has a page and a CSV; the API serves it as JSON; an unknown report is a 404 problem")
    func reportPages() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada", email: nil, admin: true, password: apiPassword, actor: nil)
            _ = try await store.startProgram(workflow: "eu-ai-act-iso42001", version: nil, title: "ACME", slug: "acme", startsOn: nil, actor: "ada")
            _ = try await store.bindRole(program: "acme", role: "aims-manager", handles: ["ada"], actor: "ada")
            let session = try await store.login(handle: "ada", password: apiPassword, address: nil)
            let cookie: HTTPFields = [.cookie: "accord_session=\(session.cookieToken)"]
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for kind in ReportKind.allCases {
                    try await client.execute(uri: "/programs/acme/reports/\(kind.rawValue)", method: .get, headers: cookie) { response in
                        #expect(response.status == .ok, "\(kind)")
                        #expect(
                            String(buffer: response.body).contains("<h1>\(kind.title.replacingOccurrences(of: "&", with: "&amp;"))</h1>"),
                            "\(kind)"
                        )
                    }
                }
                try await client.execute(uri: "/programs/acme/reports/soa", method: .get, headers: cookie) { response in
                    let html = String(buffer: response.body)
                    #expect(html.components(separatedBy: "<td>iso42001:A.").count - 1 == 38)
                }
                try await client.execute(uri: "/programs/acme/reports/soa.csv", method: .get, headers: cookie) { response in
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    let lines = String(buffer: response.body).split(separator: "\r\n")
                    #expect(lines.first == "control,title,applicability,justification,status,tasks done,tasks,evidence")
                    #expect(lines.count == 39)
                }
                try await client.execute(uri: "/api/v1/programs/acme/reports/crosswalk", method: .get, headers: cookie) { response in
                    #expect(response.status == .ok)
                    #expect((object(response.body)["tables"] as? [Any])?.count == 4)
                }
                try await client.execute(uri: "/api/v1/programs/acme/reports/nonsense", method: .get, headers: cookie) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(uri: "/programs/acme/reports/soa", method: .get) { response in
                    #expect(response.status == .seeOther)  // to the login page
                }
            }
        }
    }

    @Test("the calendar feed: created on the account page with the CSRF token, served as iCalendar to its token only, replaced and turned off")
    func calendarFeed() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada", email: nil, admin: true, password: apiPassword, actor: nil)
            _ = try await store.startProgram(
                workflow: "eu-ai-act-iso42001",
                version: nil,
                title: "ACME",
                slug: "acme",
                startsOn: CalendarDate("2026-01-05"),
                actor: "ada"
            )
            _ = try await store.bindRole(program: "acme", role: "aims-manager", handles: ["ada"], actor: "ada")
            let session = try await store.login(handle: "ada", password: apiPassword, address: nil)
            let cookie = "accord_session=\(session.cookieToken)"
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/account/calendar",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["action": "create"])
                ) { response in
                    #expect(response.status == .forbidden)  // no CSRF token
                }
                let url = try await client.execute(
                    uri: "/account/calendar",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["action": "create", "csrf_token": session.session.csrfToken])
                ) { response -> String in
                    let html = String(buffer: response.body)
                    let start = try #require(html.range(of: "/calendar/"))
                    let end = try #require(html.range(of: ".ics", range: start.upperBound..<html.endIndex))
                    return String(html[start.lowerBound..<end.upperBound])
                }
                try await client.execute(uri: url, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/calendar; charset=utf-8")
                    let ics = String(buffer: response.body)
                    #expect(ics.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
                    #expect(ics.hasSuffix("END:VCALENDAR\r\n"))
                    #expect(ics.contains("SUMMARY:Due: Analyse the organisation's context and interested parties ("))
                    #expect(ics.contains("DTSTART;VALUE=DATE:20260126\r\n"))
                    #expect(ics.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 75 })
                }
                try await client.execute(uri: "/calendar/cal_wrong.ics", method: .get) { response in
                    #expect(response.status == .notFound)
                }
                _ = try await client.execute(
                    uri: "/account/calendar",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["action": "create", "csrf_token": session.session.csrfToken])
                ) { _ in }
                try await client.execute(uri: url, method: .get) { response in
                    #expect(response.status == .notFound)  // replaced
                }
                _ = try await client.execute(
                    uri: "/account/calendar",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: form(["action": "remove", "csrf_token": session.session.csrfToken])
                ) { _ in }
                #expect(try await store.calendarFeedCreated(actor: "ada") == nil)
            }
        }
    }
}

@Suite("Evidence upload from the task page")
struct PageUploadTests {
    @Test("a multipart upload with the form's CSRF token stores the file; without it nothing is stored")
    func upload() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let plan = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            let session = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            @Sendable func body(csrf: String?, fileName: String = "C:\\\\evil\\\\..\\\\plan v1.txt") -> ByteBuffer {
                var text = ""
                if let csrf { text += "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\(csrf)\r\n" }
                text += "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nAI plan\r\n"
                text +=
                    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n--XyZ--\r\n"
                return ByteBuffer(string: text)
            }
            let headers: HTTPFields = [.cookie: "accord_session=\(session.cookieToken)", .contentType: "multipart/form-data; boundary=XyZ"]
            try await app.test(.router) { client in
                try await client.execute(uri: "/tasks/\(plan.id)/evidence", method: .post, headers: headers, body: body(csrf: nil)) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(
                    uri: "/tasks/\(plan.id)/evidence",
                    method: .post,
                    headers: headers,
                    body: body(csrf: session.session.csrfToken)
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/tasks/\(plan.id)?uploaded=1")
                }
                let stored = try await db.store.evidence(of: String(plan.id), actor: "otto")
                #expect(stored.count == 1)
                #expect(stored.first?.title == "AI plan")
                #expect(stored.first?.size == "line one\r\nline two".utf8.count)
                #expect(stored.first?.fileName == "plan v1.txt")
                try await client.execute(
                    uri: "/tasks/\(plan.id)/evidence",
                    method: .post,
                    headers: [.cookie: "accord_session=\(session.cookieToken)", .contentType: "multipart/form-data; boundary=XyZ"],
                    body: ByteBuffer(string: "--XyZ\r\ngarbage")
                ) { #expect($0.status == .unprocessableContent) }
            }
        }
    }
}

/// The login form's pre-session cookie (as a Cookie header) and the token in its hidden field.
func loginForm(_ response: TestResponse) -> (cookie: String, token: String) {
    let html = String(buffer: response.body)
    let marker = "name=\"login_token\" value=\""
    let token = html.range(of: marker).map { String(html[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
    let cookie = String((response.headers[.setCookie] ?? "").split(separator: ";").first ?? "")
    return (cookie, token)
}

@Suite("A task owner works a task from its page")
struct PageTaskActionTests {
    @Test("start and submit by form, post/redirect/get; a refusal shows the page again with the field marked; no CSRF, no change")
    func startSubmitNotApplicable() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let tasks = try await db.store.tasks(TaskFilter(program: "api"), actor: "ada")
            let plan = try #require(tasks.first { $0.key == "plan" })
            let later = try #require(tasks.first { $0.key == "later" })
            if plan.assignee != "otto" { _ = try await db.store.assignTask(String(plan.id), to: "otto", actor: "ada") }
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            @Sendable func headers(_ session: NewWebSession) -> HTTPFields {
                [.cookie: "accord_session=\(session.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
            }
            try await app.test(.router) { client in
                try await client.execute(uri: "/tasks/\(plan.id)", method: .get, headers: headers(otto)) { response in
                    #expect(String(buffer: response.body).contains("Start this task"))
                }
                // Without the form's token nothing happens.
                try await client.execute(uri: "/tasks/\(plan.id)/start", method: .post, headers: headers(otto), body: form([:])) {
                    #expect($0.status == .forbidden)
                }
                #expect(try await db.store.task(String(plan.id), actor: "otto").task.state == .open)
                try await client.execute(
                    uri: "/tasks/\(plan.id)/start",
                    method: .post,
                    headers: headers(otto),
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/tasks/\(plan.id)?started=1")
                }
                try await client.execute(uri: "/tasks/\(plan.id)?started=1", method: .get, headers: headers(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("The task is started") && html.contains("Submit for review"))
                }
                try await client.execute(
                    uri: "/tasks/\(plan.id)/submit",
                    method: .post,
                    headers: headers(otto),
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { response in
                    #expect(response.headers[.location] == "/tasks/\(plan.id)?submitted=1")
                }
                #expect(try await db.store.task(String(plan.id), actor: "otto").task.state == .inReview)
                // A second submit (a reload, a double click) is refused on the page and changes nothing.
                try await client.execute(
                    uri: "/tasks/\(plan.id)/submit",
                    method: .post,
                    headers: headers(otto),
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { response in
                    #expect(response.status == .conflict)
                    #expect(String(buffer: response.body).contains("role=\"alert\""))
                }
                // A reason of blanks: the same page, the reason field marked, the message announced.
                try await client.execute(
                    uri: "/tasks/\(later.id)/not-applicable",
                    method: .post,
                    headers: headers(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "reason": "   "])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("aria-invalid=\"true\"") && html.contains("say why the task does not apply"))
                    #expect(!html.contains("--reason"), "the page does not speak of CLI flags")
                }
                try await client.execute(
                    uri: "/tasks/\(later.id)/not-applicable",
                    method: .post,
                    headers: headers(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "reason": "No AI system in scope"])
                ) { response in
                    #expect(response.headers[.location] == "/tasks/\(later.id)?na=1")
                }
                #expect(try await db.store.task(String(later.id), actor: "ada").task.state == .notApplicable)
            }
        }
    }
}

@Suite("API tokens on the account page")
struct PageTokenTests {
    @Test("create a token with the password (shown once, works as a bearer), refused without it with the field marked, revoke it")
    func createAndRevoke() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let bea = try await db.store.login(handle: "bea", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let headers: HTTPFields = [.cookie: "accord_session=\(bea.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
            try await app.test(.router) { client in
                // A wrong password: nothing created, the password field marked, the name kept.
                try await client.execute(
                    uri: "/account/tokens",
                    method: .post,
                    headers: headers,
                    body: form(["csrf_token": bea.session.csrfToken, "name": "laptop <script>", "password": "wrong"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unauthorized)
                    #expect(
                        html.contains(
                            "id=\"token-password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required aria-invalid=\"true\""
                        )
                    )
                    #expect(html.contains("value=\"laptop &lt;script&gt;\""), "the input is kept, escaped")
                }
                #expect(try await db.store.tokens(actor: "bea").filter { $0.name.hasPrefix("laptop") }.isEmpty)
                // An empty name: the name field marked.
                try await client.execute(
                    uri: "/account/tokens",
                    method: .post,
                    headers: headers,
                    body: form(["csrf_token": bea.session.csrfToken, "name": " ", "password": apiPassword])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("required value=\" \" aria-invalid=\"true\""))
                }
                let token = try await client.execute(
                    uri: "/account/tokens",
                    method: .post,
                    headers: headers,
                    body: form(["csrf_token": bea.session.csrfToken, "name": "laptop", "password": apiPassword])
                ) { response -> String in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    return html.range(of: #"acc_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(html[$0]) } ?? ""
                }
                #expect(token.hasPrefix("acc_"))
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .ok)
                }
                // The token is listed on the page afterwards, but never shown again.
                try await client.execute(uri: "/account", method: .get, headers: headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<td>laptop</td>") && !html.contains(token))
                }
                let id = try #require(try await db.store.tokens(actor: "bea").first { $0.name == "laptop" }?.id)
                // Another person's page cannot revoke it.
                let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
                try await client.execute(
                    uri: "/account/tokens/\(id)/revoke",
                    method: .post,
                    headers: [.cookie: "accord_session=\(otto.cookieToken)", .contentType: "application/x-www-form-urlencoded"],
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { #expect($0.status == .notFound) }
                try await client.execute(
                    uri: "/account/tokens/\(id)/revoke",
                    method: .post,
                    headers: headers,
                    body: form(["csrf_token": bea.session.csrfToken])
                ) { response in
                    #expect(response.status == .seeOther && response.headers[.location] == "/account?revoked=1")
                }
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }
}
