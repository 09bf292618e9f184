import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import NIOConcurrencyHelpers
import Postgres
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Faults under load, against the real binary: the server SIGKILLed and restarted, PostgreSQL stopped
/// and started. `make test` runs the short variants; `make soak` (ACCORD_SOAK=1) the long ones.
@Suite("Faults: every acknowledged sign-off survives, none is duplicated, nothing is half-done", .serialized)
struct FaultTests {
    static var soak: Bool { ProcessInfo.processInfo.environment["ACCORD_SOAK"] == "1" }

    static let workflow = """
        id: fault
        version: 1
        title: Fault test
        roles:
          lead: {title: Lead, manager: true}
          owner: {title: Owner}
          board: {title: Board, leadership: true}
        steps:
          - key: s
            title: Sign-offs
            tasks:
        """

    /// A program of `count` tasks in review, each needing one board signature; board members b1…bN with
    /// tokens; the administrator ada, with `adminPassword` when given (so she can have a token too).
    static func seed(
        _ store: Store,
        tasks count: Int,
        signers: Int,
        adminPassword: String? = nil
    ) async throws -> (tasks: [Int64], tokens: [String]) {
        let yaml =
            workflow + (1...count).map { "\n      - {key: t\($0), title: Task \($0), owner: owner, approval: {signers: [board]}}" }.joined() + "\n"
        _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: adminPassword, actor: nil)
        _ = try await store.addPerson(handle: "otto", name: "Otto Owner", email: nil, admin: false, password: nil, actor: "ada")
        for n in 1...signers {
            _ = try await store.addPerson(handle: "b\(n)", name: "Board \(n)", email: nil, admin: false, password: faultPassword, actor: "ada")
        }
        _ = try await store.loadWorkflow(yaml: yaml, file: "fault.yaml", actor: "ada")
        _ = try await store.startProgram(workflow: "fault", version: nil, title: "Fault", slug: "f", startsOn: nil, actor: "ada")
        _ = try await store.bindRole(program: "f", role: "owner", handles: ["otto"], actor: "ada")
        _ = try await store.bindRole(program: "f", role: "board", handles: (1...signers).map { "b\($0)" }, actor: "ada")
        var ids: [Int64] = []
        for n in 1...count {
            ids.append(try await store.submitTask("f/t\(n)", actor: "otto").id)
        }
        var tokens: [String] = []
        for n in 1...signers {
            tokens.append(try await store.createToken(for: "b\(n)", name: "fault", expires: nil, actor: "b\(n)", proof: .password(faultPassword)).1)
        }
        return (ids, tokens)
    }

    @Test("sign-offs through the API while the server is SIGKILLed and restarted: none lost, none duplicated, the audit verifies")
    func killedServer() async throws {
        let kills = Self.soak ? 15 : 3
        let signers = 6
        let perSigner = Self.soak ? 80 : 15
        try await TestDatabase.with(maxConnections: 8) { db in
            let store = db.store
            let (tasks, tokens) = try await Self.seed(store, tasks: signers * perSigner, signers: signers)
            let server = try ServerProcess(conninfo: db.conninfo)
            try await server.start()
            defer { server.stop() }
            let acknowledged = NIOLockedValueBox<Set<Int64>>([])
            let unexpected = NIOLockedValueBox<[String]>([])
            let attempts = NIOLockedValueBox(0)
            await withTaskGroup(of: Void.self) { group in
                for s in 0..<signers {
                    group.addTask {
                        for task in stride(from: s, to: tasks.count, by: signers).map({ tasks[$0] }) {
                            // The same key on every attempt: a retry after a lost answer must not sign twice.
                            for _ in 0..<400 {
                                attempts.withLockedValue { $0 += 1 }
                                let status = await server.post(
                                    "/api/v1/tasks/\(task)/sign",
                                    token: tokens[s],
                                    key: "sign-\(task)",
                                    body: #"{"password":"\#(faultPassword)","meaning":"approval"}"#
                                )
                                if status == 200 {
                                    acknowledged.withLockedValue { _ = $0.insert(task) }
                                    break
                                }
                                if let status, status != 503 {
                                    unexpected.withLockedValue { $0.append("task \(task): HTTP \(status)") }
                                    break
                                }
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<kills {
                        try? await Task.sleep(for: .milliseconds(Int.random(in: 300...900)))
                        server.kill9()
                        try? await Task.sleep(for: .milliseconds(150))
                        try? await server.start()
                    }
                }
            }
            let acked = acknowledged.withLockedValue { $0 }
            #expect(unexpected.withLockedValue { $0 }.isEmpty, "\(unexpected.withLockedValue { $0 })")

            // The checker: signatures, task states and audit entries, per task.
            let rows = try await db.pool.withConnection { try await SignOffLedger.read($0) }
            let found = rows.filter { acked.contains($0.id) && $0.signatures >= 1 }.count
            let lost = acked.count - found
            let duplicated = rows.filter { $0.signatures > 1 }.count
            let halfDone = rows.filter { !$0.isWhole }
            print(
                "faults (server SIGKILLed \(kills) times): requests \(attempts.withLockedValue { $0 }), acknowledged \(acked.count), found \(found), lost \(lost), duplicated \(duplicated), half-done \(halfDone.count)"
            )
            #expect(acked.count == tasks.count, "every sign-off was eventually acknowledged")
            #expect(lost == 0)
            #expect(duplicated == 0)
            #expect(halfDone.isEmpty, "\(halfDone)")
            let verification = try await store.verifyAudit(program: "f", actor: "ada")
            #expect(verification.ok, "\(verification.problems)")
        }
    }

    @Test("PostgreSQL stopped under load: 503, never a false 2xx; /readyz follows; the server recovers by itself")
    func databaseRestart() async throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        let start = try sandbox.run(["db", "start"])
        try #require(start.status == 0, "\(start.stderr)")
        let url = try sandbox.run(["db", "url"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let opened = try await Store.open(.url(url), migrate: true, maxConnections: 4, environment: sandbox.environment)
        let (tasks, tokens) = try await Self.seed(opened, tasks: Self.soak ? 200 : 60, signers: 2)
        try await opened.close()
        let server = try ServerProcess(conninfo: url, environment: sandbox.environment)
        try await server.start()
        defer { server.stop() }

        let acknowledged = NIOLockedValueBox<Set<Int64>>([])
        let statuses = NIOLockedValueBox<[Int: Int]>([:])
        let running = NIOLockedValueBox(true)
        let restarts = Self.soak ? 3 : 1
        let recoveries = NIOLockedValueBox<[Double]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<2 {
                group.addTask {
                    var queue = stride(from: s, to: tasks.count, by: 2).map { tasks[$0] }
                    while running.withLockedValue({ $0 }), let task = queue.first {
                        let status = await server.post(
                            "/api/v1/tasks/\(task)/sign",
                            token: tokens[s],
                            key: "db-\(task)",
                            body: #"{"password":"\#(faultPassword)","meaning":"approval"}"#
                        )
                        if let status { statuses.withLockedValue { $0[status, default: 0] += 1 } }
                        if status == 200 {
                            acknowledged.withLockedValue { _ = $0.insert(task) }
                            queue.removeFirst()
                        } else {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                }
            }
            group.addTask {
                defer { running.withLockedValue { $0 = false } }
                for _ in 0..<restarts {
                    try await Task.sleep(for: .milliseconds(700))
                    #expect(try sandbox.run(["db", "stop"]).status == 0)
                    // While it is down: readiness says so, and reads are refused with 503.
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(await server.get("/readyz") == 503)
                    #expect(await server.get("/api/v1/inbox", token: tokens[0]) == 503)
                    #expect(try sandbox.run(["db", "start"]).status == 0)
                    let back = Date()
                    var ready = false
                    for _ in 0..<200 where !ready {
                        ready = await server.get("/api/v1/inbox", token: tokens[0]) == 200
                        if !ready { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    #expect(ready, "the server did not recover within 10 s")
                    recoveries.withLockedValue { $0.append(Date().timeIntervalSince(back)) }
                    #expect(await server.get("/readyz") == 200)
                }
                try await Task.sleep(for: .milliseconds(700))
            }
            try await group.waitForAll()
        }
        let seen = statuses.withLockedValue { $0 }
        #expect(Set(seen.keys).isSubset(of: [200, 503]), "only 200 and 503: \(seen)")
        let reopened = try await Store.open(.url(url), maxConnections: 2, environment: sandbox.environment)
        let signed = try await reopened.pool.withConnection { connection in
            Set(try await connection.query("SELECT DISTINCT task_id FROM accord.signature").map { try $0.decode(Int64.self, "task_id") })
        }
        let lost = acknowledged.withLockedValue { $0 }.subtracting(signed).count
        print(
            "database restarted \(restarts) time(s) under load: answers \(seen.sorted { $0.key < $1.key }), acknowledged \(acknowledged.withLockedValue { $0.count }), lost \(lost), recovery after start \(recoveries.withLockedValue { $0 }.map { String(format: "%.2f s", $0) })"
        )
        #expect(lost == 0)
        let verification = try await reopened.verifyAudit(program: "f", actor: "ada")
        #expect(verification.ok, "\(verification.problems)")
        try await reopened.close()
    }
    static let deadlineWorkflow = """
        id: sched
        version: 1
        title: Scheduler fault test
        roles:
          lead: {title: Lead, manager: true}
          owner: {title: Owner}
          boss: {title: Boss, leadership: true}
        defaults:
          escalation:
            remind_before: [P7D, P1D]
            chain:
              - {after: P3D, to: step-owner}
              - {after: P7D, to: boss}
        steps:
          - key: s
            title: Work
            owner: lead
            tasks:
        """ + (1...8).map { "\n      - {key: t\($0), title: Task \($0), owner: owner, due: P\($0 * 3)D}" }.joined() + "\n"

    /// `programs` programs of eight tasks due over the first weeks of 2027, with their people.
    static func seedDeadlines(_ store: Store, programs: Int) async throws {
        _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
        for handle in ["lou", "otto", "bea"] {
            _ = try await store.addPerson(handle: handle, name: handle.capitalized, email: nil, admin: false, password: nil, actor: "ada")
        }
        _ = try await store.loadWorkflow(yaml: deadlineWorkflow, file: "sched.yaml", actor: "ada")
        for n in 1...programs {
            _ = try await store.startProgram(
                workflow: "sched",
                version: nil,
                title: "P\(n)",
                slug: "p\(n)",
                startsOn: CalendarDate("2027-01-01")!,
                actor: "ada"
            )
            for (role, handle) in [("lead", "lou"), ("owner", "otto"), ("boss", "bea")] {
                _ = try await store.bindRole(program: "p\(n)", role: role, handles: [handle], actor: "ada")
            }
        }
    }

    /// Every mark fired, with its notifications and audit entries: what a pass must leave, whole.
    static func deadlineState(_ pool: PostgresPool) async throws -> [String] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT p.slug || '/' || t.template_key || ' ' || e.kind || e.level || ' due ' || e.due_on || ' to ' || array_to_string(e.recipients, '+')
                       || ' notes ' || (SELECT count(*) FROM accord.notification n WHERE n.event_id = e.id)
                       || ' audit ' || (SELECT count(*) FROM accord.audit_entry a WHERE a.chain = 'program:' || p.slug AND a.object_id = p.slug || '/' || t.template_key
                                          AND a.action = CASE e.kind WHEN 'reminder' THEN 'task.reminder' WHEN 'overdue' THEN 'task.overdue' ELSE 'task.escalate' END
                                          AND a.after::text LIKE '%"level":' || e.level || '%') AS line
                FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id JOIN accord.program p ON p.id = t.program_id
                ORDER BY 1
                """
            ).map { try $0.decode(String.self, "line") }
        }
    }

    @Test("scheduler passes SIGKILLed mid-pass, three at once: afterwards every mark exactly once, whole, as one clean pass leaves them")
    func killedSchedulers() async throws {
        let programs = Self.soak ? 120 : 30
        let rounds = Self.soak ? 10 : 3
        let at = "2027-02-10T12:00:00Z"
        let expected = try await TestDatabase.with { db in
            try await Self.seedDeadlines(db.store, programs: programs)
            _ = try await db.store.runDeadlines(now: ISO8601DateFormatter().date(from: at)!)
            return try await Self.deadlineState(db.pool)
        }
        try #require(expected.count >= programs * 8)
        try await TestDatabase.with { db in
            try await Self.seedDeadlines(db.store, programs: programs)
            var killed = 0
            for _ in 0..<rounds {
                let passes = try (0..<3).map { _ in
                    let child = Process()
                    child.executableURL = try accordBinary()
                    child.arguments = ["deadlines", "run-once", "--at", at, "--no-webhooks", "--database", db.conninfo]
                    child.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && $0.key != "DATABASE_URL" }
                    child.standardOutput = FileHandle.nullDevice
                    child.standardError = FileHandle.nullDevice
                    try child.run()
                    return child
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 150...600)))
                for child in passes where child.isRunning {
                    kill(child.processIdentifier, SIGKILL)
                    killed += 1
                }
                for child in passes { child.waitUntilExit() }
            }
            let partial = try await Self.deadlineState(db.pool).count
            // A pass after the crashes finishes what they left.
            _ = try await db.store.runDeadlines(now: ISO8601DateFormatter().date(from: at)!)
            let final = try await Self.deadlineState(db.pool)
            let lost = Set(expected).subtracting(final).count
            let extra = Set(final).subtracting(expected).count
            print(
                "scheduler faults: \(rounds * 3) passes, \(killed) SIGKILLed mid-pass; marks before the last pass \(partial), after \(final.count), expected \(expected.count); lost \(lost), repeated or partial \(extra + final.count - Set(final).count)"
            )
            #expect(final == expected)
            #expect(try await db.store.verifyChain("program:p1").problem == nil)
        }
    }
}

let faultPassword = "fault password, long enough"

/// Program `f`'s tasks as the fault checkers read them: each task's signatures and audit entries.
struct SignOffLedger: Sendable {
    let id: Int64
    let state: String
    let signatures: Int
    /// `task.sign` entries in the program's audit chain.
    let signed: Int
    /// `task.approve` entries.
    let approved: Int

    /// Not half-done: as many signatures as sign and approve entries, and one signature exactly when done.
    var isWhole: Bool { signatures == signed && signatures == approved && (signatures == 1) == (state == "done") }

    /// Every task of program `f`, on `connection`.
    static func read(_ connection: PostgresConnection) async throws -> [SignOffLedger] {
        try await connection.query(
            """
            SELECT t.id, t.state, (SELECT count(*)::int FROM accord.signature s WHERE s.task_id = t.id) AS signatures,
                   (SELECT count(*)::int FROM accord.audit_entry e WHERE e.chain = 'program:f' AND e.action = 'task.sign'
                      AND e.object_id = 'f/' || t.template_key) AS signed_entries,
                   (SELECT count(*)::int FROM accord.audit_entry e WHERE e.chain = 'program:f' AND e.action = 'task.approve'
                      AND e.object_id = 'f/' || t.template_key) AS approve_entries
            FROM accord.task t JOIN accord.program p ON p.id = t.program_id WHERE p.slug = 'f'
            """
        ).map { row in
            SignOffLedger(
                id: try row.decode(Int64.self, "id"),
                state: try row.decode(String.self, "state"),
                signatures: try row.decode(Int.self, "signatures"),
                signed: try row.decode(Int.self, "signed_entries"),
                approved: try row.decode(Int.self, "approve_entries")
            )
        }
    }
}
