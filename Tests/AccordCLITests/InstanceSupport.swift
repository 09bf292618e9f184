import AccordCore
import AccordStore
import Foundation
import NIOConcurrencyHelpers
import Postgres

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The instance test's organisation, its waits and its checker.
enum InstanceSeed {
    /// A program `f` of `count` tasks in review for board members b1…bN (with tokens), and `programs`
    /// programs of the deadline workflow started 40 days ago, so every task is late: reminders, overdue
    /// notices and escalations fire at the first pass. lou (the lead) mails at once; bea (the boss) takes her
    /// escalations in a daily digest due from midnight UTC.
    static func seed(
        _ store: Store,
        tasks count: Int,
        signers: Int,
        programs: Int
    ) async throws -> (tasks: [Int64], tokens: [String], adminToken: String) {
        let (ids, tokens) = try await FaultTests.seed(store, tasks: count, signers: signers, adminPassword: faultPassword)
        _ = try await store.addPerson(handle: "lou", name: "Lou Lead", email: "lou@example.com", admin: false, password: nil, actor: "ada")
        _ = try await store.addPerson(handle: "bea", name: "Bea Boss", email: "bea@example.com", admin: false, password: nil, actor: "ada")
        _ = try await store.setMailPreferences([.escalation: .digest], timeZone: "UTC", digestHour: 0, actor: "bea")
        _ = try await store.loadWorkflow(yaml: FaultTests.deadlineWorkflow, file: "sched.yaml", actor: "ada")
        let started = CalendarDate(Date().addingTimeInterval(-40 * 86_400))
        for n in 1...programs {
            _ = try await store.startProgram(workflow: "sched", version: nil, title: "P\(n)", slug: "p\(n)", startsOn: started, actor: "ada")
            for (role, handle) in [("lead", "lou"), ("owner", "otto"), ("boss", "bea")] {
                _ = try await store.bindRole(program: "p\(n)", role: role, handles: [handle], actor: "ada")
            }
        }
        let admin = try await store.createToken(for: "ada", name: "probe", expires: nil, actor: "ada", proof: .password(faultPassword)).1
        return (ids, tokens, admin)
    }

    /// Waits until the schedulers have fired `marks` deadline marks, delivered every webhook, sent every
    /// mail due now and made today's digest (escalations fired after it wait for tomorrow's); false after 60 s.
    static func waitForScheduler(_ pool: PostgresPool, marks: Int, sink: WebhookSink) async throws -> Bool {
        for _ in 0..<600 {
            let pending = try await pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT (SELECT count(*)::int FROM accord.deadline_event) AS marks,
                           (SELECT count(*)::int FROM accord.webhook_delivery WHERE delivered_at IS NULL) AS deliveries,
                           (SELECT count(*)::int FROM accord.webhook_delivery) AS rows,
                           (SELECT count(*)::int FROM accord.mail WHERE sent_at IS NULL AND mode = 'now') AS mail,
                           (SELECT count(*)::int FROM accord.mail_digest) AS digests
                    """
                ).map { row -> (Int, Int, Int, Int, Int) in
                    (
                        try row.decode(Int.self, "marks"), try row.decode(Int.self, "deliveries"), try row.decode(Int.self, "rows"),
                        try row.decode(Int.self, "mail"), try row.decode(Int.self, "digests")
                    )
                }.first
            }
            if let (fired, deliveries, rows, mail, digests) = pending, fired >= marks, deliveries == 0, rows > 0, mail == 0, digests > 0,
                sink.received().count >= rows
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The browser session (Tests/browser/instances_session.py) as ada, through the balancer, running.
    static func browserSession(_ base: String, task: Int64) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = [
            InstanceTests.root.appendingPathComponent("Tests/browser/instances_session.py").path, base, "ada", faultPassword, String(task),
        ]
        child.currentDirectoryURL = InstanceTests.root
        try child.run()
        return child
    }

    /// Per acknowledged task of program `f`: its signature, its audit entries and its state, whole.
    static func check(_ pool: PostgresPool, acknowledged: Set<Int64>) async throws -> (acknowledged: Int, lost: Int, duplicated: Int, halfDone: Int) {
        let rows = try await pool.withConnection { try await SignOffLedger.read($0) }
        let lost = rows.filter { acknowledged.contains($0.id) && $0.signatures == 0 }.count
        return (acknowledged.count, lost, rows.filter { $0.signatures > 1 }.count, rows.filter { !$0.isWhole }.count)
    }
}

/// Signers working through their tasks with an Idempotency-Key per task, retrying any failure with the
/// same key, and one reader reading the inbox, until stopped.
final class SignOffLoad: Sendable {
    let client: APIClient
    let tasks: [Int64]
    let tokens: [String]
    private let running = NIOLockedValueBox(true)
    private let done = NIOLockedValueBox<Set<Int64>>([])
    private let log = NIOLockedValueBox<[(at: Date, status: Int?)]>([])  // when each request was sent, and its answer
    private let readCounts = NIOLockedValueBox((reads: 0, failed: 0))

    /// The pause after each acknowledged sign-off, so the load lasts through the whole scenario.
    let pace: Duration

    init(client: APIClient, tasks: [Int64], tokens: [String], pace: Duration = .milliseconds(30)) {
        self.pace = pace
        self.client = client
        self.tasks = tasks
        self.tokens = tokens
    }

    func stop() { running.withLockedValue { $0 = false } }
    var acknowledged: Set<Int64> { done.withLockedValue { $0 } }
    func answers() -> [(at: Date, status: Int?)] { log.withLockedValue { $0 } }
    func reads() -> Int { readCounts.withLockedValue { $0.reads } }
    func failedReads() -> Int { readCounts.withLockedValue { $0.failed } }

    /// Signer `signer`'s share of the tasks, each until acknowledged (or the load stops).
    func sign(as signer: Int, of signers: Int) async {
        for task in stride(from: signer, to: tasks.count, by: signers).map({ tasks[$0] }) {
            while running.withLockedValue({ $0 }) {
                let sent = Date()
                let answer = await client.send(
                    "POST",
                    "/api/v1/tasks/\(task)/sign",
                    token: tokens[signer],
                    key: "lb-\(task)",
                    body: #"{"password":"\#(faultPassword)","meaning":"approval"}"#
                )
                log.withLockedValue { $0.append((sent, answer.status)) }
                if answer.status == 200 {
                    done.withLockedValue { _ = $0.insert(task) }
                    try? await Task.sleep(for: pace)
                    break
                }
                if let status = answer.status, ![502, 503, 504].contains(status) { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            if !running.withLockedValue({ $0 }) { return }
        }
    }

    /// The inbox, read again and again.
    func read(token: String) async {
        while running.withLockedValue({ $0 }) {
            let answer = await client.send("GET", "/api/v1/inbox", token: token)
            readCounts.withLockedValue {
                $0.reads += 1
                if answer.status != 200 { $0.failed += 1 }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Tests/cluster/webhook_sink.py: a real HTTP receiver that logs every delivery.
final class WebhookSink: @unchecked Sendable {
    let port: Int
    let file: URL
    private let process = Process()

    init() throws {
        file = URL(fileURLWithPath: "/tmp/accord-sink-\(UUID().uuidString.prefix(8).lowercased()).jsonl")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [InstanceTests.root.appendingPathComponent("Tests/cluster/webhook_sink.py").path, file.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, words[0] == "ready", let port = Int(words[1]) else { throw CLIError("the webhook sink did not start") }
        self.port = port
    }

    /// Every delivery so far: its webhook-id, arrival and body.
    func received() -> [(id: String, at: Date, body: String)] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let at = object["at"] as? Double
            else { return nil }
            return (object["id"] as? String ?? "", Date(timeIntervalSince1970: at), object["body"] as? String ?? "")
        }
    }

    /// When the delivery whose body contains `text` arrived, waiting up to `limit`.
    func arrival(containing text: String, within limit: Duration) async throws -> Date? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if let hit = received().first(where: { $0.body.contains(text) }) { return hit.at }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// SIGKILL: a child of the test process does not always get SIGTERM delivered (blocked signals are inherited).
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: file)
    }
}
