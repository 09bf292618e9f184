public import AccordCore
public import Foundation
import Postgres

/// A reminder, overdue notice or escalation that a scheduler pass fired.
public struct FiredDeadline: Codable, Sendable, Equatable {
    public var task: String
    public var kind: DeadlineKind
    public var level: Int
    public var dueOn: String
    /// The role handed up to, for escalations (resolved: the step's owner role for `step-owner`).
    public var toRole: String?
    public var recipients: [String]
}

/// What one scheduler pass did.
public struct DeadlinePass: Codable, Sendable, Equatable {
    /// The day the pass counted from.
    public var today: String
    /// Outstanding dated tasks looked at.
    public var examined: Int
    public var fired: [FiredDeadline]
    /// Cycles opened because the previous one was closed and its period over.
    public var cyclesOpened: [String]
    public var reminders: Int { fired.filter { $0.kind == .reminder }.count }
    public var overdue: Int { fired.filter { $0.kind == .overdue }.count }
    public var escalations: Int { fired.filter { $0.kind == .escalation }.count }
}

/// An escalation or reminder as the task page and the leadership report show it.
public struct DeadlineEvent: Codable, Sendable, Equatable {
    public var task: String
    public var title: String
    public var kind: DeadlineKind
    public var level: Int
    public var dueOn: String
    public var toRole: String?
    public var recipients: [String]
    public var firedOn: String
    public var recordedAt: Date
}

enum DeadlineSQL {
    /// Outstanding dated tasks within the horizon, with what already fired for their current due date.
    static let candidates = """
        SELECT t.id, t.program_id, t.template_key, t.step_key, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               to_json(coalesce(array_agg(e.kind || ':' || e.level) FILTER (WHERE e.id IS NOT NULL), '{}')) AS fired
        FROM accord.task t
        LEFT JOIN accord.deadline_event e ON e.task_id = t.id AND e.due_on = t.due_on
        WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on <= $1::date
        GROUP BY t.id
        ORDER BY t.due_on, t.id
        """
    static let workflowsInUse = "SELECT DISTINCT workflow_id, workflow_version FROM accord.program"
    /// The task again, under its row lock, skipping a row someone else is changing (the next pass gets it).
    static let lockForDeadline = """
        SELECT t.id, t.program_id, p.slug AS program, t.template_key, t.system_id, sy.slug AS system, t.owner_role, t.state,
               t.assignee_id, a.handle AS assignee, t.instance, t.finding_id, t.incident_id,
               to_char(t.due_on, 'YYYY-MM-DD') AS due_on, t.title, t.submitted_by, t.review_round, t.evidence_version
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system sy ON sy.id = t.system_id LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $1 FOR UPDATE OF t SKIP LOCKED
        """
    static let insertEvent = """
        INSERT INTO accord.deadline_event (task_id, kind, level, due_on, to_role, recipients, fired_on)
        VALUES ($1, $2, $3, $4::date, $5, $6::text[], $7::date)
        ON CONFLICT ON CONSTRAINT deadline_event_once DO NOTHING RETURNING id
        """
    static let holders = """
        SELECT p.id, p.handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 AND b.role = ANY($2::text[]) AND p.disabled_at IS NULL
        ORDER BY p.handle
        """
    static let signedThisRound = """
        SELECT signer_id FROM accord.signature WHERE task_id = $1 AND review_round = $2 AND evidence_version = $3
        """
    static let notify = """
        INSERT INTO accord.notification (person_id, task_id, event_id, kind, message) VALUES ($1, $2, $3, $4, $5)
        """
    static let emit = "SELECT accord.emit($1, $2, $3::jsonb) AS id"
    static let ofTask = forTask + "\nWHERE e.task_id = $1 ORDER BY e.id"
    static let forTask = """
        SELECT accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref, t.title, e.kind, e.level,
               to_char(e.due_on, 'YYYY-MM-DD') AS due_on, e.to_role, to_json(e.recipients) AS recipients, to_char(e.fired_on, 'YYYY-MM-DD') AS fired_on, e.recorded_at
        FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        """
}

/// The payload of a deadline event on the outbox (and so on every webhook).
struct DeadlineMessage: Encodable {
    var program: String
    var task: String
    var title: String
    var kind: String
    var level: Int
    var dueOn: String
    var daysLate: Int
    var toRole: String?
    var recipients: [String]
    var firedOn: String
}

extension Store {
    /// One scheduler pass as of `now`: fires the reminders, overdue notices and escalations that have
    /// fallen due and not fired yet, then opens the cycles that are due. Each fired mark is a
    /// `deadline_event` row whose unique key (task, kind, level, due date) makes it fire once however
    /// many schedulers run; its notifications, outbox event and audit entry commit with it.
    public func runDeadlines(now: Date = Date()) async throws -> DeadlinePass {
        let today = CalendarDate.today(now: now)
        var workflows: [String: Workflow] = [:]
        var horizon = 0
        try await pool.withConnection { connection in
            for row in try await connection.query(DeadlineSQL.workflowsInUse) {
                let id = try row.decode(String.self, "workflow_id")
                let version = try row.decode(Int.self, "workflow_version")
                let workflow = try await Self.workflow(id, version: version, on: connection)
                workflows["\(id)@\(version)"] = workflow
                horizon = max(horizon, workflow.tasks.map { DeadlineSchedule.horizon($0.task.escalation) }.max() ?? 0)
            }
        }
        var pass = DeadlinePass(today: today.description, examined: 0, fired: [], cyclesOpened: [])
        let candidates = try await pool.withConnection { connection in
            try await connection.query(DeadlineSQL.candidates, [today.adding(days: horizon).description]).map { row in
                (
                    id: try row.decode(Int64.self, "id"), programID: try row.decode(Int64.self, "program_id"),
                    key: try row.decode(String.self, "template_key"), due: CalendarDate(try row.decode(String.self, "due_on"))!,
                    fired: Set(try row.decode(PostgresJSON.self, "fired").decode([String].self))
                )
            }
        }
        pass.examined = candidates.count
        var programs: [Int64: ProgramRow] = [:]
        for candidate in candidates {
            if programs[candidate.programID] == nil {
                programs[candidate.programID] = try await pool.withConnection { try await Self.programRow(candidate.programID, on: $0) }
            }
            guard let program = programs[candidate.programID],
                let workflow = workflows["\(program.workflowID)@\(program.workflowVersion)"],
                let template = workflow.task(candidate.key)
            else { continue }
            let pending = DeadlineSchedule.due(template.escalation, due: candidate.due, today: today)
                .filter { !candidate.fired.contains("\($0.kind.rawValue):\($0.level)") }
            guard !pending.isEmpty else { continue }
            pass.fired += try await fire(
                pending,
                taskID: candidate.id,
                expectedDue: candidate.due,
                program: program,
                workflow: workflow,
                today: today
            )
        }
        pass.cyclesOpened = try await openDueCycles(today: today, workflows: workflows)
        return pass
    }

    /// Fires marks of one task in one transaction, unless the task was finished or re-dated since it was read.
    private func fire(
        _ marks: [DeadlineMark],
        taskID: Int64,
        expectedDue: CalendarDate,
        program: ProgramRow,
        workflow: Workflow,
        today: CalendarDate
    ) async throws -> [FiredDeadline] {
        try await pool.withTransaction { connection in
            guard let row = try await connection.query(DeadlineSQL.lockForDeadline, [taskID]).firstRow else { return [] }
            let task = try TaskRow(lockedRow: row, id: taskID)
            let state = task.state
            guard state.isOutstanding, try row.decode(String?.self, "due_on") == expectedDue.description else { return [] }
            guard let (step, template) = workflow.tasks.first(where: { $0.task.key == task.templateKey }) else { return [] }
            let title = try row.decode(String.self, "title")
            var fired: [FiredDeadline] = []
            for mark in marks {
                var role = mark.role
                if role == "step-owner" { role = step.owner }
                var recipients = try await recipients(
                    of: mark,
                    role: role,
                    task: task,
                    state: state,
                    template: template,
                    workflow: workflow,
                    lockedRow: row,
                    program: program,
                    on: connection
                )
                var note = ""
                if recipients.isEmpty, mark.kind == .escalation {
                    // Nobody holds the role: the program's managers are told, so the hand-up does not vanish.
                    let managers = workflow.roles.filter(\.manager).map(\.key)
                    recipients = try await connection.query(DeadlineSQL.holders, [program.id, PostgresArray(managers)]).map {
                        (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "handle"))
                    }
                    note = " (nobody holds '\(role ?? "?")'; sent to the program's managers)"
                }
                let handles = recipients.map(\.1)
                guard
                    let eventRow = try await connection.query(
                        DeadlineSQL.insertEvent,
                        [
                            taskID, mark.kind.rawValue, mark.level, expectedDue.description, role, PostgresArray(handles), today.description,
                        ]
                    ).firstRow
                else { continue }  // fired already, by another pass
                let eventID = try eventRow.decode(Int64.self, "id")
                let late = expectedDue.days(until: today)
                let message =
                    Self.deadlineMessage(
                        mark,
                        ref: task.ref,
                        title: title,
                        due: expectedDue,
                        late: late,
                        role: role,
                        assignee: try row.decode(String?.self, "assignee")
                    ) + note
                for (personID, _) in recipients {
                    try await connection.execute(DeadlineSQL.notify, [personID, taskID, eventID, mark.kind.rawValue, message])
                }
                let payload = DeadlineMessage(
                    program: program.slug,
                    task: task.ref,
                    title: title,
                    kind: mark.kind.rawValue,
                    level: mark.level,
                    dueOn: expectedDue.description,
                    daysLate: max(0, late),
                    toRole: role,
                    recipients: handles,
                    firedOn: today.description
                )
                _ = try await connection.query(DeadlineSQL.emit, ["task.\(mark.kind.rawValue)", program.id, try PostgresJSON(encoding: payload)])
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(program.slug),
                        actor: "scheduler",
                        action: "task.\(mark.kind == .escalation ? "escalate" : mark.kind.rawValue)",
                        objectType: "task",
                        objectID: task.ref,
                        after: auditJSON(payload),
                        reason: message
                    )
                )
                fired.append(
                    FiredDeadline(
                        task: task.ref,
                        kind: mark.kind,
                        level: mark.level,
                        dueOn: expectedDue.description,
                        toRole: role,
                        recipients: handles
                    )
                )
            }
            return fired
        }
    }

    /// Who a mark goes to. Reminders and overdue notices: the assignee, else the owner role's holders; for a
    /// task in review, the holders of its signer roles who have not signed and may sign. Escalations: the role's holders.
    private func recipients(
        of mark: DeadlineMark,
        role: String?,
        task: TaskRow,
        state: TaskState,
        template: TaskTemplate,
        workflow: Workflow,
        lockedRow row: PostgresRow,
        program: ProgramRow,
        on connection: PostgresConnection
    ) async throws -> [(Int64, String)] {
        func holders(_ roles: [String]) async throws -> [(Int64, String)] {
            try await connection.query(DeadlineSQL.holders, [program.id, PostgresArray(roles)]).map {
                (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "handle"))
            }
        }
        if mark.kind == .escalation { return try await holders(role.map { [$0] } ?? []) }
        if state == .inReview, let policy = template.approval {
            let signed = Set(
                try await connection.query(
                    DeadlineSQL.signedThisRound,
                    [
                        task.id, try row.decode(Int.self, "review_round"), try row.decode(Int.self, "evidence_version"),
                    ]
                ).map { try $0.decode(Int64.self, "signer_id") }
            )
            let excluded: Set<Int64> =
                policy.separationOfDuties ? Set([task.assigneeID, try row.decode(Int64?.self, "submitted_by")].compactMap { $0 }) : []
            let signers = try await holders(policy.signers.map(\.role)).filter { !signed.contains($0.0) && !excluded.contains($0.0) }
            if !signers.isEmpty { return signers }
        }
        if let assignee = task.assigneeID, let handle = task.assigneeHandle { return [(assignee, handle)] }
        return try await holders([task.ownerRole])
    }

    static func deadlineMessage(
        _ mark: DeadlineMark,
        ref: String,
        title: String,
        due: CalendarDate,
        late: Int,
        role: String?,
        assignee: String?
    ) -> String {
        let owner = assignee.map { "assigned to \($0)" } ?? "unassigned"
        switch mark.kind {
        case .reminder:
            let left = -late
            return "Reminder: \(ref) (\(title)) is due on \(due), in \(left) day\(left == 1 ? "" : "s"); \(owner)"
        case .overdue:
            return "Overdue: \(ref) (\(title)) was due on \(due); \(owner)"
        case .escalation:
            let when =
                late > 0
                ? "\(late) day\(late == 1 ? "" : "s") late" : late == 0 ? "due today" : "due on \(due), in \(-late) day\(late == -1 ? "" : "s")"
            return "Escalation level \(mark.level) to \(role ?? "?"): \(ref) (\(title)) is \(when); \(owner)"
        }
    }

    /// The reminders and escalations fired for a task, oldest first.
    static func deadlineEvents(taskID: Int64, on connection: PostgresConnection) async throws -> [DeadlineEvent] {
        try await connection.query(DeadlineSQL.ofTask, [taskID]).map(DeadlineEvent.init(row:))
    }
}

extension DeadlineEvent {
    init(row: PostgresRow) throws {
        task = try row.decode(String.self, "ref")
        title = try row.decode(String.self, "title")
        kind = DeadlineKind(rawValue: try row.decode(String.self, "kind"))!
        level = try row.decode(Int.self, "level")
        dueOn = try row.decode(String.self, "due_on")
        toRole = try row.decode(String?.self, "to_role")
        recipients = try row.decode(PostgresJSON.self, "recipients").decode([String].self)
        firedOn = try row.decode(String.self, "fired_on")
        recordedAt = try row.decode(Date.self, "recorded_at")
    }
}
