import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// Deadlines, cycles, findings and incidents, in a small workflow with known dates.
let improvementWorkflow = """
    id: pdca-test
    version: 1
    title: Deadlines and cycles test
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      lead: {title: Lead}
      boss: {title: Boss, leadership: true}
      auditor: {title: Auditor}
    cycle: {period: P3M, review: review}
    defaults:
      escalation:
        remind_before: [P7D, P1D]
        chain:
          - {after: P3D, to: step-owner}
          - {after: P7D, to: boss}
    steps:
      - key: plan
        title: Plan
        owner: lead
        tasks:
          - key: inventory
            title: Inventory
            owner: owner
            due: P10D
          - key: per-system
            title: For each system
            owner: owner
            applies_to: {risk: [high]}
            due: P10D
          - key: monitor
            title: Monitor
            owner: owner
            due: P30D
            recurrence: P1M
          - key: yearly
            title: Yearly
            owner: owner
            due: P60D
            recurrence: P1Y
          - key: audit
            title: Internal audit
            owner: auditor
            due: P80D
            recurrence: P3M
          - key: review
            title: Management review
            owner: manager
            depends_on: [audit]
            due: P90D
            recurrence: P3M
            approval: {signers: [boss]}
          - key: fix
            title: Corrective action
            trigger: finding
            owner: owner
            due: P14D
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
            escalation:
              remind_before: [P1D]
              chain:
                - {before: P1D, to: boss}
                - {after: P1D, to: boss}
    """

/// ada (admin), mia (manager), otto (owner), lou (lead, the step owner), bea (boss), aud (auditor), nemo (no role).
func seededForImprovement(_ store: Store, starts: String = "2027-01-01") async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: testPassword, actor: nil)
    for (handle, name) in [
        ("mia", "Mia Manager"), ("otto", "Otto Owner"), ("lou", "Lou Lead"), ("bea", "Bea Boss"), ("aud", "Aud Auditor"), ("nemo", "Nemo Nobody"),
    ] {
        _ = try await store.addPerson(handle: handle, name: name, email: nil, admin: false, password: testPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: improvementWorkflow, file: "pdca.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "pdca-test", version: nil, title: "PDCA", slug: "pd", startsOn: CalendarDate(starts)!, actor: "ada")
    for (role, handle) in [("manager", "mia"), ("owner", "otto"), ("lead", "lou"), ("boss", "bea"), ("auditor", "aud")] {
        _ = try await store.bindRole(program: "pd", role: role, handles: [handle], actor: "ada")
    }
}

/// Noon UTC on a day, as the scheduler's clock.
func noon(_ day: String) -> Date { CalendarDate(day)!.startOfDay.addingTimeInterval(12 * 3600) }

func fired(_ pass: DeadlinePass, _ task: String) -> [String] {
    pass.fired.filter { $0.task == task }.map { "\($0.kind.rawValue)\($0.level)->\($0.recipients.joined(separator: "+"))" }
}

@Suite("Deadlines, escalations, cycles, findings and incidents")
struct DeadlineTests {
    @Test("reminders before the due date, the overdue notice, then escalation up the chain, each on its day and once")
    func reminderAndEscalationTiming() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            // inventory is due 2027-01-11: reminders on 01-04 and 01-10, overdue 01-12, step owner 01-14, boss 01-18.
            let expected: [(String, [String])] = [
                ("2027-01-03", []),
                ("2027-01-04", ["reminder1->otto"]),
                ("2027-01-05", []),
                ("2027-01-10", ["reminder2->otto"]),
                ("2027-01-11", []),
                ("2027-01-12", ["overdue0->otto"]),
                ("2027-01-13", []),
                ("2027-01-14", ["escalation1->lou"]),
                ("2027-01-17", []),
                ("2027-01-18", ["escalation2->bea"]),
                ("2027-01-30", []),
            ]
            for (day, marks) in expected {
                let pass = try await store.runDeadlines(now: noon(day))
                #expect(fired(pass, "pd/inventory") == marks, "on \(day)")
                let again = try await store.runDeadlines(now: noon(day))
                #expect(fired(again, "pd/inventory").isEmpty, "a second pass on \(day) fires nothing")
            }
            // The escalations show where the issue says: the recipients' inbox, the task page, the leadership report.
            let lou = try await store.inbox(actor: "lou")
            #expect(lou.notices.map(\.kind) == ["escalation"])
            #expect(lou.notices[0].message.contains("pd/inventory"))
            #expect(lou.notices[0].message.contains("3 days late"))
            let bea = try await store.inbox(actor: "bea")
            #expect(bea.notices.contains { $0.kind == "escalation" && $0.message.contains("Escalation level 2 to boss") })
            let detail = try await store.task("pd/inventory", actor: "mia")
            #expect(
                detail.deadlines.map { "\($0.kind.rawValue)\($0.level)" } == ["reminder1", "reminder2", "overdue0", "escalation1", "escalation2"]
            )
            #expect(detail.history.contains { $0.action == "task.escalate" && $0.actor == "scheduler" })
            let report = try await store.leadership(actor: "ada")
            #expect(report.leaders.first { $0.handle == "bea" }?.escalationsReceived ?? 0 >= 1)
            #expect(report.openEscalations.contains { $0.task == "pd/inventory" && $0.level == 2 && $0.recipients == ["bea"] })
            // Notices about a finished task leave the inbox.
            _ = try await store.submitTask("pd/inventory", actor: "otto")
            #expect(try await store.inbox(actor: "lou").notices.isEmpty)
            try await expectAuditVerifies(store)
        }
    }

    @Test("a first pass after a long pause fires the overdue notice and every level reached, but no stale reminder")
    func latePass() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            let pass = try await store.runDeadlines(now: noon("2027-01-20"))
            #expect(fired(pass, "pd/inventory") == ["overdue0->otto", "escalation1->lou", "escalation2->bea"])
        }
    }

    @Test("a task finished or re-dated before its escalation is not escalated; a new due date fires anew")
    func finishedOrRedated() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            _ = try await store.addSystems(program: "pd", [NewAISystem(name: "Scorer", operatorRole: .provider, riskClass: .high)], actor: "mia")
            _ = try await store.submitTask("pd/inventory", actor: "otto")
            try await db.pool.withConnection {
                try await $0.execute("UPDATE accord.task SET due_on = '2027-02-15' WHERE template_key = 'per-system'")
            }
            let pass = try await store.runDeadlines(now: noon("2027-01-20"))
            #expect(fired(pass, "pd/inventory").isEmpty)
            #expect(fired(pass, "pd/per-system@scorer").isEmpty)
            let later = try await store.runDeadlines(now: noon("2027-02-17"))
            #expect(fired(later, "pd/per-system@scorer") == ["overdue0->otto"])
        }
    }

    @Test("three schedulers on one database escalate each (task, level) exactly once")
    func concurrentSchedulers() async throws {
        try await TestDatabase.with(maxConnections: 4) { db in
            try await seededForImprovement(db.store)
            let systems = (1...30).map { NewAISystem(name: "System \($0)", operatorRole: .provider, riskClass: .high) }
            _ = try await db.store.addSystems(program: "pd", systems, actor: "mia")
            let pools = (0..<3).map { _ in PostgresPool(configuration: .init(conninfo: db.conninfo, maxConnections: 3)) }
            let stores = pools.map {
                Store(pool: $0, location: .url(db.conninfo), auditKey: testAuditKey, maxEvidenceBytes: 1 << 20, passwordCost: 4)
            }
            async let a = stores[0].runDeadlines(now: noon("2027-01-20"))
            async let b = stores[1].runDeadlines(now: noon("2027-01-20"))
            async let c = stores[2].runDeadlines(now: noon("2027-01-20"))
            let passes = try await [a, b, c]
            for pool in pools { try await pool.close() }
            let all = passes.flatMap(\.fired)
            // 31 tasks due 2027-01-11 (inventory and 30 per-system), each: overdue, step owner, boss.
            #expect(all.count == 31 * 3)
            #expect(Set(all.map { "\($0.task)|\($0.kind)|\($0.level)" }).count == all.count, "no mark fired twice")
            let counts = try await db.pool.withConnection { connection in
                let row = try await connection.query(
                    """
                    SELECT (SELECT count(*) FROM accord.deadline_event) AS events,
                           (SELECT count(*) FROM accord.notification) AS notices,
                           (SELECT count(*) FROM accord.outbox WHERE topic LIKE 'task.%') AS outbox,
                           (SELECT count(*) FROM accord.audit_entry WHERE actor = 'scheduler') AS audit
                    """
                )[0]
                return try (
                    row.decode(Int.self, "events"), row.decode(Int.self, "notices"), row.decode(Int.self, "outbox"), row.decode(Int.self, "audit")
                )
            }
            #expect(counts.0 == 93)
            #expect(counts.1 == 93)  // one recipient each
            #expect(counts.2 == 93)
            #expect(counts.3 == 93)
            try await expectAuditVerifies(db.store)
        }
    }

    @Test("a cycle instantiates its recurring tasks inside its period, cannot close until the review is signed, and snapshots its KPIs")
    func cycleOpenAndClose() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            await expectRefusal(.forbidden, containing: "open cycles") {
                _ = try await store.openCycle(program: "pd", period: nil, startsOn: CalendarDate("2027-01-01"), actor: "otto")
            }
            let opened = try await store.openCycle(
                program: "pd",
                period: nil,
                startsOn: CalendarDate("2027-01-01"),
                actor: "mia",
                now: noon("2027-01-01")
            )
            #expect(opened.cycle.number == 1)
            #expect(opened.cycle.endsOn == "2027-03-31")
            // monitor (P1M) three times; audit and review (P3M) once; yearly (P1Y) is not due until 2028.
            #expect(
                opened.tasks.map { "\($0.ref) \($0.dueOn ?? "-")" } == [
                    "pd/monitor+c1.1 2027-01-31", "pd/monitor+c1.2 2027-02-28", "pd/monitor+c1.3 2027-03-31", "pd/audit+c1 2027-03-31",
                    "pd/review+c1 2027-03-31",
                ]
            )
            #expect(opened.tasks.first { $0.key == "review" }?.state == .blocked)  // waits for the cycle's audit
            await expectRefusal(.conflict, containing: "cycle 1 of 'pd' is open") {
                _ = try await store.openCycle(program: "pd", period: nil, startsOn: nil, actor: "mia")
            }
            await expectRefusal(.conflict, containing: "not signed by top management") { _ = try await store.closeCycle(program: "pd", actor: "mia") }

            // A known history: inventory done late, the base monitor on time, a finding opened and closed in ten days.
            _ = try await store.submitTask("pd/inventory", actor: "otto")
            _ = try await store.submitTask("pd/monitor", actor: "otto")
            _ = try await store.submitTask("pd/audit+c1", actor: "aud")
            _ = try await store.submitTask("pd/review+c1", actor: "mia")
            await expectRefusal(.conflict, containing: "in_review, not signed") { _ = try await store.closeCycle(program: "pd", actor: "mia") }
            _ = try await store.approve("pd/review+c1", as: "bea")
            _ = try await store.addFinding(program: "pd", source: .audit, severity: .minor, title: "Monitoring gaps", system: nil, actor: "aud")
            // Open findings are an input of the management review, and show on it.
            #expect(try await store.task("pd/review+c1", actor: "bea").openFindings.map(\.title) == ["Monitoring gaps"])
            #expect(try await store.task("pd/monitor", actor: "bea").openFindings.isEmpty)
            try await db.pool.withConnection { connection in
                try await connection.executeScript(
                    """
                    UPDATE accord.task SET completed_at = '2027-01-15 10:00+00' WHERE template_key = 'inventory';
                    UPDATE accord.task SET completed_at = '2027-01-30 10:00+00' WHERE template_key = 'monitor' AND instance = '';
                    UPDATE accord.task SET completed_at = '2027-03-20 10:00+00' WHERE template_key = 'audit' AND instance = 'c1';
                    UPDATE accord.task SET submitted_at = '2027-03-25 10:00+00', completed_at = '2027-03-25 16:00+00' WHERE template_key = 'review' AND instance = 'c1';
                    UPDATE accord.finding SET opened_at = '2027-02-01 09:00+00', root_cause = 'no owner for drift alerts', closed_at = '2027-02-11 09:00+00';
                    """
                )
            }
            let closed = try await store.closeCycle(program: "pd", actor: "mia", now: noon("2027-04-01"))
            #expect(!closed.isOpen)
            // Due in the window: inventory 01-11 (done late), monitor 01-31 (on time), yearly 03-02 and the
            // roadmap's audit 03-22 (overdue), monitor+c1.1..3 (overdue), audit+c1 and review+c1 (on time).
            #expect(closed.kpis.tasksDue == 9)
            #expect(closed.kpis.doneOnTime == 3)
            #expect(closed.kpis.doneLate == 1)
            #expect(closed.kpis.overdue == 5)
            #expect(closed.kpis.onTimePercent == 33)
            #expect(closed.kpis.signOffLatencyHours == 6.0)
            #expect(closed.kpis.findingsOpened == 1)
            #expect(closed.kpis.findingsClosed == 1)
            #expect(closed.kpis.meanDaysToCloseCorrectiveAction == 10.0)
            // The snapshot does not move afterwards.
            _ = try await store.submitTask("pd/monitor+c1.1", actor: "otto")
            #expect(try await store.cycles(program: "pd", actor: "mia").first?.kpis == closed.kpis)

            // The scheduler opens cycle 2 the day after cycle 1's period ends, once.
            let before = try await store.runDeadlines(now: noon("2027-03-31"))
            #expect(before.cyclesOpened.isEmpty)
            let after = try await store.runDeadlines(now: noon("2027-04-01"))
            #expect(after.cyclesOpened == ["pd#2"])
            #expect(try await store.runDeadlines(now: noon("2027-04-02")).cyclesOpened.isEmpty)
            let second = try await store.cycle(program: "pd", number: 2, actor: "mia")
            #expect(second.cycle.startsOn == "2027-04-01")
            #expect(second.cycle.openedBy == "scheduler")
            #expect(second.review.map(\.ref) == ["pd/review+c2"])
            try await expectAuditVerifies(store)
        }
    }

    @Test("a finding gets its corrective action and closes only when the root cause is recorded and the check is signed")
    func findingLifecycle() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            await expectRefusal(.notFound, containing: "no program 'pd'") {
                _ = try await store.addFinding(program: "pd", source: .audit, severity: .major, title: "x", system: nil, actor: "nemo")
            }
            var finding = try await store.addFinding(
                program: "pd",
                source: .monitoring,
                severity: .major,
                title: "Drift unnoticed",
                system: nil,
                actor: "aud"
            )
            #expect(finding.number == 1)
            #expect(finding.tasks.map(\.ref) == ["pd/fix+f1", "pd/check+f1"])
            #expect(finding.tasks.map(\.state) == [.open, .blocked])
            #expect(finding.tasks[0].dueOn == ISODuration("P14D")!.after(.today()).description)
            _ = try await store.submitTask("pd/fix+f1", actor: "otto")
            _ = try await store.submitTask("pd/check+f1", actor: "aud")
            await expectRefusal(.forbidden, containing: "root cause") {
                _ = try await store.recordRootCause(program: "pd", finding: 1, rootCause: "nobody watched", actor: "lou")
            }
            _ = try await store.approve("pd/check+f1", as: "mia")
            finding = try await store.finding(program: "pd", number: 1, actor: "mia")
            #expect(finding.isOpen, "no root cause yet")
            finding = try await store.recordRootCause(program: "pd", finding: 1, rootCause: "Drift alerts had no owner", actor: "mia")
            #expect(!finding.isOpen)
            #expect(try await store.findings(program: "pd", openOnly: true, actor: "mia").isEmpty)
            await expectRefusal(.conflict, containing: "is closed") {
                _ = try await store.recordRootCause(program: "pd", finding: 1, rootCause: "again", actor: "mia")
            }

            // Root cause first: the signature closes it. A not-applicable check does not.
            _ = try await store.addFinding(program: "pd", source: .review, severity: .minor, title: "Second", system: nil, actor: "mia")
            _ = try await store.recordRootCause(program: "pd", finding: 2, rootCause: "cause", actor: "mia")
            _ = try await store.submitTask("pd/fix+f2", actor: "otto")
            _ = try await store.markNotApplicable("pd/check+f2", reason: "skip it", actor: "mia")
            #expect(try await store.finding(program: "pd", number: 2, actor: "mia").isOpen)
            try await expectAuditVerifies(store)
        }
    }

    @Test("each kind of serious incident gets its Art. 73 clock, report task, early escalation and root-cause finding")
    func incidentClocks() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForImprovement(store)
            _ = try await store.addSystems(program: "pd", [NewAISystem(name: "Scorer", operatorRole: .provider, riskClass: .high)], actor: "mia")
            let aware = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 - 3600)
            for (number, (kind, days)) in [(IncidentKind.death, 10), (.criticalInfrastructure, 2), (.widespread, 2), (.other, 15)].enumerated() {
                let incident = try await store.reportIncident(
                    program: "pd",
                    system: "scorer",
                    kind: kind,
                    awareAt: aware,
                    summary: "Case \(kind.rawValue)",
                    actor: "otto"
                )
                #expect(incident.number == number + 1)
                #expect(incident.reportDueAt == aware.addingTimeInterval(Double(days) * 86_400), "\(kind)")
                #expect(incident.tasks.map(\.ref) == ["pd/notify@scorer+i\(number + 1)"])
                #expect(incident.tasks[0].dueOn == CalendarDate(incident.reportDueAt).description)
                #expect(incident.finding != nil)
                #expect(!incident.notified)
            }
            let findings = try await store.findings(program: "pd", actor: "mia")
            #expect(findings.count == 4)
            #expect(findings.allSatisfy { $0.source == .incident && $0.severity == .major && $0.system == "scorer" })
            // The day before the 2-day clock runs out: a reminder to the owner and an escalation to the boss.
            let critical = try await store.incident(program: "pd", number: 2, actor: "bea")
            let dayBefore = CalendarDate(critical.reportDueAt).adding(days: -1)
            let pass = try await store.runDeadlines(now: noon(dayBefore.description))
            #expect(fired(pass, "pd/notify@scorer+i2") == ["reminder1->otto", "escalation1->bea"])  // same day: the reminder first
            await expectRefusal(.invalid, containing: "in the future") {
                _ = try await store.reportIncident(
                    program: "pd",
                    system: "scorer",
                    kind: .other,
                    awareAt: Date().addingTimeInterval(3600),
                    summary: "x",
                    actor: "otto"
                )
            }
            await expectRefusal(.notFound, containing: "no AI system 'nope'") {
                _ = try await store.reportIncident(program: "pd", system: "nope", kind: .other, awareAt: aware, summary: "x", actor: "otto")
            }
            try await expectAuditVerifies(store)
        }
    }
}

func expectAuditVerifies(_ store: Store, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let report = try await store.verifyAudit(program: "pd", actor: "ada")
    #expect(report.problems.isEmpty, "\(report.problems)", sourceLocation: sourceLocation)
}
