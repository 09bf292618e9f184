import AccordStore
import AccordTestSupport
import Foundation
import NIOConcurrencyHelpers
import Postgres
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// PostgreSQL failover under load, against the real binary: the primary of a streaming pair crashed while
/// board members sign through the API, the standby promoted, the same `accord serve` carrying on through
/// its multi-host conninfo. `make test` runs the short variants; `make soak` (ACCORD_SOAK=1) the long ones.
@Suite("Failover: the primary crashed and the standby promoted under load", .serialized)
struct FailoverTests {
    /// The long variants (`make soak`): more tasks, a longer deadline.
    static var soak: Bool { ProcessInfo.processInfo.environment["ACCORD_SOAK"] == "1" }
    /// `make test` sets ACCORD_TEST_STRICT, so there a missing PostgreSQL fails the tests rather than skipping them.
    static var runnable: Bool { StreamingPair.available || ProcessInfo.processInfo.environment["ACCORD_TEST_STRICT"] == "1" }

    @Test(
        "synchronous standby: only 200 and 503, no acknowledged sign-off lost, none doubled, the audit verifies, the server resumes by itself",
        .enabled(if: runnable)
    )
    func synchronous() async throws {
        let run = try await Self.failover(.synchronous)
        print(run.line)
        run.expectSound()
        #expect(run.lost == 0, "a synchronous standby has every acknowledged commit")
        #expect(run.acknowledged == run.tasks, "every sign-off was eventually acknowledged")
    }

    @Test(
        "asynchronous standby: what is lost is measured; still only 200 and 503, none doubled, the audit prefix verifies, the server resumes",
        .enabled(if: runnable)
    )
    func asynchronous() async throws {
        let run = try await Self.failover(.asynchronous)
        print(run.line)
        run.expectSound()
    }

    @Test(
        "synchronous standby stalled for 300 ms before the crash: commits wait instead of being lost; none lost, none doubled",
        .enabled(if: runnable)
    )
    func synchronousStalled() async throws {
        let run = try await Self.failover(.synchronous, stall: true)
        print(run.line)
        run.expectSound()
        #expect(run.lost == 0, "a synchronous standby has every acknowledged commit, even one that fell behind")
        // The COMMITs waiting for the standby when the primary died: the client is told the outcome is unknown.
        #expect(run.unknownAnswered > 0 && run.unknownAnswered == run.unknownAtCommit)
        #expect(run.acknowledged == run.tasks, "every sign-off was eventually acknowledged")
    }

    @Test(
        "asynchronous standby stalled for 300 ms before the crash: the sign-offs acknowledged meanwhile are measured as lost; the rest holds",
        .enabled(if: runnable)
    )
    func asynchronousStalled() async throws {
        let run = try await Self.failover(.asynchronous, stall: true)
        print(run.line)
        run.expectSound()
    }

    /// One answer of the load: when its request left and came back (since the load began), and its status.
    struct Answer: Sendable {
        /// When the request was sent.
        let sent: Duration
        /// When its answer (or the failure to get one) came.
        let answered: Duration
        /// The HTTP status, nil when no answer came.
        let status: Int?
        /// Whether a 503 said the change may or may not have been made (connection lost at COMMIT).
        let outcomeUnknown: Bool
    }

    /// What one failover did, as measured by the clients and found on the promoted standby.
    struct Run: Sendable {
        let mode: StreamingPair.Mode
        /// Whether the WAL sender was held stopped for the last 300 ms before the crash.
        let stalled: Bool
        /// Sign-offs answered 200 while the WAL sender was stopped.
        let acknowledgedDuringStall: Int
        let tasks: Int
        let requests: Int
        let acknowledged: Int
        let statuses: [Int: Int]
        let unanswered: Int
        let unexpected: [String]
        /// 503s and missing answers from the crash to the first 200 after it.
        let refusedDuringSwitch: Int
        /// The status of an inbox read while no server took writes.
        let readWhileDown: Int?
        /// 200s for requests sent after the crash and answered before the promotion began: false answers.
        let acceptedWhileDown: Int
        let lost: Int
        let duplicated: Int
        let halfDone: [String]
        let resumedAfter: Double?
        let promoteTook: Double
        let lag: Int64
        let auditProblems: [String]
        let promotedIsPrimary: Bool
        let serverStayedUp: Bool
        let rateBefore: Double
        let rateAfter: Double
        /// Requests whose connection was lost during COMMIT (outcome unknown, answered 503), from the server's log.
        let unknownAtCommit: Int
        /// 503s whose body said the outcome was unknown rather than "nothing was changed".
        let unknownAnswered: Int
        let serverLog: String

        /// The one line a run prints.
        var line: String {
            let title = "failover (\(mode.rawValue)\(stalled ? ", standby stalled 300 ms before the crash" : ""))"
            let stall = stalled ? ", acknowledged while stalled \(acknowledgedDuringStall)" : ""
            let loss =
                mode == .synchronous
                ? "lost \(lost)" : "lost \(lost) (acknowledged but not on the new primary), replication lag at the stop \(lag) bytes"
            return
                "\(title): requests \(requests), acknowledged \(acknowledged)\(stall), 503 during the switch \(refusedDuringSwitch), failed \(unexpected.count), \(loss), duplicated \(duplicated), resumed \(resumedText) after promotion, audit \(auditText)\(detailsText)"
        }

        /// How long after `pg_ctl promote` was called the first 200 came, as printed.
        var resumedText: String { resumedAfter.map { String(format: "%.2f s", $0) } ?? "never" }
        /// "verifies", or the problems.
        var auditText: String { auditProblems.isEmpty ? "verifies" : "FAILS: \(auditProblems)" }
        /// The rest of the figures, as printed after the main ones.
        var detailsText: String {
            String(
                format:
                    "; answers %@, no answer %d, COMMIT outcome unknown %d (answered as unknown %d), inbox while down %@; promote took %.2f s; sign-offs/s before the crash %.1f, after the switch %.1f",
                statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "),
                unanswered,
                unknownAtCommit,
                unknownAnswered,
                readWhileDown.map(String.init) ?? "no answer",
                promoteTook,
                rateBefore,
                rateAfter
            )
        }

        /// What must hold whatever the mode: true answers only, no duplicate, nothing half-done, the audit
        /// verifies, the same server process served writes again.
        func expectSound() {
            #expect(Set(statuses.keys).isSubset(of: [200, 503]), "only 200 and 503: \(statuses); server log: \(serverLog)")
            #expect(unexpected.isEmpty, "\(unexpected)")
            #expect(acceptedWhileDown == 0, "200 while no server could take writes")
            #expect(readWhileDown == 503, "an inbox read while no server takes writes")
            #expect(duplicated == 0)
            #expect(halfDone.isEmpty, "\(halfDone)")
            #expect(auditProblems.isEmpty, "\(auditProblems)")
            #expect(promotedIsPrimary, "the promoted standby takes writes")
            #expect(serverStayedUp, "the server was never restarted")
            #expect(resumedAfter != nil, "the server served 200s after the switch")
        }
    }

    /// Seeds a program on the pair, runs the signers against `accord serve`, crashes the primary after a
    /// second, promotes the standby 300–500 ms later, and checks the promoted standby.
    /// With `stall`, the primary's WAL sender is stopped 300 ms before the crash (see `StreamingPair.stallReplication`).
    static func failover(_ mode: StreamingPair.Mode, stall: Bool = false) async throws -> Run {
        let pair = try await StreamingPair.start(mode)
        defer { pair.tearDown() }
        let environment = ServerProcess.testEnvironment
        let signers = 4
        let opened = try await Store.open(.url(pair.conninfo), migrate: true, maxConnections: 4, environment: environment)
        // Passwords hashed at bcrypt cost 4, not 12: each sign-off then costs its database work rather than
        // a quarter second of CPU, so the load is the commit rate and many requests meet the switch.
        let seeding = Store(pool: opened.pool, location: .url(pair.conninfo), auditKey: testAuditKey, passwordCost: 4)
        let (tasks, tokens) = try await FaultTests.seed(seeding, tasks: soak ? 3000 : 600, signers: signers)
        try await opened.close()
        let log = pair.folder.appendingPathComponent("accord.log")
        let server = try ServerProcess(conninfo: pair.conninfo, environment: environment, log: log)
        try await server.start()
        defer { server.stop() }

        let clock = ContinuousClock()
        let origin = clock.now
        let deadline = origin + .seconds(soak ? 600 : 60)
        let answers = NIOLockedValueBox<[Answer]>([])
        let acknowledged = NIOLockedValueBox<Set<Int64>>([])
        let unexpected = NIOLockedValueBox<[String]>([])
        let lag = NIOLockedValueBox<Int64>(-1)
        let readWhileDown = NIOLockedValueBox<Int?>(nil)
        let stallStart = NIOLockedValueBox<Duration?>(nil)
        let marks = NIOLockedValueBox<(crashing: Duration, crashed: Duration, promoting: Duration, promoted: Duration)?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<signers {
                group.addTask {
                    for task in stride(from: s, to: tasks.count, by: signers).map({ tasks[$0] }) {
                        // The same key on every attempt: a retry after a lost answer must not sign twice.
                        while clock.now < deadline {
                            let sent = origin.duration(to: clock.now)
                            let (status, _, body) = await server.client.send(
                                "POST",
                                "/api/v1/tasks/\(task)/sign",
                                token: tokens[s],
                                key: "fo-\(task)",
                                body: #"{"password":"\#(faultPassword)","meaning":"approval"}"#
                            )
                            let answer = Answer(
                                sent: sent,
                                answered: origin.duration(to: clock.now),
                                status: status,
                                outcomeUnknown: body.contains("may or may not have been made")
                            )
                            answers.withLockedValue { $0.append(answer) }
                            if status == 200 {
                                acknowledged.withLockedValue { _ = $0.insert(task) }
                                break
                            }
                            if let status, status != 503 {
                                unexpected.withLockedValue { $0.append("task \(task): HTTP \(status)") }
                                break
                            }
                            try await Task.sleep(for: .milliseconds(Int.random(in: 50...100)))
                        }
                    }
                }
            }
            group.addTask {
                // After a second of load, or sooner if a quarter of the sign-offs are already in.
                while origin.duration(to: clock.now) < .seconds(1), acknowledged.withLockedValue({ $0.count }) < tasks.count / 4 {
                    try await Task.sleep(for: .milliseconds(20))
                }
                if stall {
                    try await pair.stallReplication()
                    stallStart.withLockedValue { $0 = origin.duration(to: clock.now) }
                    try await Task.sleep(for: .milliseconds(300))
                }
                let measured = try await pair.replicationLag()
                lag.withLockedValue { $0 = measured }
                let crashing = origin.duration(to: clock.now)
                try await pair.stopPrimary()
                let crashed = origin.duration(to: clock.now)
                // While no server takes writes: reads are refused with 503 too.
                let pause = Int.random(in: 300...500)
                try await Task.sleep(for: .milliseconds(150))
                let read = await server.get("/api/v1/inbox", token: tokens[0])
                readWhileDown.withLockedValue { $0 = read }
                try await Task.sleep(for: .milliseconds(pause - 150))
                let promoting = origin.duration(to: clock.now)
                try await pair.promoteStandby()
                marks.withLockedValue { $0 = (crashing, crashed, promoting, origin.duration(to: clock.now)) }
            }
            try await group.waitForAll()
        }
        let end = origin.duration(to: clock.now)
        let serverStayedUp = server.isRunning
        let mark = try #require(marks.withLockedValue { $0 })
        let seen = answers.withLockedValue { $0 }
        let acked = acknowledged.withLockedValue { $0 }
        let firstResumed = seen.filter { $0.status == 200 && $0.sent >= mark.crashed }.min { $0.answered < $1.answered }

        // The checker, on the promoted standby alone: signatures, task states and audit entries, per task.
        let promoted = try await Store.open(.url(pair.conninfo(port: pair.standbyPort)), maxConnections: 2, environment: environment)
        let (rows, inRecovery) = try await promoted.pool.withConnection { connection in
            let rows = try await SignOffLedger.read(connection)
            let inRecovery = try await connection.query("SELECT pg_is_in_recovery() AS r").firstRow?.decode(Bool.self, "r") ?? true
            return (rows, inRecovery)
        }
        let verification = try await promoted.verifyAudit(program: "f", actor: "ada")
        try await promoted.close()

        let serverLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let signedTasks = Set(rows.filter { $0.signatures >= 1 }.map(\.id))
        let acksBefore = seen.filter { $0.status == 200 && $0.answered < mark.crashing }.count
        let resumedAt = firstResumed?.answered ?? end
        let acksAfter = seen.filter { $0.status == 200 && $0.answered >= resumedAt }.count
        let statuses = seen.compactMap(\.status).reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
        let stalledAt = stallStart.withLockedValue { $0 } ?? mark.crashing
        let acknowledgedDuringStall = seen.filter { $0.status == 200 && $0.answered >= stalledAt && $0.answered < mark.crashing }.count
        return Run(
            mode: mode,
            stalled: stall,
            acknowledgedDuringStall: acknowledgedDuringStall,
            tasks: tasks.count,
            requests: seen.count,
            acknowledged: acked.count,
            statuses: statuses,
            unanswered: seen.filter { $0.status == nil }.count,
            unexpected: unexpected.withLockedValue { $0 },
            refusedDuringSwitch: seen.filter { $0.status != 200 && $0.answered >= mark.crashing && $0.answered <= resumedAt }.count,
            readWhileDown: readWhileDown.withLockedValue { $0 },
            acceptedWhileDown: seen.filter { $0.status == 200 && $0.sent >= mark.crashed && $0.answered < mark.promoting }.count,
            lost: acked.subtracting(signedTasks).count,
            duplicated: rows.filter { $0.signatures > 1 }.count,
            // Half-done: a signature without its audit entries or without the task finished, or the reverse.
            halfDone: rows.filter { !$0.isWhole }.map {
                "task \($0.id): \($0.state), \($0.signatures) signature(s), \($0.signed)/\($0.approved) audit entries"
            },
            resumedAfter: firstResumed.map { seconds($0.answered - mark.promoting) },
            promoteTook: seconds(mark.promoted - mark.promoting),
            lag: lag.withLockedValue { $0 },
            auditProblems: verification.ok ? [] : verification.problems,
            promotedIsPrimary: !inRecovery,
            serverStayedUp: serverStayedUp,
            rateBefore: Double(acksBefore) / max(seconds(mark.crashing), 0.001),
            rateAfter: Double(acksAfter) / max(seconds(end - resumedAt), 0.001),
            unknownAtCommit: serverLog.components(separatedBy: "lost during COMMIT").count - 1,
            unknownAnswered: seen.filter { $0.status == 503 && $0.outcomeUnknown }.count,
            serverLog: String(serverLog.suffix(2000))
        )
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
