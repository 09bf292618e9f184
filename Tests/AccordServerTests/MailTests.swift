import AccordCore
import AccordMail
import AccordScheduler
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

let mailWorkflow = """
    id: mail-test
    version: 1
    title: Mail test roadmap
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      board: {title: Board, leadership: true}
    defaults:
      escalation:
        chain:
          - {after: P2D, to: board}
    steps:
      - key: s
        title: Step
        owner: manager
        tasks:
          - key: plan
            title: Risk plan
            owner: owner
            due: P10D
            approval: {signers: [board]}
          - key: notes
            title: Meeting notes
            owner: owner
            due: P10D
    """

let mailPassword = "mail test password"

/// ada (admin, manager), otto (owner), bea (board), all with addresses, and carl (owner) without one, in
/// program `m` started `daysAgo` days ago.
func seededMail(_ store: Store, daysAgo: Int = 0) async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: "ada@example.com", admin: true, password: mailPassword, actor: nil)
    for (handle, name, email) in [("otto", "Otto Owner", "otto@example.com"), ("bea", "Bea Board", "bea@example.com"), ("carl", "Carl", nil)] {
        _ = try await store.addPerson(handle: handle, name: name, email: email, admin: false, password: mailPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: mailWorkflow, file: "mail.yaml", actor: "ada")
    _ = try await store.startProgram(
        workflow: "mail-test",
        version: nil,
        title: "Mail",
        slug: "m",
        startsOn: CalendarDate.today().adding(days: -daysAgo),
        actor: "ada"
    )
    _ = try await store.bindRole(program: "m", role: "manager", handles: ["ada"], actor: "ada")
    _ = try await store.bindRole(program: "m", role: "owner", handles: ["otto", "carl"], actor: "ada")
    _ = try await store.bindRole(program: "m", role: "board", handles: ["bea"], actor: "ada")
}

func mailRenderer(
    _ smtp: SMTPTestServer,
    scheme: String = "smtp",
    credentials: MailSettings.Credentials? = nil,
    tls: Bool = false
) throws
    -> MailRenderer
{
    try MailRenderer(
        settings: MailSettings(
            url: "\(scheme)://127.0.0.1:\(smtp.port)",
            from: "Accord <accord@example.com>",
            credentials: credentials,
            caFile: tls ? smtp.certificate : nil,
            publicURL: "https://accord.example.com"
        )
    )
}

@Suite("E-mail through a real SMTP server", .serialized)
struct MailTests {
    @Test("assignment, sign-off request, rejection and comment arrive once each, to the right people, threaded, with links and reasons")
    func taskMessages() async throws {
        let smtp = try SMTPTestServer()
        defer { smtp.remove() }
        try await TestDatabase.with { db in
            let store = db.store
            try await seededMail(store)
            _ = try await store.assignTask("m/plan", to: "otto", actor: "ada")
            _ = try await store.startTask("m/plan", actor: "otto")
            _ = try await store.submitTask("m/plan", actor: "otto")
            _ = try await store.sign(
                "m/plan",
                decision: .reject,
                meaning: nil,
                comment: "Add the supplier clause",
                password: mailPassword,
                actor: "bea"
            )
            _ = try await store.addComment(to: "m/plan", body: "I will look at the clause", actor: "ada")
            let renderer = try mailRenderer(smtp)
            let first = try await MailDelivery.deliver(store: store, renderer: renderer)
            #expect(first.sent == 4 && first.failed == 0, "\(first)")
            let again = try await MailDelivery.deliver(store: store, renderer: renderer)
            #expect(again.sent == 0, "a message is sent once")

            let messages = smtp.received()
            #expect(messages.count == 4)
            let bySubject = Dictionary(grouping: messages) { $0.header("Subject") ?? "" }
            let assigned = try #require(bySubject["[m] Assigned to you, due \(CalendarDate.today().adding(days: 10)): Risk plan"]?.first)
            #expect(assigned.to == ["otto@example.com"] && assigned.header("To") == "\"Otto Owner\" <otto@example.com>")
            #expect(assigned.decodedBody.contains("Ada Admin assigned m/plan to you."))
            #expect(assigned.decodedBody.contains("You receive this because you are the assignee of m/plan."))
            let signoff = try #require(bySubject["[m] Sign-off requested: Risk plan"]?.first)
            #expect(signoff.to == ["bea@example.com"], "the board signs; otto submitted it and may not")
            #expect(signoff.decodedBody.contains("you hold board in m, whose sign-off m/plan still needs"))
            let rejected = try #require(bySubject["[m] Rejected by Bea Board: Risk plan"]?.first)
            #expect(rejected.to == ["otto@example.com"] && rejected.decodedBody.contains("Add the supplier clause"))
            let comments = bySubject["[m] Comment from Ada Admin: Risk plan"] ?? []
            // Rejected, the task awaits no signer: the comment goes to its assignee (ada wrote it; carl has no address).
            #expect(comments.flatMap(\.to) == ["otto@example.com"])

            let taskID = try await store.task("m/plan", actor: "ada").task.id
            for message in messages {
                #expect(message.header("In-Reply-To") == "<task-\(taskID)@accord.example.com>")
                #expect(message.header("References") == "<task-\(taskID)@accord.example.com>")
                #expect(message.header("List-Unsubscribe") == "<https://accord.example.com/account/notifications>")
                #expect(message.header("Message-ID")?.hasSuffix("@accord.example.com>") == true)
                #expect(message.decodedBody.contains("https://accord.example.com/tasks/\(taskID)"))
                #expect(message.data.contains("Content-Type: text/html; charset=utf-8") && message.data.contains("text/plain; charset=utf-8"))
                #expect(message.header("From") == "\"Accord\" <accord@example.com>")
            }
            #expect(Set(messages.compactMap { $0.header("Message-ID") }).count == 4, "each message has its own Message-ID")
        }
    }

    @Test("STARTTLS and AUTH; a refused login waits and is sent once the credentials are right")
    func startTLSAndAuth() async throws {
        let smtp = try SMTPTestServer(arguments: ["--require-starttls", "--auth", "accord:relay secret"], tls: true)
        defer { smtp.remove() }
        try await TestDatabase.with { db in
            let store = db.store
            try await seededMail(store)
            _ = try await store.assignTask("m/plan", to: "otto", actor: "ada")
            let wrong = try mailRenderer(smtp, credentials: .init(user: "accord", password: "wrong"), tls: true)
            let refused = try await MailDelivery.deliver(store: store, renderer: wrong)
            #expect(refused.sent == 0 && refused.failed == 1)
            #expect(try await store.mailCounts(actor: "ada").waiting == 1, "a refused login loses nothing")
            let right = try mailRenderer(smtp, credentials: .init(user: "accord", password: "relay secret"), tls: true)
            let sent = try await MailDelivery.deliver(store: store, renderer: right, now: Date().addingTimeInterval(31))
            #expect(sent.sent == 1)
            let message = try #require(smtp.received().first)
            #expect(message.tls && message.authUser == "accord" && message.to == ["otto@example.com"])
        }
    }

    @Test("implicit TLS (smtps://)")
    func implicitTLS() async throws {
        let smtp = try SMTPTestServer(arguments: ["--implicit-tls"], tls: true)
        defer { smtp.remove() }
        let reply = try await MailDelivery.test(to: "ops@example.com", renderer: try mailRenderer(smtp, scheme: "smtps", tls: true))
        #expect(reply.code == 250, "\(reply)")
        #expect(smtp.received().first?.tls == true && smtp.received().first?.to == ["ops@example.com"])
    }

    @Test("4xx then accepted: sent once, later; 5xx: given up and shown to administrators; SMTP down: nothing lost")
    func failures() async throws {
        let smtp = try SMTPTestServer(arguments: ["--tempfail", "otto@example.com:1", "--reject", "bea@example.com"])
        defer { smtp.remove() }
        try await TestDatabase.with { db in
            let store = db.store
            try await seededMail(store)
            _ = try await store.assignTask("m/plan", to: "otto", actor: "ada")
            _ = try await store.assignTask("m/notes", to: "otto", actor: "ada")
            _ = try await store.startTask("m/plan", actor: "otto")
            _ = try await store.submitTask("m/plan", actor: "otto")  // asks bea, whose address the server refuses
            let renderer = try mailRenderer(smtp)
            let t0 = Date()
            let first = try await MailDelivery.deliver(store: store, renderer: renderer, now: t0)
            // The first message to otto is refused for now (451), the second accepted, bea's refused for good (550).
            #expect(first.sent == 1 && first.failed == 2, "\(first)")
            let failed = try await store.failedMail(actor: "ada")
            #expect(failed.count == 1 && failed[0].person == "bea" && failed[0].lastReply.contains("550"), "\(failed)")
            await #expect(throws: AccordError.self) { _ = try await store.failedMail(actor: "otto") }
            #expect(try await MailDelivery.deliver(store: store, renderer: renderer, now: t0).sent == 0, "not before its backoff")
            let later = try await MailDelivery.deliver(store: store, renderer: renderer, now: t0.addingTimeInterval(31))
            #expect(later.sent == 1)
            #expect(smtp.received().filter { $0.to == ["otto@example.com"] }.count == 2, "each of otto's messages arrived once")

            // The server goes down during a pass: the attempt fails, the message waits, and is sent when it returns.
            smtp.stop()
            _ = try await store.assignTask("m/plan", to: "carl", actor: "ada")
            _ = try await store.addComment(to: "m/notes", body: "Notes are late", actor: "ada")
            let down = try await MailDelivery.deliver(store: store, renderer: renderer, now: t0.addingTimeInterval(40))
            #expect(down.sent == 0 && down.failed == 1)
            let back = try SMTPTestServer(folder: smtp.folder.appendingPathComponent("again"))
            defer { back.remove() }
            let returned = try await MailDelivery.deliver(store: store, renderer: try mailRenderer(back), now: t0.addingTimeInterval(80))
            #expect(returned.sent == 1 && back.received().count == 1 && back.received()[0].to == ["otto@example.com"])
        }
    }

    @Test("preferences per kind: off, digest, at once; escalations cannot be switched off; three instances make one digest per person")
    func preferencesAndDigests() async throws {
        let smtp = try SMTPTestServer()
        defer { smtp.remove() }
        try await TestDatabase.with { db in
            let store = db.store
            try await seededMail(store, daysAgo: 13)  // both tasks due 3 days ago: overdue, and escalated to the board
            await #expect(throws: AccordError.self) {
                _ = try await store.setMailPreferences([.escalation: .off], timeZone: nil, digestHour: nil, actor: "bea")
            }
            do {
                _ = try await store.setMailPreferences([.incident: .off], timeZone: nil, digestHour: nil, actor: "bea")
            } catch let error as AccordError {
                #expect(error.message.contains("cannot be switched off") && error.field == "incident")
            }
            await #expect(throws: AccordError.self) {
                _ = try await store.setMailPreferences([:], timeZone: "Mars/Olympus", digestHour: nil, actor: "bea")
            }
            await #expect(throws: AccordError.self) { _ = try await store.setMailPreferences([:], timeZone: nil, digestHour: 24, actor: "bea") }
            // bea: escalations in her digest, at 07:00 in Paris; otto: no overdue notices at all.
            let bea = try await store.setMailPreferences([.escalation: .digest], timeZone: "Europe/Paris", digestHour: 7, actor: "bea")
            #expect(bea.mode(.escalation) == .digest && bea.timeZone == "Europe/Paris" && bea.digestHour == 7)
            _ = try await store.setMailPreferences([.overdue: .off], timeZone: nil, digestHour: nil, actor: "otto")
            _ = try await store.assignTask("m/plan", to: "otto", actor: "ada")
            _ = try await store.assignTask("m/notes", to: "otto", actor: "ada")
            let renderer = try mailRenderer(smtp)
            _ = try await MailDelivery.deliver(store: store, renderer: renderer)
            smtp.stop()

            let pass = try await store.runDeadlines()
            #expect(pass.overdue == 2 && pass.escalations == 2, "\(pass.fired)")
            #expect(try await store.mailCounts(actor: "ada").inDigest == 2, "bea's two escalations wait for her digest")

            // 06:30 in Paris: not yet. 07:30: due. Three instances (three pools) make digests at the same moment.
            let calendar = Calendar(identifier: .gregorian)
            var parts = calendar.dateComponents(in: TimeZone(identifier: "Europe/Paris")!, from: Date())
            parts.hour = 6
            parts.minute = 30
            let early = try #require(calendar.date(from: parts))
            #expect(try await store.makeDigests(now: early) == 0)
            let stores = [store, db.store, db.store]
            let made = try await withThrowingTaskGroup(of: Int.self) { group in
                for instance in stores { group.addTask { try await instance.makeDigests(now: early.addingTimeInterval(3600)) } }
                return try await group.reduce(0, +)
            }
            #expect(made == 1, "one digest for bea, however many instances")
            #expect(try await store.makeDigests(now: early.addingTimeInterval(7200)) == 0, "once per day")

            let back = try SMTPTestServer(folder: smtp.folder.appendingPathComponent("again"))
            defer { back.remove() }
            _ = try await MailDelivery.deliver(store: store, renderer: try mailRenderer(back))
            let received = back.received()
            #expect(received.filter { $0.to == ["otto@example.com"] }.isEmpty, "otto switched overdue notices off")
            let digest = try #require(received.first { $0.to == ["bea@example.com"] })
            #expect(received.filter { $0.to == ["bea@example.com"] }.count == 1)
            #expect(
                digest.header("Subject")?.hasPrefix("Accord digest for ") == true
                    && digest.header("Subject")?.hasSuffix("2 items, the latest 3 days late") == true
            )
            #expect(digest.decodedBody.contains("Escalation level 1, 3 days late: Meeting notes") && digest.decodedBody.contains("Risk plan"))
            #expect(try await store.mailCounts(actor: "ada").inDigest == 0)
        }
    }

    @Test("an incident's message at once, its Art. 73 deadline in each person's time zone; invitations carry their link once")
    func incidentAndInvitation() async throws {
        let smtp = try SMTPTestServer()
        defer { smtp.remove() }
        try await TestDatabase.with { db in
            let store = db.store
            try await seededMail(store)
            _ = try await store.setMailPreferences([:], timeZone: "Asia/Tokyo", digestHour: nil, actor: "bea")
            _ = try await store.addSystems(
                program: "m",
                [NewAISystem(name: "CV Screener", operatorRole: .provider, riskClass: .high, annexIII: 4)],
                actor: "ada"
            )
            let aware = try #require(ISO8601DateFormatter().date(from: "2026-11-28T09:30:00Z"))
            _ = try await store.reportIncident(
                program: "m",
                system: "cv-screener",
                kind: .other,
                awareAt: aware,
                summary: "Qualified candidates rejected",
                actor: "otto",
                now: aware.addingTimeInterval(3600)
            )
            let (_, link) = try await store.invitePerson(
                handle: "kat",
                name: "Katherine Johnson",
                email: "kat@example.com",
                admin: false,
                actor: "ada"
            )
            _ = try await MailDelivery.deliver(store: store, renderer: try mailRenderer(smtp))
            let received = smtp.received()
            let tokyo = try #require(received.first { $0.to == ["bea@example.com"] })
            #expect(tokyo.header("Subject") == "[m] Serious incident 1 on cv-screener: report within 15 days")
            #expect(tokyo.decodedBody.contains("Deadline: 2026-12-13 18:30 (Asia/Tokyo)"), "\(tokyo.decodedBody)")
            let ada = try #require(received.first { $0.to == ["ada@example.com"] })
            #expect(ada.decodedBody.contains("Deadline: 2026-12-13 09:30 (UTC)"))
            let invitation = try #require(received.first { $0.to == ["kat@example.com"] })
            #expect(invitation.header("Subject") == "Your Accord account: set your password")
            #expect(invitation.decodedBody.contains("https://accord.example.com/set-password/\(link.token)"))
            #expect(invitation.header("List-Unsubscribe") == nil)
            let kept = try await db.pool.withConnection {
                try await $0.query("SELECT count(*) AS n FROM accord.mail WHERE secret IS NOT NULL")[0].decode(Int.self, "n")
            }
            #expect(kept == 0, "the link's token is erased once the message is sent")
        }
    }
}
