import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

let improvementWebWorkflow = """
    id: improve-web
    version: 1
    title: Improvement web test
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      boss: {title: Boss, leadership: true}
      auditor: {title: Auditor}
    cycle: {period: P3M, review: review}
    steps:
      - key: plan
        title: Plan
        tasks:
          - key: review
            title: Management review
            owner: manager
            due: P90D
            recurrence: P3M
            approval: {signers: [boss]}
          - key: fix
            title: Corrective action
            trigger: finding
            owner: owner
            due: P14D
            approval: {signers: [boss]}
          - key: check
            title: Effectiveness check
            trigger: finding
            owner: auditor
            depends_on: [fix]
            due: {after: fix, in: P14D}
            approval: {signers: [manager]}
          - key: notify
            title: Notify the authority
            trigger: incident
            owner: owner
            due: incident-clock
            approval: {signers: [boss]}
    """

/// Program "pd": ada (admin), mia (manager), otto (owner), bea (boss), aud (auditor); nemo in no program;
/// program "elsewhere" where only eve works. One AI system, "screener".
func seededImprovementWeb(_ store: Store) async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: apiPassword, actor: nil)
    for handle in ["mia", "otto", "bea", "aud", "nemo", "eve"] {
        _ = try await store.addPerson(handle: handle, name: handle.capitalized, email: nil, admin: false, password: apiPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: improvementWebWorkflow, file: "improve.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "improve-web", version: nil, title: "PDCA", slug: "pd", startsOn: nil, actor: "ada")
    _ = try await store.startProgram(workflow: "improve-web", version: nil, title: "Elsewhere", slug: "elsewhere", startsOn: nil, actor: "ada")
    for (role, handle) in [("manager", "mia"), ("owner", "otto"), ("boss", "bea"), ("auditor", "aud")] {
        _ = try await store.bindRole(program: "pd", role: role, handles: [handle], actor: "ada")
    }
    _ = try await store.bindRole(program: "elsewhere", role: "owner", handles: ["eve"], actor: "ada")
    _ = try await store.addSystems(program: "pd", [NewAISystem(name: "Screener", operatorRole: .provider, riskClass: .high)], actor: "ada")
}

/// A logged-in browser: its cookie header and the session's CSRF token.
struct Browser {
    var cookie: String, csrf: String
    init(_ session: NewWebSession) {
        cookie = "accord_session=\(session.cookieToken)"
        csrf = session.session.csrfToken
    }
    var headers: HTTPFields { [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"] }
}

func browser(_ store: Store, _ handle: String) async throws -> Browser {
    Browser(try await store.login(handle: handle, password: apiPassword, address: nil))
}

/// Starts and submits a task as its owner, so that it waits for its signers.
func submitForReview(_ store: Store, _ task: TaskSummary, as owner: String) async throws {
    _ = try await store.startTask(String(task.id), actor: owner)
    _ = try await store.submitTask(String(task.id), actor: owner)
}

@Suite("The sign-off list and out of office in the web front")
struct SignOffAndAwayPageTests {
    @Test("/signoffs pages past 100, filters by program, overdue and role in SQL, downloads CSV and JSON; another program is refused")
    func signOffList() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededImprovementWeb(store)
            for n in 1...105 {
                _ = try await store.addFinding(program: "pd", source: .audit, severity: .minor, title: "Gap \(n)", system: nil, actor: "otto")
            }
            // Aware three days ago of a widespread infringement (2 days): its report task is overdue.
            let incident = try await store.reportIncident(
                program: "pd",
                system: "screener",
                kind: .widespread,
                awareAt: Date().addingTimeInterval(-3 * 86_400),
                summary: "Mass misclassification",
                actor: "otto"
            )
            for task in try await store.tasks(TaskFilter(program: "pd"), actor: "ada") where task.key == "fix" && task.title.contains("finding") {
                if task.title.hasSuffix("finding 106") { continue }
                try await submitForReview(store, task, as: "otto")
            }
            try await submitForReview(store, try #require(incident.tasks.first), as: "otto")
            let bea = try await browser(store, "bea")
            let tokens = try await ["bea", "eve"].asyncReduce(into: [String: String]()) { all, handle in
                all[handle] = try await store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/inbox", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<a href=\"/signoffs\">All 100+ sign-offs"))
                    #expect(html.contains("<a href=\"/signoffs\">Sign-offs</a>"), "the header's nav links the list")
                }
                try await client.execute(uri: "/signoffs", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("106 sign-offs · page 1 of 3"), "\(html)")
                    #expect(html.contains("href=\"/signoffs?page=2&amp;per_page=50\" rel=\"next\""))
                    #expect(!html.contains("rel=\"prev\""))
                    #expect(html.contains("<th scope=\"col\">Sign as</th>"))
                    // Most late first: the overdue incident report heads the list.
                    let first = try #require(html.range(of: "<tbody>")).upperBound
                    #expect(html[first...].prefix(400).contains("Notify the authority"))
                    #expect(html.contains("days late"))
                }
                try await client.execute(uri: "/signoffs?page=3", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("page 3 of 3"))
                    #expect(html.components(separatedBy: "<tr class=").count - 1 == 6)
                    #expect(html.contains("rel=\"prev\"") && !html.contains("rel=\"next\""))
                }
                try await client.execute(uri: "/signoffs?overdue=true&program=pd", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("1 sign-offs · page 1 of 1"), "\(html)")
                    #expect(html.contains("Notify the authority") && !html.contains("Corrective action"))
                    #expect(html.contains("<input id=\"filter-overdue\" type=\"checkbox\" name=\"overdue\" value=\"true\" checked>"))
                }
                try await client.execute(uri: "/signoffs?role=manager", method: .get, headers: bea.headers) { response in
                    #expect(String(buffer: response.body).contains("0 sign-offs"))
                }
                try await client.execute(uri: "/signoffs?role=boss&format=csv", method: .get, headers: bea.headers) { response in
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    let lines = String(buffer: response.body).split(separator: "\r\n")
                    #expect(lines.first == "id,ref,program,title,sign_as,due_on,overdue_days")
                    #expect(lines.count == 107)
                }
                try await client.execute(uri: "/signoffs?program=elsewhere", method: .get, headers: bea.headers) { response in
                    #expect(response.status == .notFound)
                }
                // The API: the same list, paged past 100.
                try await client.execute(uri: "/api/v1/signoffs?per_page=100&page=2", method: .get, headers: bearer(tokens["bea"])) { response in
                    let body = object(response.body)
                    #expect(body["total"] as? Int == 106)
                    #expect((body["items"] as? [Any])?.count == 6)
                    #expect(response.headers[.init("X-Total-Count")!] == "106")
                }
                try await client.execute(uri: "/api/v1/signoffs?overdue=yes", method: .get, headers: bearer(tokens["bea"])) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(object(response.body)["field"] as? String == "overdue")
                }
                try await client.execute(uri: "/api/v1/signoffs", method: .get, headers: bearer(tokens["eve"])) { response in
                    #expect(object(response.body)["total"] as? Int == 0)
                }
                try await client.execute(uri: "/api/v1/signoffs?program=pd", method: .get, headers: bearer(tokens["eve"])) { response in
                    #expect(response.status == .notFound)
                }
            }
        }
    }

    @Test("out of office: a refused deputy is marked on the page; a deputy set shows on both people's pages and the inbox; revoked by form and API")
    func outOfOffice() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededImprovementWeb(store)
            let bea = try await browser(store, "bea")
            let mia = try await browser(store, "mia")
            let today = CalendarDate.today().description
            let until = CalendarDate.today().adding(days: 10).description
            let tokens = try await ["bea", "aud", "nemo"].asyncReduce(into: [String: String]()) { all, handle in
                all[handle] = try await store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/account", method: .get, headers: bea.headers) { response in
                    #expect(String(buffer: response.body).contains("<a href=\"/account/away\">"))
                }
                try await client.execute(uri: "/account/away", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<label for=\"deputy-0\">Deputy for boss in PDCA (their handle)</label>"))
                    #expect(html.contains("Nobody stands in for you."))
                }
                let away = ["program_0": "pd", "role_0": "boss", "until": until, "reason": "Holiday"]
                // Without the form's token nothing happens.
                try await client.execute(
                    uri: "/account/away",
                    method: .post,
                    headers: bea.headers,
                    body: form(away.merging(["deputy_0": "mia"]) { $1 })
                ) {
                    #expect($0.status == .forbidden)
                }
                // nemo is no member of the program: refused by the engine, the row marked, the input kept.
                try await client.execute(
                    uri: "/account/away",
                    method: .post,
                    headers: bea.headers,
                    body: form(away.merging(["deputy_0": "nemo", "csrf_token": bea.csrf]) { $1 })
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .conflict)
                    #expect(html.contains("role=\"alert\""))
                    #expect(html.contains("nemo holds no role in &#39;pd&#39;"), "\(html)")
                    #expect(html.contains("value=\"nemo\" aria-invalid=\"true\" aria-describedby=\"deputy-0-error\""))
                    #expect(html.contains("value=\"Holiday\""))
                }
                #expect(try await store.delegations(program: "pd", actor: "ada").isEmpty)
                try await client.execute(
                    uri: "/account/away",
                    method: .post,
                    headers: bea.headers,
                    body: form(away.merging(["deputy_0": "mia", "csrf_token": bea.csrf]) { $1 })
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/account/away?saved=1")
                }
                let delegation = try #require(try await store.delegations(program: "pd", actor: "ada").first)
                #expect(delegation.from == "bea" && delegation.to == "mia" && delegation.validUntil == until && delegation.active)
                try await client.execute(uri: "/account/away?saved=1", method: .get, headers: bea.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Your deputies are set"))
                    #expect(html.contains("<td>boss</td><td>pd</td><td>mia</td><td>\(today)</td><td>\(until)</td>"))
                    #expect(html.contains("action=\"/account/away/\(delegation.id)/revoke\""))
                }
                try await client.execute(uri: "/account/away", method: .get, headers: mia.headers) { response in
                    #expect(String(buffer: response.body).contains("You stand in for bea as boss in pd from \(today) until \(until)"))
                }
                try await client.execute(uri: "/inbox", method: .get, headers: mia.headers) { response in
                    #expect(String(buffer: response.body).contains("You stand in for bea as boss in pd from \(today) until \(until)."))
                }
                try await client.execute(
                    uri: "/account/away/\(delegation.id)/revoke",
                    method: .post,
                    headers: bea.headers,
                    body: form(["csrf_token": bea.csrf])
                ) { response in
                    #expect(response.headers[.location] == "/account/away?revoked=1")
                }
                try await client.execute(uri: "/account/away", method: .get, headers: mia.headers) { response in
                    #expect(!String(buffer: response.body).contains("You stand in for"))
                }
                #expect(try await store.delegations(program: "pd", actor: "ada").first?.revoked == true)
                // The API: an absence set up ahead is not in force before its first day; the deputy sees it coming.
                let ahead = CalendarDate.today().adding(days: 3).description
                let body = json(["program": "pd", "role": "boss", "to": "aud", "starting": ahead, "until": until, "reason": "Conference"])
                let id = try await client.execute(uri: "/api/v1/me/delegations", method: .post, headers: bearer(tokens["bea"]), body: body) {
                    response in
                    let created = object(response.body)
                    #expect(response.status == .created)
                    #expect(created["validFrom"] as? String == ahead && created["active"] as? Bool == false)
                    return created["id"] as? Int ?? 0
                }
                try await client.execute(uri: "/api/v1/me/delegations", method: .get, headers: bearer(tokens["aud"])) { response in
                    let received = object(response.body)["received"] as? [[String: Any]]
                    #expect(received?.count == 1 && received?.first?["from"] as? String == "bea")
                }
                let refused = json(["program": "pd", "role": "boss", "to": "aud", "starting": until, "until": ahead, "reason": "Backwards"])
                try await client.execute(uri: "/api/v1/me/delegations", method: .post, headers: bearer(tokens["bea"]), body: refused) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(object(response.body)["field"] as? String == "until")
                }
                try await client.execute(uri: "/api/v1/me/delegations", method: .post, headers: bearer(tokens["nemo"]), body: body) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/me/delegations/\(id)/revoke", method: .post, headers: bearer(tokens["nemo"])) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/me/delegations/\(id)/revoke", method: .post, headers: bearer(tokens["bea"])) { response in
                    #expect(object(response.body)["revoked"] as? Bool == true)
                }
            }
        }
    }
}

extension Sequence {
    /// `reduce(into:)` with an async step.
    func asyncReduce<Result>(into initial: Result, _ step: (inout Result, Element) async throws -> Void) async rethrows -> Result {
        var result = initial
        for element in self { try await step(&result, element) }
        return result
    }
}
