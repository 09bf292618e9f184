import AccordCore
import AccordPack
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

let workWorkflow = """
    id: work-test
    version: 1
    title: Work test roadmap
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      board: {title: Board, leadership: true}
      auditor: {title: Auditor}
    steps:
      - key: plan
        title: Planning
        tasks:
          - key: t1
            title: Task one
            owner: owner
            approval: {signers: [board]}
          - key: t2
            title: Task two
            owner: owner
          - key: t3
            title: Task three
            owner: board
      - key: do
        title: Doing
        tasks:
          - key: t4
            title: Task four
            owner: owner
          - key: t5
            title: Task five
            owner: owner
          - key: t6
            title: Task six
            owner: auditor
    """

/// The API test's people and program "api", and a program "work" of six tasks with mia (manager), otto
/// (owner), bea (board) and aud (auditor); eve holds a role elsewhere only. Returns the tasks by key.
func seededWork(_ store: Store) async throws -> [String: TaskSummary] {
    _ = try await seededAPI(store)
    for (handle, name) in [("mia", "Mia Manager"), ("aud", "Aud Auditor")] {
        _ = try await store.addPerson(handle: handle, name: name, email: nil, admin: false, password: apiPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: workWorkflow, file: "work.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "work-test", version: nil, title: "Work", slug: "work", startsOn: nil, actor: "ada")
    for (role, handle) in [("manager", "mia"), ("owner", "otto"), ("board", "bea"), ("auditor", "aud")] {
        _ = try await store.bindRole(program: "work", role: role, handles: [handle], actor: "ada")
    }
    let tasks = try await store.tasks(TaskFilter(program: "work"), actor: "ada")
    return Dictionary(uniqueKeysWithValues: tasks.map { ($0.key, $0) })
}

/// A session's cookie and form content type.
func pageHeaders(_ session: NewWebSession) -> HTTPFields {
    [.cookie: "accord_session=\(session.cookieToken)", .contentType: "application/x-www-form-urlencoded"]
}

/// How many entries of an action a chain holds.
func auditCount(_ db: TestDatabase, action: String, chain: String = "program:work") async throws -> Int {
    try await db.pool.withConnection {
        try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE chain = '\(chain)' AND action = '\(action)'")[0].decode(
            Int.self,
            "n"
        )
    }
}

@Suite("Work on a program's tasks from its page")
struct WorkPageTests {
    @Test("the task list is filtered and paged in SQL, with downloads that keep the filter; only managers get the controls")
    func filterAndPage() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let mia = try await db.store.login(handle: "mia", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/work?per_page=2", method: .get, headers: pageHeaders(mia)) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("Page 1 of 3"))
                    #expect(html.contains("href=\"/programs/work?page=2&amp;per_page=2\" rel=\"next\""))
                    #expect(html.contains("Task one") && html.contains("Task two") && !html.contains("Task three"))
                    #expect(html.contains("<label class=\"visually-hidden\" for=\"assignee_\(tasks["t1"]!.id)\">"))
                    #expect(html.contains("<option value=\"otto\">Otto Owner (otto)</option>"))
                    #expect(html.contains("action=\"/programs/work/assign\""))
                }
                try await client.execute(uri: "/programs/work?step=do&per_page=2&page=2", method: .get, headers: pageHeaders(mia)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Task six") && !html.contains("Task four") && !html.contains("Task one"))
                    #expect(html.contains("3 matching"))
                    #expect(html.contains("<option value=\"do\" selected>Doing</option>"))
                    #expect(html.contains("href=\"/programs/work?step=do&amp;page=1&amp;per_page=2\" rel=\"prev\""))
                    #expect(html.contains("href=\"/programs/work?step=do&amp;format=csv&amp;per_page=10000\""))
                }
                try await client.execute(uri: "/programs/work?owner_role=board&format=csv", method: .get, headers: pageHeaders(otto)) { response in
                    let lines = String(buffer: response.body).split(separator: "\r\n")
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    #expect(lines.count == 2 && lines[1].contains("work/t3"))
                }
                // Someone who may not assign sees the list without the controls.
                try await client.execute(uri: "/programs/work", method: .get, headers: pageHeaders(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Task one"))
                    #expect(!html.contains("/programs/work/assign") && !html.contains("assignee_"))
                }
                try await client.execute(uri: "/programs/work?state=bogus", method: .get, headers: pageHeaders(otto)) {
                    #expect($0.status == .unprocessableContent)
                }
            }
        }
    }

    @Test("a manager assigns per task and one for all in one submit; a refusal names the task and assigns nothing")
    func bulkAssign() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let (t1, t2, t3, t4, t5) = (tasks["t1"]!.id, tasks["t2"]!.id, tasks["t3"]!.id, tasks["t4"]!.id, tasks["t5"]!.id)
            let mia = try await db.store.login(handle: "mia", password: apiPassword, address: nil)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            let before = try await auditCount(db, action: "task.assign")
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/programs/work/assign",
                    method: .post,
                    headers: pageHeaders(mia),
                    body: form(["assignee_\(t1)": "otto", "select_\(t2)": "1", "select_\(t4)": "1", "assignee_all": "bea"])
                ) { #expect($0.status == .forbidden, "without the form's token nothing happens") }
                try await client.execute(
                    uri: "/programs/work/assign",
                    method: .post,
                    headers: pageHeaders(mia),
                    body: form([
                        "csrf_token": mia.session.csrfToken, "return_query": "step=plan&page=1&per_page=2",
                        "assignee_\(t1)": "otto", "select_\(t1)": "1", "select_\(t2)": "1", "select_\(t4)": "1", "assignee_all": "bea",
                        "assignee_\(t5)": "",
                    ])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/programs/work?step=plan&page=1&per_page=2&assigned=3")
                }
                try await client.execute(uri: "/programs/work?step=plan&page=1&per_page=2&assigned=3", method: .get, headers: pageHeaders(mia)) {
                    #expect(String(buffer: $0.body).contains("3 tasks assigned."))
                }
                let after = try await db.store.tasks(TaskFilter(program: "work"), actor: "ada")
                let assignee = Dictionary(uniqueKeysWithValues: after.map { ($0.key, $0.assignee ?? "nobody") })
                #expect(assignee["t1"] == "otto" && assignee["t2"] == "bea" && assignee["t4"] == "bea" && assignee["t5"] == "nobody")
                #expect(try await auditCount(db, action: "task.assign") == before + 3)
                // One bad assignment (eve holds no role in "work"): the page again, the row marked, nothing assigned.
                try await client.execute(
                    uri: "/programs/work/assign",
                    method: .post,
                    headers: pageHeaders(mia),
                    body: form([
                        "csrf_token": mia.session.csrfToken, "return_query": "per_page=50", "assignee_\(t5)": "otto",
                        "assignee_\(t3)": "eve",
                    ])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .conflict)
                    #expect(html.contains("role=\"alert\"") && html.contains("work/t3") && html.contains("no task was assigned"))
                    #expect(html.contains("id=\"assignee_\(t3)\" name=\"assignee_\(t3)\" aria-invalid=\"true\" aria-describedby=\"page-error\""))
                    #expect(html.contains("<option value=\"otto\" selected>"), "the choices are kept")
                }
                #expect(try await db.store.task(String(t5), actor: "ada").task.assignee == nil)
                #expect(try await auditCount(db, action: "task.assign") == before + 3)
                // Someone who is not a manager is refused.
                try await client.execute(
                    uri: "/programs/work/assign",
                    method: .post,
                    headers: pageHeaders(otto),
                    body: form(["csrf_token": otto.session.csrfToken, "assignee_\(t5)": "otto"])
                ) { #expect($0.status == .forbidden) }
                #expect(try await db.store.task(String(t5), actor: "ada").task.assignee == nil)
            }
        }
    }

    @Test("a comment shows with author and time, is in the audit chain and the inbox of the task's people; others are refused")
    func comments() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let t1 = String(tasks["t1"]!.id)
            _ = try await db.store.assignTask(t1, to: "otto", actor: "ada")
            _ = try await db.store.submitTask(t1, actor: "otto")
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let aud = try await db.store.login(handle: "aud", password: apiPassword, address: nil)
            let eve = try await db.store.login(handle: "eve", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/tasks/\(t1)/comments",
                    method: .post,
                    headers: pageHeaders(aud),
                    body: form(["csrf_token": aud.session.csrfToken, "body": "   "])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("role=\"alert\"") && html.contains("name=\"body\" maxlength=\"5000\" required aria-invalid=\"true\""))
                }
                try await client.execute(
                    uri: "/tasks/\(t1)/comments",
                    method: .post,
                    headers: pageHeaders(aud),
                    body: form(["csrf_token": aud.session.csrfToken, "body": "Which <model> is this about?"])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/tasks/\(t1)?commented=1")
                }
                try await client.execute(uri: "/tasks/\(t1)", method: .get, headers: pageHeaders(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Aud Auditor (aud) · <time datetime=\"20"))
                    #expect(html.contains("Which &lt;model&gt; is this about?"))
                }
                // The assignee (also the submitter) and the board, whose sign-off it awaits, are told; the author is not.
                #expect(try await db.store.notices(actor: "otto").contains { $0.kind == "comment" && $0.message.contains("Aud Auditor commented") })
                #expect(try await db.store.notices(actor: "bea").contains { $0.kind == "comment" })
                #expect(try await db.store.notices(actor: "aud").isEmpty)
                #expect(try await db.store.notices(actor: "mia").isEmpty)
                #expect(try await auditCount(db, action: "task.comment") == 1)
                // Someone of another program only: "not found", nothing stored.
                try await client.execute(
                    uri: "/tasks/\(t1)/comments",
                    method: .post,
                    headers: pageHeaders(eve),
                    body: form(["csrf_token": eve.session.csrfToken, "body": "let me in"])
                ) { #expect($0.status == .notFound) }
                #expect(try await db.store.comments(of: t1, paging: Paging(), actor: "ada").total == 1)
                // Append-only in the database itself.
                for statement in ["UPDATE accord.task_comment SET body = 'edited'", "DELETE FROM accord.task_comment"] {
                    do {
                        try await db.pool.withConnection { _ = try await $0.execute(statement) }
                        Issue.record("\(statement) was allowed")
                    } catch {
                        #expect(String(describing: error).contains("append-only"), "\(error)")
                    }
                }
                #expect(try await db.store.comments(of: t1, paging: Paging(), actor: "ada").items.first?.body == "Which <model> is this about?")
            }
        }
    }

    @Test("after a rejection the task page says who asked for which changes, and when")
    func rejectionBox() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let t1 = String(tasks["t1"]!.id)
            _ = try await db.store.assignTask(t1, to: "otto", actor: "ada")
            _ = try await db.store.submitTask(t1, actor: "otto")
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/tasks/\(t1)", method: .get, headers: pageHeaders(otto)) {
                    #expect(!String(buffer: $0.body).contains("Changes asked by"))
                }
                _ = try await db.store.sign(t1, decision: .reject, meaning: nil, comment: "Name the risk owner", password: apiPassword, actor: "bea")
                try await client.execute(uri: "/tasks/\(t1)", method: .get, headers: pageHeaders(otto)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<strong>Changes asked by Bea Board on 20"))
                    #expect(html.contains("</strong> Name the risk owner</p>"))
                }
            }
        }
    }

    @Test("several files in one upload are all stored, or none")
    func multipleFiles() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let t2 = String(tasks["t2"]!.id)
            let otto = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            @Sendable func body(_ files: [(String, String)]) -> ByteBuffer {
                var text = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\(otto.session.csrfToken)\r\n"
                text += "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nignored\r\n"
                for (name, content) in files {
                    text +=
                        "--XyZ\r\nContent-Disposition: form-data; name=\"file[]\"; filename=\"\(name)\"\r\nContent-Type: text/plain\r\n\r\n\(content)\r\n"
                }
                return ByteBuffer(string: text + "--XyZ--\r\n")
            }
            let headers: HTTPFields = [.cookie: "accord_session=\(otto.cookieToken)", .contentType: "multipart/form-data; boundary=XyZ"]
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/tasks/\(t2)/evidence",
                    method: .post,
                    headers: headers,
                    body: body([("policy.txt", "the policy"), ("minutes.txt", "the minutes")])
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/tasks/\(t2)?uploaded=1")
                }
                #expect(try await db.store.evidence(of: t2, actor: "otto").map(\.title).sorted() == ["minutes.txt", "policy.txt"])
                // The second file is empty: neither is stored.
                try await client.execute(uri: "/tasks/\(t2)/evidence", method: .post, headers: headers, body: body([("a.txt", "a"), ("b.txt", "")])) {
                    #expect($0.status == .unprocessableContent)
                }
                #expect(try await db.store.evidence(of: t2, actor: "otto").count == 2)
            }
        }
    }

    @Test("the evidence pack downloads as a ZIP that verifies, recorded in the audit chain; not for others")
    func packDownload() async throws {
        let before = Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? []).filter {
                $0.hasPrefix("accord-pack-")
            }
        )
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            _ = try await db.store.addEvidence(to: String(tasks["t2"]!.id), fileName: "p.txt", bytes: Array("plan".utf8), title: nil, actor: "otto")
            let aud = try await db.store.login(handle: "aud", password: apiPassword, address: nil)
            let eve = try await db.store.login(handle: "eve", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/work/pack", method: .post, headers: pageHeaders(aud), body: form([:])) {
                    #expect($0.status == .forbidden)
                }
                let zip = try await client.execute(
                    uri: "/programs/work/pack",
                    method: .post,
                    headers: pageHeaders(aud),
                    body: form(["csrf_token": aud.session.csrfToken])
                ) { response -> [UInt8] in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/zip")
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"work-evidence-pack.zip\"")
                    return Array(buffer: response.body)
                }
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("work-pack-\(UUID().uuidString).zip").path
                defer { try? FileManager.default.removeItem(atPath: path) }
                try Data(zip).write(to: URL(fileURLWithPath: path))
                let verification = verifyPack(path: path, key: testAuditKey)
                #expect(verification.ok, "\(verification.problems)")
                #expect(try await auditCount(db, action: "program.export") == 1)
                try await client.execute(
                    uri: "/programs/work/pack",
                    method: .post,
                    headers: pageHeaders(eve),
                    body: form(["csrf_token": eve.session.csrfToken])
                ) { #expect($0.status == .notFound) }
                #expect(try await auditCount(db, action: "program.export") == 1)
                // The API's download: the same pack, recorded the same way.
                let token = try await db.store.createToken(for: "aud", name: "t", expires: nil, actor: "aud", proof: .password(apiPassword)).1
                try await client.execute(uri: "/api/v1/programs/work/pack", method: .post, headers: bearer(token)) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/zip")
                    #expect(Array(buffer: response.body).prefix(4) == [0x50, 0x4b, 0x03, 0x04])
                }
                #expect(try await auditCount(db, action: "program.export") == 2)
                // The OSCAL download: a member gets the document, with the evidence's SHA-256; an outsider nothing.
                try await client.execute(uri: "/programs/work/oscal.json", method: .get, headers: pageHeaders(aud)) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"work-oscal-assessment-results.json\"")
                    let text = String(buffer: response.body)
                    #expect(
                        text.contains("\"assessment-results\"") && text.contains("64879f7d6b960a01909762d911a32d4582c20010c5641ee90278b644a9e3b525")
                    )  // the SHA-256 of "plan"
                }
                try await client.execute(uri: "/programs/work/oscal.json", method: .get, headers: pageHeaders(eve)) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/programs/work/oscal", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                }
            }
            // The temporary folder is gone once sent. Its removal follows the last byte, and other tests may be
            // streaming packs at the same time: wait until none of the packs' folders is left.
            let gone = await eventually {
                let left = (try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? []
                return !left.contains { $0.hasPrefix("accord-pack-") && !before.contains($0) }
            }
            #expect(gone, "a pack's temporary folder was left behind")
        }
    }
}
