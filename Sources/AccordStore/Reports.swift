public import AccordCore
public import Foundation
import Postgres

/// A table of a report: what the CLI prints, CSV exports and the report page renders.
public struct ReportTable: Codable, Sendable, Equatable {
    public var title: String
    public var header: [String]
    public var rows: [[String]]

    /// The table as CSV: a header row, fields quoted where they need it, CRLF line ends (RFC 4180).
    public var csv: String { ([header] + rows).map { CSV.line($0) + "\r\n" }.joined() }
}

/// The reports an auditor and leadership read, each over one program.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    case status, accountability, soa, crosswalk, overdue, cycles

    public var title: String {
        switch self {
        case .status: "Status"
        case .accountability: "Accountability"
        case .soa: "Statement of applicability (ISO/IEC 42001 Annex A)"
        case .crosswalk: "Crosswalk: ISO/IEC 42001 and the AI Act"
        case .overdue: "Overdue work"
        case .cycles: "Improvement cycles"
        }
    }
}

/// One report: its data as JSON, its tables for people and CSV (the first table is the CSV).
public struct Report: Codable, Sendable, Equatable {
    public var kind: ReportKind
    public var program: String
    public var programTitle: String
    public var generatedAt: Date
    /// A line or two saying what the figures mean.
    public var summary: [String]
    public var tables: [ReportTable]
}

// MARK: - The reports' data

/// Per step and task: state, owner, due date, lateness, signatures.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var step: String
        public var ref: String
        public var title: String
        public var state: TaskState
        public var ownerRole: String
        public var assignee: String?
        public var dueOn: String?
        public var overdueDays: Int?
        /// The current review's signatures: "grace approved", …
        public var signatures: [String]
    }
    public var rows: [Row]
}

/// Who is accountable for what: leadership and owners, and each step's RACI from the workflow.
public struct AccountabilityReport: Codable, Sendable, Equatable {
    public struct Person: Codable, Sendable, Equatable {
        public var handle: String
        public var name: String
        /// `leader` (holds a leadership role) or `owner` (assigned work).
        public var kind: String
        public var roles: [String]
        /// Leaders: sign-offs they can give now. Owners: their outstanding tasks.
        public var pending: Int
        public var overdue: Int
        /// Leaders: signatures given. Owners: tasks done.
        public var done: Int
        public var medianHoursToSign: Double?
        public var p90HoursToSign: Double?
        public var escalationsReceived: Int
    }
    public struct RACI: Codable, Sendable, Equatable {
        public var step: String
        public var title: String
        /// The owner roles of the step's tasks.
        public var responsible: [String]
        /// Leadership roles that sign the step's tasks off (the step's owner role when none do).
        public var accountable: [String]
        /// Other signer roles: reviewers.
        public var consulted: [String]
        /// Roles that receive the step's escalations.
        public var informed: [String]
    }
    public var people: [Person]
    public var raci: [RACI]
}

/// The statement of applicability: every Annex A control.
public struct SoAReport: Codable, Sendable, Equatable {
    public struct Control: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        /// `applicable`, `not applicable` (every implementing task was marked so), `not addressed` (no task refers to it).
        public var applicability: String
        /// The reasons recorded when tasks were marked not applicable.
        public var justification: String?
        /// `implemented` (every applicable task done), `in progress`, `not started`, or `-`.
        public var status: String
        public var tasks: [String]
        public var tasksDone: Int
        public var tasksApplicable: Int
        /// Evidence versions on the implementing tasks.
        public var evidence: Int
    }
    public var controls: [Control]
}

/// Coverage of every ref the workflow uses; the law's obligations the standard leaves out, apart.
public struct CrosswalkReport: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var id: String
        public var kind: String
        public var title: String
        public var tasks: Int
        public var done: Int
        public var percentDone: Int
        /// For the law's obligations outside ISO/IEC 42001: what the standard does not cover.
        public var gap: String?
    }
    /// ISO/IEC 42001 clauses and controls, then AI Act articles and annexes covered through the AIMS.
    public var covered: [Line]
    /// AI Act obligations ISO/IEC 42001 does not cover (legal-only).
    public var legalOnly: [Line]
}

/// What is late, whose it is, since when, and who it was escalated to.
public struct OverdueReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var ref: String
        public var title: String
        public var state: TaskState
        public var owner: String
        public var dueOn: String
        public var daysLate: Int
        /// The highest escalation level fired for the current due date: "level 2 to top-management (grace, kat) on 2027-01-18".
        public var escalatedTo: String?
    }
    public var rows: [Row]
}

enum ReportSQL {
    static let tasks = PostgresQuery<Int64, TaskSummary>(
        "report_tasks",
        "\(TaskSQL.columns)\nWHERE t.program_id = $1 AND t.state <> 'retired' ORDER BY t.position, s.slug NULLS FIRST, t.instance",
        row: TaskSummary.init(row:)
    )
    static let currentSignatures = PostgresQuery<Int64, (taskID: Int64, handle: String, decision: SigningDecision)>(
        "report_current_signatures",
        """
        SELECT s.task_id, p.handle, s.decision FROM accord.signature s JOIN accord.task t ON t.id = s.task_id JOIN accord.person p ON p.id = s.signer_id
        WHERE t.program_id = $1 AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version ORDER BY s.id
        """
    ) {
        (
            taskID: try $0.decode(Int64.self, "task_id"), handle: try $0.decode(String.self, "handle"),
            decision: try $0.decode(SigningDecision.self, "decision")
        )
    }
    static let taskFacts = PostgresQuery<Int64, (key: String, ref: String, state: TaskState, reason: String?, evidence: Int)>(
        "report_task_facts",
        """
        SELECT t.id, t.template_key, t.state, t.na_reason, t.evidence_version,
               accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE t.program_id = $1 AND t.state <> 'retired' ORDER BY t.position, s.slug NULLS FIRST, t.instance
        """
    ) {
        (
            key: try $0.decode(String.self, "template_key"), ref: try $0.decode(String.self, "ref"), state: try $0.decode(TaskState.self, "state"),
            reason: try $0.decode(String?.self, "na_reason"), evidence: try $0.decode(Int.self, "evidence_version")
        )
    }
    static let signingTimes = PostgresQuery<Int64, (signerID: Int64, signed: Int, medianHours: Double?, p90Hours: Double?)>(
        "report_signing_times",
        "\(LeadershipSQL.signingTimesFrom)\nWHERE t.program_id = $1\n\(LeadershipSQL.signingTimesGroup)"
    ) {
        (
            signerID: try $0.decode(Int64.self, "signer_id"), signed: try $0.decode(Int.self, "signed"),
            medianHours: try $0.decode(Double?.self, "median_hours"), p90Hours: try $0.decode(Double?.self, "p90_hours")
        )
    }
    static let members = PostgresQuery<Int64, (id: Int64, handle: String, name: String, role: String)>(
        "report_members",
        """
        SELECT pe.id, pe.handle, pe.name, b.role FROM accord.role_binding b JOIN accord.person pe ON pe.id = b.person_id
        WHERE b.program_id = $1 ORDER BY pe.handle, b.role
        """
    ) {
        (
            id: try $0.decode(Int64.self, "id"), handle: try $0.decode(String.self, "handle"), name: try $0.decode(String.self, "name"),
            role: try $0.decode(String.self, "role")
        )
    }
    /// Per assignee in a program ($1): outstanding tasks, those past due on $2, and tasks done.
    static let ownerLoad = PostgresQuery<Int64, String, (handle: String, pending: Int, overdue: Int, done: Int)>(
        "report_owner_load",
        """
        SELECT a.handle,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("t.state"))) AS pending,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < $2::date) AS overdue,
               count(*) FILTER (WHERE t.state = 'done') AS done
        FROM accord.task t JOIN accord.person a ON a.id = t.assignee_id WHERE t.program_id = $1 GROUP BY a.handle
        """
    ) {
        (
            handle: try $0.decode(String.self, "handle"), pending: try $0.decode(Int.self, "pending"), overdue: try $0.decode(Int.self, "overdue"),
            done: try $0.decode(Int.self, "done")
        )
    }
    static let escalationsReceived = PostgresQuery<Int64, (handle: String, count: Int)>(
        "report_escalations_received",
        "\(LeadershipSQL.escalationsFrom) AND t.program_id = $1 GROUP BY r.handle"
    ) { (handle: try $0.decode(String.self, "handle"), count: try $0.decode(Int.self, "n")) }
    /// A program's ($1) outstanding tasks past due on $2, with the highest escalation fired for the due date.
    static let overdue = PostgresQuery<Int64, String, OverdueReport.Row>(
        "report_overdue",
        """
        SELECT accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref, t.title, t.state, coalesce(a.handle, 'unassigned (' || t.owner_role || ')') AS owner,
               to_char(t.due_on, 'YYYY-MM-DD') AS due_on, $2::date - t.due_on AS days_late,
               (SELECT 'level ' || e.level || ' to ' || coalesce(e.to_role, '?') || ' (' || array_to_string(e.recipients, ', ') || ') on ' || to_char(e.fired_on, 'YYYY-MM-DD')
                FROM accord.deadline_event e WHERE e.task_id = t.id AND e.kind = 'escalation' AND e.due_on = t.due_on ORDER BY e.level DESC LIMIT 1) AS escalated_to
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.program_id = $1 AND \(TaskState.outstandingSQL("t.state")) AND t.due_on < $2::date
        ORDER BY t.due_on, t.position, s.slug NULLS FIRST
        """
    ) {
        OverdueReport.Row(
            ref: try $0.decode(String.self, "ref"),
            title: try $0.decode(String.self, "title"),
            state: try $0.decode(TaskState.self, "state"),
            owner: try $0.decode(String.self, "owner"),
            dueOn: try $0.decode(String.self, "due_on"),
            daysLate: try $0.decode(Int.self, "days_late"),
            escalatedTo: try $0.decode(String?.self, "escalated_to")
        )
    }

    static let catalogue: [any PostgresCheckable] = [
        tasks, currentSignatures, taskFacts, signingTimes, members, ownerLoad, escalationsReceived, overdue,
    ]
}

extension Store {
    /// One report over a program the actor may see, as of `now`.
    public func report(_ kind: ReportKind, program slug: String, actor: String?, now: Date = Date()) async throws -> Report {
        let today = CalendarDate.today(now: now)
        switch kind {
        case .status:
            let data = try await statusReport(program: slug, actor: actor)
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: [
                    "\(data.rows.count) tasks: \(data.rows.filter { $0.state == .done }.count) done, \(data.rows.filter { $0.state == .notApplicable }.count) not applicable, \(data.rows.filter { $0.overdueDays != nil }.count) overdue."
                ],
                tables: [
                    ReportTable(
                        title: "Tasks by step",
                        header: ["step", "task", "title", "state", "owner role", "assignee", "due", "days late", "signatures"],
                        rows: data.rows.map {
                            [
                                $0.step, $0.ref, $0.title, $0.state.rawValue, $0.ownerRole, $0.assignee ?? "", $0.dueOn ?? "",
                                $0.overdueDays.map(String.init) ?? "", $0.signatures.joined(separator: "; "),
                            ]
                        }
                    )
                ]
            )
        case .accountability:
            let data = try await accountabilityReport(program: slug, actor: actor, today: today)
            func hours(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: [
                    "Leaders: sign-offs they can give now (pending), of those past due, signatures given, and hours from submission to their signature. Owners: their outstanding, overdue and done tasks.",
                    "RACI from the workflow: responsible = the tasks' owner roles; accountable = leadership roles that sign off; consulted = other signers; informed = escalation targets.",
                ],
                tables: [
                    ReportTable(
                        title: "People",
                        header: [
                            "person", "name", "kind", "roles", "pending", "overdue", "done", "median h to sign", "p90 h to sign",
                            "escalations received",
                        ],
                        rows: data.people.map {
                            [
                                $0.handle, $0.name, $0.kind, $0.roles.joined(separator: " "), String($0.pending), String($0.overdue), String($0.done),
                                hours($0.medianHoursToSign), hours($0.p90HoursToSign), String($0.escalationsReceived),
                            ]
                        }
                    ),
                    ReportTable(
                        title: "RACI per step",
                        header: ["step", "title", "responsible", "accountable", "consulted", "informed"],
                        rows: data.raci.map {
                            [
                                $0.step, $0.title, $0.responsible.joined(separator: " "), $0.accountable.joined(separator: " "),
                                $0.consulted.joined(separator: " "), $0.informed.joined(separator: " "),
                            ]
                        }
                    ),
                ]
            )
        case .soa:
            let data = try await soaReport(program: slug, actor: actor)
            let count = { (applicability: String) in data.controls.filter { $0.applicability == applicability }.count }
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: [
                    "\(data.controls.count) Annex A controls: \(count("applicable")) applicable (\(data.controls.filter { $0.status == "implemented" }.count) implemented), \(count("not applicable")) not applicable, \(count("not addressed")) not addressed by the roadmap."
                ],
                tables: [
                    ReportTable(
                        title: "Annex A controls",
                        header: ["control", "title", "applicability", "justification", "status", "tasks done", "tasks", "evidence"],
                        rows: data.controls.map {
                            [
                                $0.id, $0.title, $0.applicability, $0.justification ?? "", $0.status, "\($0.tasksDone)/\($0.tasksApplicable)",
                                $0.tasks.joined(separator: " "), String($0.evidence),
                            ]
                        }
                    )
                ]
            )
        case .crosswalk:
            let data = try await crosswalkReport(program: slug, actor: actor)
            let lines = { (lines: [CrosswalkReport.Line]) in
                lines.map { [$0.id, $0.kind, $0.title, String($0.tasks), String($0.done), "\($0.percentDone)%", $0.gap ?? ""] }
            }
            let header = ["ref", "kind", "title", "tasks", "done", "% done", "gap in ISO/IEC 42001"]
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: [
                    "\(data.covered.count) clauses, controls and articles delivered through the AI management system; \(data.legalOnly.count) AI Act obligations ISO/IEC 42001 does not cover, listed apart."
                ],
                tables: [
                    ReportTable(title: "Through the AI management system", header: header, rows: lines(data.covered)),
                    ReportTable(
                        title: "Legal-only obligations: the gap between the standard and the law",
                        header: header,
                        rows: lines(data.legalOnly)
                    ),
                ]
            )
        case .overdue:
            let data = try await overdueReport(program: slug, actor: actor, today: today)
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: ["\(data.rows.count) outstanding tasks past their due date on \(today)."],
                tables: [
                    ReportTable(
                        title: "Overdue",
                        header: ["task", "title", "state", "owner", "due", "days late", "escalated to"],
                        rows: data.rows.map { [$0.ref, $0.title, $0.state.rawValue, $0.owner, $0.dueOn, String($0.daysLate), $0.escalatedTo ?? ""] }
                    )
                ]
            )
        case .cycles:
            let cycles = try await self.cycles(program: slug, actor: actor, now: now)
            func num(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
            return try await wrap(
                kind,
                slug,
                actor,
                now,
                summary: ["One row per cycle; closed cycles show the figures snapshotted when they closed."],
                tables: [
                    ReportTable(
                        title: "Cycles",
                        header: [
                            "cycle", "from", "to", "state", "tasks due", "done on time", "done late", "overdue", "on time %",
                            "sign-off latency h", "findings opened", "findings closed", "mean days to close", "escalations",
                        ],
                        rows: cycles.map { c in
                            [
                                String(c.number), c.startsOn, c.endsOn, c.isOpen ? "open" : "closed", String(c.kpis.tasksDue),
                                String(c.kpis.doneOnTime), String(c.kpis.doneLate), String(c.kpis.overdue), String(c.kpis.onTimePercent),
                                num(c.kpis.signOffLatencyHours), String(c.kpis.findingsOpened), String(c.kpis.findingsClosed),
                                num(c.kpis.meanDaysToCloseCorrectiveAction), String(c.kpis.escalations),
                            ]
                        }
                    )
                ]
            )
        }
    }

    private func wrap(
        _ kind: ReportKind,
        _ slug: String,
        _ actor: String?,
        _ now: Date,
        summary: [String],
        tables: [ReportTable]
    ) async throws -> Report {
        let title = try await reading(program: slug, actor: actor) { _, _, program in program.title }
        return Report(kind: kind, program: slug, programTitle: title, generatedAt: now, summary: summary, tables: tables)
    }

    public func statusReport(program slug: String, actor: String?) async throws -> StatusReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            var signatures: [Int64: [String]] = [:]
            for signature in try await connection.query(ReportSQL.currentSignatures, program.id) {
                let decision = signature.decision == .approve ? "approved" : "rejected"
                signatures[signature.taskID, default: []].append("\(signature.handle) \(decision)")
            }
            return StatusReport(
                rows: try await connection.query(ReportSQL.tasks, program.id).map { t in
                    .init(
                        step: t.step,
                        ref: t.ref,
                        title: t.title,
                        state: t.state,
                        ownerRole: t.ownerRole,
                        assignee: t.assignee,
                        dueOn: t.dueOn,
                        overdueDays: t.overdueDays,
                        signatures: signatures[t.id] ?? []
                    )
                }
            )
        }
    }

    public func accountabilityReport(program slug: String, actor: String?, today: CalendarDate = .today()) async throws -> AccountabilityReport {
        let (people, raci, leaders) = try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            var members: [String: (id: Int64, name: String, roles: [String])] = [:]
            for member in try await connection.query(ReportSQL.members, program.id) {
                var entry = members[member.handle] ?? (id: member.id, name: member.name, roles: [String]())
                entry.roles.append(member.role)
                members[member.handle] = entry
            }
            var times: [Int64: (Int, Double?, Double?)] = [:]
            for time in try await connection.query(ReportSQL.signingTimes, program.id) {
                times[time.signerID] = (time.signed, time.medianHours, time.p90Hours)
            }
            var load: [String: (Int, Int, Int)] = [:]
            for owner in try await connection.query(ReportSQL.ownerLoad, program.id, today.description) {
                load[owner.handle] = (owner.pending, owner.overdue, owner.done)
            }
            var escalations: [String: Int] = [:]
            for received in try await connection.query(ReportSQL.escalationsReceived, program.id) {
                escalations[received.handle] = received.count
            }
            func rounded(_ value: Double?) -> Double? { value.map { ($0 * 10).rounded() / 10 } }
            var people: [AccountabilityReport.Person] = []
            var leaders: [String] = []
            for (handle, member) in members.sorted(by: { $0.key < $1.key }) {
                let isLeader = member.roles.contains { workflow.role($0)?.leadership == true }
                if isLeader {
                    leaders.append(handle)
                    let time = times[member.id]
                    people.append(
                        .init(
                            handle: handle,
                            name: member.name,
                            kind: "leader",
                            roles: member.roles,
                            pending: 0,
                            overdue: 0,
                            done: time?.0 ?? 0,
                            medianHoursToSign: rounded(time?.1),
                            p90HoursToSign: rounded(time?.2),
                            escalationsReceived: escalations[handle] ?? 0
                        )
                    )
                }
                if let (pending, overdue, done) = load[handle] {
                    people.append(
                        .init(
                            handle: handle,
                            name: member.name,
                            kind: "owner",
                            roles: member.roles,
                            pending: pending,
                            overdue: overdue,
                            done: done,
                            medianHoursToSign: nil,
                            p90HoursToSign: nil,
                            escalationsReceived: escalations[handle] ?? 0
                        )
                    )
                }
            }
            let raci = workflow.steps.map { step -> AccountabilityReport.RACI in
                let tasks = step.tasks.filter { $0.trigger == nil }
                let signers = tasks.flatMap { $0.approval?.signers.map(\.role) ?? [] }
                let accountable = unique(signers.filter { workflow.role($0)?.leadership == true })
                let informed = unique(
                    tasks.flatMap { $0.escalation?.chain.map { $0.to == "step-owner" ? (step.owner ?? "") : $0.to } ?? [] }.filter { !$0.isEmpty }
                )
                return .init(
                    step: step.key,
                    title: step.title,
                    responsible: unique(tasks.map(\.owner)),
                    accountable: accountable.isEmpty ? step.owner.map { [$0] } ?? [] : accountable,
                    consulted: unique(signers.filter { workflow.role($0)?.leadership != true }),
                    informed: informed
                )
            }
            return (people, raci, leaders)
        }
        // Pending sign-offs: what each leader can sign now in this program (the inbox's own evaluation).
        var result = people
        for handle in leaders {
            let waiting = try await signOffsWaiting(actor: handle, program: slug)
            if let index = result.firstIndex(where: { $0.handle == handle && $0.kind == "leader" }) {
                result[index].pending = waiting.count
                result[index].overdue = waiting.filter { $0.overdueDays != nil }.count
            }
        }
        return AccountabilityReport(people: result, raci: raci)
    }

    public func soaReport(program slug: String, actor: String?) async throws -> SoAReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let facts = try await connection.query(ReportSQL.taskFacts, program.id)
            let catalogue = ReferenceCatalogue.builtIn
            return SoAReport(
                controls: catalogue.annexAControls.map { control in
                    let keys = Set(workflow.tasks.filter { $0.task.refs.contains(control.id) }.map(\.task.key))
                    let tasks = facts.filter { keys.contains($0.key) }
                    let applicable = tasks.filter { $0.state != .notApplicable }
                    let done = applicable.filter { $0.state == .done }.count
                    let applicability = tasks.isEmpty ? "not addressed" : applicable.isEmpty ? "not applicable" : "applicable"
                    let reasons = unique(tasks.compactMap(\.reason))
                    let status =
                        applicable.isEmpty
                        ? "-"
                        : done == applicable.count
                            ? "implemented"
                            : applicable.contains { $0.state != .blocked && $0.state != .open } || done > 0 ? "in progress" : "not started"
                    return .init(
                        id: control.id,
                        title: control.title,
                        applicability: applicability,
                        justification: reasons.isEmpty ? nil : reasons.joined(separator: "; "),
                        status: status,
                        tasks: tasks.map(\.ref),
                        tasksDone: done,
                        tasksApplicable: applicable.count,
                        evidence: tasks.reduce(0) { $0 + $1.evidence }
                    )
                }
            )
        }
    }

    public func crosswalkReport(program slug: String, actor: String?) async throws -> CrosswalkReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let facts = try await connection.query(ReportSQL.taskFacts, program.id)
            let catalogue = ReferenceCatalogue.builtIn
            let used = Set(workflow.tasks.flatMap(\.task.refs))
            var covered: [CrosswalkReport.Line] = []
            var legal: [CrosswalkReport.Line] = []
            for reference in catalogue.references where used.contains(reference.id) {
                let keys = Set(workflow.tasks.filter { $0.task.refs.contains(reference.id) }.map(\.task.key))
                let tasks = facts.filter { keys.contains($0.key) && $0.state != .notApplicable }
                let done = tasks.filter { $0.state == .done }.count
                let line = CrosswalkReport.Line(
                    id: reference.id,
                    kind: reference.kind,
                    title: reference.title,
                    tasks: tasks.count,
                    done: done,
                    percentDone: percent(done, of: tasks.count),
                    gap: reference.gap
                )
                if reference.legalOnly { legal.append(line) } else { covered.append(line) }
            }
            return CrosswalkReport(covered: covered, legalOnly: legal)
        }
    }

    public func overdueReport(program slug: String, actor: String?, today: CalendarDate = .today()) async throws -> OverdueReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            OverdueReport(
                rows: try await connection.query(ReportSQL.overdue, program.id, today.description)
            )
        }
    }
}

/// The values in first-seen order, each once.
func unique(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
}
