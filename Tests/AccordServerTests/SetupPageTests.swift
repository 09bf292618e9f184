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

/// Version 2 of the API test workflow: a per-system task for high-risk providers, and a review after the plan.
let apiWorkflowV2 =
    apiWorkflow.replacingOccurrences(of: "version: 1", with: "version: 2") + """

              - key: review
                title: Review the plan
                owner: owner
                depends_on: [plan]
              - key: fria
                title: Impact assessment
                owner: owner
                applies_to: {roles: [provider], risk: [high]}
        """

/// A workflow file with two mistakes: an undefined owner role and a dependency on a task that does not exist.
let brokenWorkflow = """
    id: broken
    version: 1
    title: Broken
    roles:
      owner: {title: Owner}
    steps:
      - key: s
        title: Step
        tasks:
          - key: t
            title: T
            owner: nobody
            depends_on: [nothing]
    """

/// A multipart body of one file field named `file` and the CSRF token, with the boundary `XyZ`.
func upload(csrf: String, fileName: String, _ text: String) -> ByteBuffer {
    ByteBuffer(
        string: "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\(csrf)\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: text/plain\r\n\r\n\(text)\r\n--XyZ--\r\n"
    )
}

/// Headers of a form post (or a multipart one) with the person's session cookie.
func sessionHeaders(_ session: NewWebSession, multipart: Bool = false) -> HTTPFields {
    [
        .cookie: "accord_session=\(session.cookieToken)",
        .contentType: multipart ? "multipart/form-data; boundary=XyZ" : "application/x-www-form-urlencoded",
    ]
}

@Suite("Setting a program up in the browser")
struct SetupPageTests {
    @Test("an invalid workflow upload lists every problem at LINE:COLUMN and stores nothing; a valid one loads; others may not")
    func workflowUpload() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            guard case .failure(let invalid) = WorkflowLoader.load(yaml: brokenWorkflow, file: "broken.yaml") else {
                Issue.record("the broken workflow loads")
                return
            }
            let before = try await db.store.workflows().count
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/workflows", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("/workflows/api-test?version=1\">api-test</a>") && html.contains("Load a workflow file"))
                    #expect(html.contains("<a href=\"/workflows?format=csv&amp;per_page=10000\">CSV</a>"))
                }
                try await client.execute(
                    uri: "/workflows",
                    method: .post,
                    headers: sessionHeaders(ada, multipart: true),
                    body: upload(csrf: ada.session.csrfToken, fileName: "C:\\dir\\broken.yaml", brokenWorkflow)
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(
                        html.contains("role=\"alert\"") && html.contains("aria-invalid=\"true\"") && html.contains("<strong>broken.yaml</strong>")
                    )
                    #expect(invalid.diagnostics.count >= 2)
                    for problem in invalid.diagnostics {
                        #expect(html.contains("<li><code>\(problem.line):\(problem.column)</code>"), "\(problem)")
                    }
                }
                #expect(try await db.store.workflows().count == before)
                try await client.execute(
                    uri: "/workflows",
                    method: .post,
                    headers: sessionHeaders(otto, multipart: true),
                    body: upload(csrf: otto.session.csrfToken, fileName: "v2.yaml", apiWorkflowV2)
                ) { #expect($0.status == .forbidden) }
                #expect(try await db.store.workflows().count == before)
                try await client.execute(
                    uri: "/workflows",
                    method: .post,
                    headers: sessionHeaders(ada, multipart: true),
                    body: upload(csrf: ada.session.csrfToken, fileName: "v2.yaml", apiWorkflowV2)
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/workflows/api-test?version=2&loaded=1")
                }
                #expect(try await db.store.workflows().count == before + 1)
                try await client.execute(uri: "/workflows/api-test?version=2&loaded=1", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Loaded api-test version 2") && html.contains("Review the plan"))
                    #expect(html.contains("per AI system"))
                }
            }
        }
    }

    @Test("start a program by form; roles: bind and remove holders, a manager binding themselves to sign is refused on the page")
    func startAndRoles() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/new", method: .get, headers: sessionHeaders(otto)) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/programs/new", method: .get, headers: sessionHeaders(ada)) { response in
                    #expect(String(buffer: response.body).contains("<option value=\"api-test@1\""))
                }
                let start = [
                    "csrf_token": ada.session.csrfToken, "workflow": "api-test@1", "title": "Set up", "slug": "setup", "starts_on": "2026-01-05",
                ]
                try await client.execute(uri: "/programs/new", method: .post, headers: sessionHeaders(ada), body: form(start)) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/programs/setup?started=1")
                }
                #expect(try await db.store.program("setup", actor: "ada").summary.startsOn == "2026-01-05")
                // The same slug again: the form again, the slug marked, the title kept.
                try await client.execute(uri: "/programs/new", method: .post, headers: sessionHeaders(ada), body: form(start)) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .conflict)
                    #expect(html.contains("name=\"slug\" maxlength=\"63\" autocomplete=\"off\" value=\"setup\" aria-invalid=\"true\""))
                    #expect(html.contains("value=\"Set up\""))
                }
                let bind = { (session: NewWebSession, role: String, handle: String) in
                    form(["csrf_token": session.session.csrfToken, "handle": handle])
                }
                try await client.execute(
                    uri: "/programs/setup/roles/manager/holders",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: bind(ada, "manager", "otto")
                ) { response in
                    #expect(response.headers[.location] == "/programs/setup/roles?added=1")
                }
                // Separation of duties: a manager does not bind themselves into a role that signs.
                try await client.execute(
                    uri: "/programs/setup/roles/board/holders",
                    method: .post,
                    headers: sessionHeaders(otto),
                    body: bind(otto, "board", "otto")
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .forbidden)
                    #expect(html.contains("role=\"alert\"") && html.contains("may not bind themselves"))
                    #expect(
                        html.contains(
                            "id=\"holder-board\" name=\"handle\" maxlength=\"63\" required autocomplete=\"off\" value=\"otto\" aria-invalid=\"true\""
                        )
                    )
                }
                #expect(try await db.store.roleHolders(program: "setup", actor: "ada").first { $0.role == "board" }?.holders == [])
                try await client.execute(
                    uri: "/programs/setup/roles/board/holders",
                    method: .post,
                    headers: sessionHeaders(otto),
                    body: bind(otto, "board", "bea")
                ) { #expect($0.status == .seeOther) }
                try await client.execute(uri: "/programs/setup/roles", method: .get, headers: sessionHeaders(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("action=\"/programs/setup/roles/board/holders/bea/remove\""))
                }
                try await client.execute(
                    uri: "/programs/setup/roles/board/holders/bea/remove",
                    method: .post,
                    headers: sessionHeaders(otto),
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { #expect($0.headers[.location] == "/programs/setup/roles?removed=1") }
                #expect(try await db.store.roleHolders(program: "setup", actor: "ada").first { $0.role == "board" }?.holders == [])
                // Without the form's token nothing changes.
                try await client.execute(
                    uri: "/programs/setup/roles/board/holders",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(["handle": "bea"])
                ) { #expect($0.status == .forbidden) }
                #expect(try await db.store.roleHolders(program: "setup", actor: "ada").first { $0.role == "board" }?.holders == [])
            }
        }
    }

    @Test(
        "AI systems: add by form, an import with a bad row stores nothing and names row and column, a good one adds all; the system page lists its tasks"
    )
    func systems() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            _ = try await db.store.loadWorkflow(yaml: apiWorkflowV2, file: "v2.yaml", actor: "ada")
            _ = try await db.store.startProgram(workflow: "api-test", version: 2, title: "Systems", slug: "sys", startsOn: nil, actor: "ada")
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                // A refusal keeps the input and marks the field.
                try await client.execute(
                    uri: "/programs/sys/systems",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "name": "Chatbot", "role": "provider", "risk": "high", "annex_iii": "9"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("name=\"annex_iii\" inputmode=\"numeric\" maxlength=\"1\" value=\"9\" aria-invalid=\"true\""))
                    #expect(html.contains("value=\"Chatbot\"") && html.contains("<option value=\"provider\" selected>"))
                }
                try await client.execute(
                    uri: "/programs/sys/systems",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "name": "Chatbot", "role": "provider", "risk": "high", "gpai": "yes"])
                ) { response in
                    #expect(response.headers[.location] == "/programs/sys/systems/chatbot?added=1")
                }
                #expect(try await db.store.system(program: "sys", system: "chatbot", actor: "ada").gpai)
                let bad = "name,role,risk\nScreening,provider,high\nForecast,vendor,minimal\n"
                try await client.execute(
                    uri: "/programs/sys/systems/import",
                    method: .post,
                    headers: sessionHeaders(ada, multipart: true),
                    body: upload(csrf: ada.session.csrfToken, fileName: "inventory.csv", bad)
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("inventory.csv:3: column 2 (role)") && html.contains("role=\"alert\""))
                }
                #expect(try await db.store.systems(program: "sys", actor: "ada").count == 1)
                let good = "name,role,risk,owner\nScreening,provider,high,otto\nForecast,deployer,minimal,\n"
                try await client.execute(
                    uri: "/programs/sys/systems/import",
                    method: .post,
                    headers: sessionHeaders(ada, multipart: true),
                    body: upload(csrf: ada.session.csrfToken, fileName: "inventory.csv", good)
                ) { #expect($0.headers[.location] == "/programs/sys/systems?imported=2") }
                try await client.execute(uri: "/programs/sys/systems?per_page=2", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Page 1 of 2 (3 in all)") && html.contains("/programs/sys/systems?page=2&amp;per_page=2"))
                    #expect(html.contains(">Chatbot</a>") && html.contains(">Forecast</a>") && !html.contains(">Screening</a>"))
                }
                try await client.execute(uri: "/programs/sys/systems?format=csv", method: .get, headers: sessionHeaders(ada)) { response in
                    #expect(String(buffer: response.body).contains("screening,Screening,provider,high,no,,otto"))
                }
                try await client.execute(uri: "/programs/sys/systems/screening", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<h1>Screening</h1>") && html.contains("Impact assessment") && html.contains("sys/fria@screening"))
                }
                try await client.execute(uri: "/programs/sys/systems/forecast", method: .get, headers: sessionHeaders(ada)) { response in
                    #expect(String(buffer: response.body).contains("No task of the workflow applies to this system."))
                }
            }
        }
    }

    @Test("upgrade: the dry run's differences on the page, then the confirm form applies them; reinstate a task marked not applicable")
    func upgradeAndReinstate() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            _ = try await db.store.loadWorkflow(yaml: apiWorkflowV2, file: "v2.yaml", actor: "ada")
            let ada = try await db.store.login(handle: "ada", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/api/upgrade", method: .get, headers: sessionHeaders(otto)) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/programs/api/upgrade", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<code>+ task review</code>") && html.contains("<code>api/review</code>"))
                    #expect(html.contains("Upgrade to version 2"))
                }
                #expect(try await db.store.program("api", actor: "ada").summary.workflowVersion == 1)
                try await client.execute(
                    uri: "/programs/api/upgrade",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(["csrf_token": ada.session.csrfToken, "version": "2"])
                ) { #expect($0.headers[.location] == "/programs/api/upgrade?upgraded=2") }
                #expect(try await db.store.program("api", actor: "ada").summary.workflowVersion == 2)
                #expect(try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").contains { $0.key == "review" })

                let later = try #require(try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "later" })
                _ = try await db.store.markNotApplicable(String(later.id), reason: "out of scope", actor: "ada")
                try await client.execute(uri: "/tasks/\(later.id)", method: .get, headers: sessionHeaders(ada)) { response in
                    #expect(String(buffer: response.body).contains("action=\"/tasks/\(later.id)/reinstate\""))
                }
                try await client.execute(
                    uri: "/tasks/\(later.id)/reinstate",
                    method: .post,
                    headers: sessionHeaders(otto),
                    body: form(["csrf_token": otto.session.csrfToken])
                ) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("role=\"alert\""))
                }
                #expect(try await db.store.task(String(later.id), actor: "ada").task.state == .notApplicable)
                try await client.execute(
                    uri: "/tasks/\(later.id)/reinstate",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(["csrf_token": ada.session.csrfToken])
                ) { #expect($0.headers[.location] == "/tasks/\(later.id)?reinstated=1") }
                // It waits for the plan again.
                #expect(try await db.store.task(String(later.id), actor: "ada").task.state == .blocked)
                let audit = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE action = 'task.reinstate'")[0].decode(Int.self, "n")
                }
                #expect(audit == 1)
            }
        }
    }
}
