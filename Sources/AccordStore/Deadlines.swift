public import AccordCore
public import Foundation
import Postgres

/// A reminder, overdue notice or escalation that a scheduler pass fired.
public struct FiredDeadline: Codable, Sendable, Equatable {
    /// The task's ref.
    public var task: String
    /// Reminder, overdue notice or escalation.
    public var kind: DeadlineKind
    /// Which reminder or escalation level (0 for an overdue notice).
    public var level: Int
    /// The due date it was for, `YYYY-MM-DD`.
    public var dueOn: String
    /// The role handed up to, for escalations (resolved: the step's owner role for `step-owner`).
    public var toRole: String?
    /// The handles told.
    public var recipients: [String]
}

/// What one scheduler pass did.
public struct DeadlinePass: Codable, Sendable, Equatable {
    /// The day the pass counted from.
    public var today: String
    /// Outstanding dated tasks looked at.
    public var examined: Int
    /// What fired, in the order it fired.
    public var fired: [FiredDeadline]
    /// Cycles opened because the previous one was closed and its period over.
    public var cyclesOpened: [String]
    /// Reminders fired.
    public var reminders: Int { fired.filter { $0.kind == .reminder }.count }
    /// Overdue notices fired.
    public var overdue: Int { fired.filter { $0.kind == .overdue }.count }
    /// Escalations fired.
    public var escalations: Int { fired.filter { $0.kind == .escalation }.count }
}

/// An escalation or reminder as the task page and the leadership report show it.
public struct DeadlineEvent: Codable, Sendable, Equatable {
    /// The task's ref.
    public var task: String
    /// The task's title.
    public var title: String
    /// Reminder, overdue notice or escalation.
    public var kind: DeadlineKind
    /// Which reminder or escalation level (0 for an overdue notice).
    public var level: Int
    /// The due date it was for, `YYYY-MM-DD`.
    public var dueOn: String
    /// The role handed up to, for escalations.
    public var toRole: String?
    /// The handles told.
    public var recipients: [String]
    /// The day the pass that fired it counted from, `YYYY-MM-DD`.
    public var firedOn: String
    /// When it was recorded.
    public var recordedAt: Date
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
            for (id, version) in try await connection.query(DeadlineSQL.workflowsInUse) {
                let workflow = try await Self.workflow(id, version: version, on: connection)
                workflows["\(id)@\(version)"] = workflow
                horizon = max(horizon, workflow.tasks.map { DeadlineSchedule.horizon($0.task.escalation) }.max() ?? 0)
            }
        }
        var pass = DeadlinePass(today: today.description, examined: 0, fired: [], cyclesOpened: [])
        let candidates = try await pool.withConnection { connection in
            try await connection.query(DeadlineSQL.candidates, today.adding(days: horizon).description)
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
        try await pool.withTransaction { try await Self.mailDelegationsEnding(today: today, on: $0) }
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
            guard let locked = try await connection.queryFirst(DeadlineSQL.lockForDeadline, taskID) else { return [] }
            let task = locked.task
            let state = task.state
            guard state.isOutstanding, locked.dueOn == expectedDue.description else { return [] }
            guard let (step, template) = workflow.tasks.first(where: { $0.task.key == task.templateKey }) else { return [] }
            let title = locked.title
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
                    locked: locked,
                    program: program,
                    on: connection
                )
                var note = ""
                if recipients.isEmpty, mark.kind == .escalation {
                    // Nobody holds the role: the program's managers are told, so the hand-up does not vanish.
                    let managers = workflow.roles.filter(\.manager).map(\.key)
                    recipients = try await connection.query(DeadlineSQL.holders, program.id, PostgresArray(managers))
                    note = " (nobody holds '\(role ?? "?")'; sent to the program's managers)"
                }
                let handles = recipients.map(\.1)
                guard
                    let eventID = try await connection.queryFirst(
                        DeadlineSQL.insertEvent,
                        taskID,
                        mark.kind,
                        mark.level,
                        expectedDue.description,
                        role,
                        PostgresArray(handles),
                        today.description
                    )
                else { continue }  // fired already, by another pass
                let late = expectedDue.days(until: today)
                let message =
                    Self.deadlineMessage(
                        mark,
                        ref: task.ref,
                        title: title,
                        due: expectedDue,
                        late: late,
                        role: role,
                        assignee: task.assigneeHandle
                    ) + note
                for (personID, _) in recipients {
                    try await connection.execute(DeadlineSQL.notify, personID, taskID, eventID, mark.kind.rawValue, message)
                }
                let headline =
                    switch mark.kind {
                    case .reminder: "Reminder, \(lateness(late))"
                    case .overdue: "Overdue, \(lateness(late))"
                    case .escalation: "Escalation level \(mark.level), \(lateness(late))"
                    }
                try await Self.queueMail(
                    .task(
                        MailKind(deadline: mark.kind),
                        id: taskID,
                        program: program.slug,
                        title: title,
                        headline: headline,
                        lines: [message, "Due on \(expectedDue)."],
                        late: late
                    ),
                    to: recipients.map { personID, _ in
                        let reason: String
                        if personID == task.assigneeID {
                            reason = "you are the assignee of \(task.ref)"
                        } else if !note.isEmpty {
                            reason = "you manage \(program.slug) and nobody holds \(role ?? "the role")"
                        } else if mark.kind == .escalation {
                            reason = "you hold \(role ?? "the role escalated to") in \(program.slug)"
                        } else if state == .inReview {
                            reason = "you are a signer \(task.ref) still needs"
                        } else {
                            reason = "you hold \(task.ownerRole) in \(program.slug)"
                        }
                        return MailRecipient(personID: personID, reason: reason)
                    },
                    on: connection
                )
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
                try await connection.execute(DeadlineSQL.emit, "task.\(mark.kind.rawValue)", program.id, try PostgresJSON(encoding: payload))
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
        locked: DeadlineTask,
        program: ProgramRow,
        on connection: PostgresConnection
    ) async throws -> [(Int64, String)] {
        func holders(_ roles: [String]) async throws -> [(Int64, String)] {
            try await connection.query(DeadlineSQL.holders, program.id, PostgresArray(roles))
        }
        if mark.kind == .escalation { return try await holders(role.map { [$0] } ?? []) }
        if state == .inReview, let policy = template.approval {
            let signed = Set(try await connection.query(DeadlineSQL.signedThisRound, task.id, locked.reviewRound, locked.evidenceVersion))
            let excluded: Set<Int64> = policy.separationOfDuties ? Set([task.assigneeID, locked.submittedBy].compactMap { $0 }) : []
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
        try await connection.query(DeadlineSQL.ofTask, taskID)
    }
}
