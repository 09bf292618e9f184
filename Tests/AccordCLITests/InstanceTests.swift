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

/// Three `accord serve` instances on one PostgreSQL behind HAProxy (round-robin, no sticky sessions), each
/// with its scheduler: sign-offs, API reads and a real browser session keep working while one instance is
/// SIGKILLed and the others are restarted one by one with SIGTERM. `make test` runs the short variant,
/// `make soak` (ACCORD_SOAK=1) the long one.
@Suite("Many instances: behind a load balancer, nothing lost, nothing done twice", .serialized)
struct InstanceTests {
    static var soak: Bool { ProcessInfo.processInfo.environment["ACCORD_SOAK"] == "1" }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("three instances behind HAProxy: SIGKILL one, roll the others with SIGTERM; schedulers fire everything once")
    func threeInstances() async throws {
        guard LoadBalancer.executable != nil else {
            if ProcessInfo.processInfo.environment["ACCORD_TEST_STRICT"] == "1" { Issue.record("haproxy is not installed") }
            return
        }
        let signers = 6
        let perSigner = Self.soak ? 1500 : 300
        let programs = Self.soak ? 40 : 8
        // What one clean scheduler pass leaves, in a database seeded the same way.
        let expected = try await TestDatabase.with { db in
            // Program f's tasks have no deadlines: one is enough here (the people are made in the same order).
            _ = try await InstanceSeed.seed(db.store, tasks: 1, signers: signers, programs: programs)
            _ = try await db.store.runDeadlines(now: Date())
            return try await FaultTests.deadlineState(db.pool)
        }
        try await TestDatabase.with(maxConnections: 4) { db in
            let seeded = try await InstanceSeed.seed(db.store, tasks: signers * perSigner, signers: signers, programs: programs)
            let sink = try WebhookSink()
            defer { sink.stop() }
            _ = try await db.store.addWebhook(
                url: "http://127.0.0.1:\(sink.port)/hook",
                program: nil,
                topics: ["task.reminder", "task.overdue", "task.escalation", "finding.opened"],
                actor: "ada"
            )
            let smtp = try SMTPTestServer()
            let logs = URL(fileURLWithPath: "/tmp/accord-instances-\(UUID().uuidString.prefix(8).lowercased())")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let options = [
                "--deadline-interval", "1", "--allow-private-webhooks", "--trusted-proxy", "127.0.0.1", "--shutdown-delay", "1.5",
                "--max-connections", "6", "--smtp-url", "smtp://127.0.0.1:\(smtp.port)", "--mail-from", "accord@example.com",
            ]
            let servers = try (1...3).map {
                try ServerProcess(conninfo: db.conninfo, options: options, log: logs.appendingPathComponent("s\($0).log"))
            }
            defer { for server in servers { server.stop() } }
            for server in servers { try await server.start() }
            let balancer = try await LoadBalancer(backends: servers.enumerated().map { (name: "s\($0.offset + 1)", port: $0.element.port) })
            defer { balancer.stop() }
            let client = APIClient(base: balancer.base, timeout: 15)

            // The schedulers, racing from the start: every deadline mark, mail and webhook, once.
            let settled = try await InstanceSeed.waitForScheduler(db.pool, marks: expected.count, sink: sink)
            #expect(settled, "the schedulers did not deliver everything within 60 s")
            let deliveredAtStart = sink.received().count

            // Sign-offs and reads through the balancer while instances die and restart.
            let load = SignOffLoad(client: client, tasks: seeded.tasks, tokens: seeded.tokens)
            let windows = NIOLockedValueBox<[(kind: String, from: Date, to: Date)]>([])
            let browserStatus = NIOLockedValueBox<Int32?>(nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for signer in 0..<signers { group.addTask { await load.sign(as: signer, of: signers) } }
                group.addTask { await load.read(token: seeded.tokens[0]) }
                group.addTask {
                    defer { load.stop() }
                    let rounds = Self.soak ? 4 : 1
                    for round in 0..<rounds {
                        try await Task.sleep(for: .milliseconds(1500))
                        let victim = servers[round % 3]
                        let killed = Date()
                        victim.kill9()
                        try await Task.sleep(for: .seconds(1))
                        try await victim.start()
                        windows.withLockedValue { $0.append(("SIGKILL", killed, Date().addingTimeInterval(2))) }
                        // The browser works through the rolling restart that follows.
                        let browser = round == 0 ? try InstanceSeed.browserSession(balancer.base, task: seeded.tasks.last!) : nil
                        for offset in 1...2 {
                            try await Task.sleep(for: .milliseconds(700))
                            let server = servers[(round + offset) % 3]
                            let from = Date()
                            let status = await server.gracefulStop()
                            #expect(status == 0, "SIGTERM ends the server cleanly (exit status \(status))")
                            try await server.start()
                            windows.withLockedValue { $0.append(("SIGTERM", from, Date().addingTimeInterval(1))) }
                        }
                        if let browser {
                            while browser.isRunning { try await Task.sleep(for: .milliseconds(100)) }
                            browserStatus.withLockedValue { $0 = browser.terminationStatus }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(800))
                }
                try await group.waitForAll()
            }
            #expect(browserStatus.withLockedValue { $0 } == 0, "the browser session through the balancer (see its output above)")

            // NOTIFY: a finding's webhook is delivered by whichever instance takes the lease, long before the 5 s poll.
            var latencies: [Double] = []
            for n in 1...(Self.soak ? 40 : 10) {
                let title = "notify probe \(n)"
                let sent = Date()
                let answer = await client.send(
                    "POST",
                    "/api/v1/programs/p1/findings",
                    token: seeded.adminToken,
                    body: #"{"source":"monitoring","severity":"minor","title":"\#(title)"}"#
                )
                #expect(answer.status == 201, "finding \(n): \(String(describing: answer.status))")
                if let arrival = try await sink.arrival(containing: title, within: .seconds(10)) {
                    latencies.append(arrival.timeIntervalSince(sent))
                }
            }
            #expect(latencies.count == (Self.soak ? 40 : 10), "every probe's webhook arrived")

            // The checker.
            let outcome = try await InstanceSeed.check(db.pool, acknowledged: load.acknowledged)
            let answers = load.answers()
            let failed = answers.filter { $0.status.map { !(200..<300).contains($0) } ?? true }
            let windowList = windows.withLockedValue { $0 }
            let inWindow = { (kind: String, at: Date) in windowList.contains { $0.kind == kind && $0.from <= at && at <= $0.to } }
            let failedOnTerm = failed.filter { inWindow("SIGTERM", $0.at) && !inWindow("SIGKILL", $0.at) }
            let unexpected = answers.filter { $0.status.map { ![200, 502, 503, 504].contains($0) } ?? false }
            // An idle keep-alive connection closed with no request on it is logged as <NOSRV> <BADREQ> (400 "CR", 408 "cR").
            let logged = balancer.entries()
            let served = logged.filter { !($0.instance == "<NOSRV>" && $0.method == "<BADREQ>") }
            let perInstance = Dictionary(grouping: served, by: \.instance).mapValues(\.count)
            let browserInstances = Set(logged.filter { $0.userAgent.contains("accord-instances-session") }.map(\.instance))
            let receipts = sink.received()
            let duplicatedDeliveries = receipts.count - Set(receipts.map(\.id)).count
            let mails = smtp.received()
            let smtpIDs = mails.compactMap { $0.header("Message-ID") }
            let digests = mails.filter { $0.header("Subject")?.hasPrefix("Accord digest for ") == true }.count
            let deadlineState = try await FaultTests.deadlineState(db.pool)
            latencies.sort()
            print(
                """
                instances (3 behind HAProxy, \(windowList.filter { $0.kind == "SIGKILL" }.count) SIGKILL, \(windowList.filter { $0.kind == "SIGTERM" }.count) SIGTERM): \
                requests \(answers.count + load.reads()), sign-offs acknowledged \(outcome.acknowledged), failed \(failed.count) \
                (\(failedOnTerm.count) during the rolling restarts), lost \(outcome.lost), duplicated \(outcome.duplicated), half-done \(outcome.halfDone); \
                reads \(load.reads()) (failed \(load.failedReads())); per instance \(perInstance.sorted { $0.key < $1.key }); \
                browser session on \(browserInstances.sorted()); schedulers: marks \(deadlineState.count) of \(expected.count) expected, \
                webhooks \(receipts.count) received (\(deliveredAtStart) at start), duplicated \(duplicatedDeliveries); \
                mail \(smtpIDs.count) sent, duplicated \(smtpIDs.count - Set(smtpIDs).count), digests \(digests); \
                finding request to webhook arrival p50 \(latencies.isEmpty ? "-" : String(format: "%.0f ms", latencies[latencies.count / 2] * 1000)), \
                max \(latencies.last.map { String(format: "%.0f ms", $0 * 1000) } ?? "-") (poll every 5 s)
                """
            )
            #expect(
                unexpected.isEmpty,
                "only 2xx, and 502–504 while an instance dies: \(unexpected.prefix(5).map { "\($0.status ?? 0) at \($0.at)" })"
            )
            #expect(failedOnTerm.isEmpty, "zero failed requests during the rolling restarts")
            #expect(outcome.acknowledged > 0 && outcome.lost == 0 && outcome.duplicated == 0 && outcome.halfDone == 0)
            #expect(load.failedReads() == 0, "reads are retried by the balancer, never failed")
            #expect(perInstance.count == 3, "round-robin reached all three instances")
            #expect(browserInstances.count >= 2, "the browser session was served by more than one instance")
            #expect(deadlineState == expected, "every reminder, overdue notice and escalation fired once, whole")
            #expect(duplicatedDeliveries == 0)
            #expect(smtpIDs.count == Set(smtpIDs).count && digests == 1, "each mail once; one digest for bea")
            #expect(latencies.last.map { $0 < 2.5 } == true, "NOTIFY woke a delivery well before the next poll")
            #expect(try await db.store.verifyAudit(program: "f", actor: "ada").ok)
            #expect(try await db.store.verifyChain("program:p1").problem == nil)
            print("instance logs: \(logs.path), balancer log: \(balancer.log.path)")
        }
    }
}
