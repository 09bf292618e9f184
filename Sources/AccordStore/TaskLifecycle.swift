import AccordCore
import Foundation
import Postgres

extension Store {
    // MARK: - Instantiation

    /// Creates tasks for templates (for one AI system, or program-wide), wires their dependencies and
    /// sets each open or blocked. Returns the new tasks' ids by template key.
    @discardableResult
    static func instantiate(
        _ templates: [(step: Step, task: TaskTemplate)],
        of workflow: Workflow,
        in program: ProgramRow,
        system: SystemRow?,
        as occasion: TaskOccasion = .roadmap,
        on connection: PostgresConnection
    ) async throws -> [String: Int64] {
        let positions = Dictionary(uniqueKeysWithValues: workflow.tasks.enumerated().map { ($1.task.key, $0) })
        var created: [String: Int64] = [:]
        for (step, template) in templates {
            var completed: CalendarDate?
            if case .afterTask(let other, _) = template.due, let dependency = workflow.task(other),
                let found = try await connection.queryFirst(
                    TaskSQL.instance,
                    program.id,
                    other,
                    dependency.isPerSystem || occasion.sharesSystem ? system?.id : nil,
                    occasion.instance,
                    occasion.cycleID
                )
            {
                completed = found.completedOn.flatMap(CalendarDate.init)
            }
            let due =
                occasion.dueOverride
                ?? DueDates.due(
                    template.due,
                    programStart: occasion.start ?? program.startsOn,
                    systemAdded: occasion.start == nil ? system?.addedOn : nil,
                    dates: workflow.dates,
                    incidentClock: occasion.incidentClock
                ) { _ in completed }
            let id = try await connection.queryOne(
                TaskSQL.insert,
                program.id,
                step.key,
                template.key,
                system?.id,
                positions[template.key] ?? 0,
                template.title + occasion.titleSuffix,
                template.owner,
                due?.description,
                occasion.instance,
                occasion.cycleID,
                occasion.findingID,
                occasion.incidentID
            )
            created[template.key] = id
        }
        for (_, template) in templates {
            guard let id = created[template.key] else { continue }
            for dependency in template.dependsOn {
                guard let target = workflow.task(dependency) else { continue }
                let systemID = target.isPerSystem || occasion.sharesSystem ? system?.id : nil
                for found in try await connection.query(TaskSQL.instance, program.id, dependency, systemID, occasion.instance, occasion.cycleID) {
                    try await connection.execute(TaskSQL.addDependency, id, found.id)
                    if occasion.cycleID == nil { break }
                }
            }
        }
        if !created.isEmpty {
            try await connection.execute(TaskSQL.settleStates, PostgresArray(created.values))
        }
        return created
    }

    // MARK: - Changing

    /// Assigns a task to a person who holds a role in its program. Administrators and program managers.
    public func assignTask(_ ref: String, to handle: String, actor: String?) async throws -> TaskSummary {
        try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "assign tasks", on: connection)
            guard task.state.isOutstanding else {
                throw AccordError(.conflict, "task '\(task.ref)' is \(task.state.rawValue); only outstanding tasks are assigned")
            }
            let assignee = try await Self.person(handle, on: connection)
            guard !assignee.disabled else { throw AccordError(.conflict, "'\(handle)' is disabled") }
            guard try await Self.isMember(assignee.id, of: program, on: connection) else {
                throw AccordError(
                    .conflict,
                    "'\(handle)' holds no role in '\(program.slug)'; bind them to a role first",
                    remedy: .bindRole(program: program.slug, role: task.ownerRole, person: handle)
                )
            }
            try await connection.execute(TaskSQL.setAssignee, task.id, assignee.id)
            try await Self.mailAssignment(task, to: assignee, by: acting, program: program, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: "task.assign",
                    objectType: "task",
                    objectID: task.ref,
                    before: auditJSON(["assignee": task.assigneeHandle ?? ""]),
                    after: auditJSON(["assignee": handle])
                )
            )
        }
    }

    /// The assignee (or, unassigned, a holder of the owner role, who then becomes the assignee) starts work.
    public func startTask(_ ref: String, actor: String?) async throws -> TaskSummary {
        try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireWorker(acting, task: task, program: program, on: connection)
            try await Self.transition(task, .start, workflow: workflow, program: program, actor: acting, reason: nil, on: connection)
        }
    }

    /// Hands the work in: to review when the task needs sign-off, else done (and its dependents unblock).
    public func submitTask(_ ref: String, actor: String?) async throws -> TaskSummary {
        try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireWorker(acting, task: task, program: program, on: connection)
            try await Self.transition(task, .submit, workflow: workflow, program: program, actor: acting, reason: nil, on: connection)
        }
    }

    /// Declares a task out of scope with a reason (kept for the statement of applicability). Managers.
    public func markNotApplicable(_ ref: String, reason: String, actor: String?) async throws -> TaskSummary {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw AccordError(.invalid, "say why the task does not apply", field: "reason") }
        return try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "mark tasks not applicable", on: connection)
            try await Self.transition(task, .markNotApplicable, workflow: workflow, program: program, actor: acting, reason: reason, on: connection)
        }
    }

    /// Brings a task marked not applicable back into scope: blocked, or open when nothing it depends on is
    /// outstanding. The reinstatement and any unblocking are audited in the same transaction. Managers.
    public func reinstateTask(_ ref: String, actor: String?) async throws -> TaskSummary {
        try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "reinstate tasks", on: connection)
            try await Self.transition(task, .reinstate, workflow: workflow, program: program, actor: acting, reason: nil, on: connection)
            try await connection.execute(TaskSQL.settleStates, PostgresArray([task.id]))
            if try await Self.lockTask(task.id, on: connection, lock: false).state == .open {
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(program.slug),
                        actor: "system",
                        action: "task.unblock",
                        objectType: "task",
                        objectID: task.ref,
                        before: auditJSON(["state": "blocked"]),
                        after: auditJSON(["state": "open"]),
                        reason: "nothing it depends on is outstanding"
                    )
                )
            }
        }
    }

    /// Runs a change on one locked task in one transaction and returns the task afterwards.
    private func changeTask(
        _ ref: String,
        actor: String?,
        _ body: (PostgresConnection, Person, TaskRow, ProgramRow, Workflow) async throws -> Void
    ) async throws -> TaskSummary {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let task = try await Self.lockTask(id, on: connection)
            let program = try await Self.programRow(task.programID, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            try await body(connection, acting, task, program, workflow)
            return try await connection.queryOne(TaskSQL.one, id)
        }
    }

    static func lockTask(_ id: Int64, on connection: PostgresConnection, lock: Bool = true) async throws -> TaskRow {
        guard let task = try await connection.queryFirst(lock ? TaskSQL.lockRow : TaskSQL.row, id) else {
            throw AccordError(.notFound, "no task \(id)")
        }
        return task
    }

    /// Who works a task: its assignee; when unassigned, any holder of its owner role (who becomes the assignee).
    static func requireWorker(_ person: Person, task: TaskRow, program: ProgramRow, on connection: PostgresConnection) async throws {
        if let assignee = task.assigneeID {
            guard assignee == person.id else {
                throw AccordError(
                    .forbidden,
                    "task '\(task.ref)' is assigned to '\(task.assigneeHandle ?? "?")'; only they work it (a manager can reassign it)"
                )
            }
            return
        }
        let held = try await roles(of: person, in: program, on: connection)
        guard held.contains(task.ownerRole) else {
            throw AccordError(
                .forbidden,
                "task '\(task.ref)' is worked by its assignee or a holder of '\(task.ownerRole)'; '\(person.handle)' is neither"
            )
        }
        try await connection.execute(TaskSQL.setAssignee, task.id, person.id)
    }

    /// Applies one state-machine event to a locked task, records it, and settles what follows from it:
    /// dependents unblock and get their due dates when the task is finished.
    static func transition(
        _ task: TaskRow,
        _ event: TaskEvent,
        workflow: Workflow,
        program: ProgramRow,
        actor: Person,
        reason: String?,
        on connection: PostgresConnection
    ) async throws {
        let needsSignOff = workflow.task(task.templateKey)?.approval != nil
        guard let next = TaskStateMachine.next(from: task.state, on: event, needsSignOff: needsSignOff) else {
            throw AccordError(.conflict, TaskStateMachine.refusal(task: task.ref, state: task.state, event: event, needsSignOff: needsSignOff))
        }
        try await connection.executeDeferred(TaskSQL.setState, task.id, next, event == .submit, actor.id, reason)
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(program.slug),
                actor: actor.handle,
                action: "task.\(event.rawValue)",
                objectType: "task",
                objectID: task.ref,
                before: auditJSON(["state": task.state.rawValue]),
                after: auditJSON(["state": next.rawValue]),
                reason: reason
            )
        )
        try await mailTransition(task, to: next, on: event, workflow: workflow, program: program, actor: actor, reason: reason, on: connection)
        // Only a template something depends on (or a finding's task) has anything to settle.
        if next.satisfiesDependents, task.findingID != nil || workflow.tasks.contains(where: { $0.task.dependsOn.contains(task.templateKey) }) {
            try await settleDependents(of: task, workflow: workflow, program: program, on: connection)
        }
    }

    /// After a task is finished: dependents due "after" it get their date, and those with nothing left to wait for open.
    static func settleDependents(of task: TaskRow, workflow: Workflow, program: ProgramRow, on connection: PostgresConnection) async throws {
        let today = CalendarDate.today()
        for dependent in try await connection.query(TaskSQL.dependentsForDue, task.id) {
            if case .afterTask(let other, let duration) = workflow.task(dependent.key)?.due, other == task.templateKey {
                try await connection.execute(TaskSQL.setDue, dependent.id, duration.after(today).description)
            }
        }
        for unblocked in try await connection.query(TaskSQL.unblockDependents, task.id) {
            let ref = taskRef(program: program.slug, key: unblocked.key, system: unblocked.system, instance: unblocked.instance)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: "system",
                    action: "task.unblock",
                    objectType: "task",
                    objectID: ref,
                    before: auditJSON(["state": "blocked"]),
                    after: auditJSON(["state": "open"]),
                    reason: "\(task.ref) is finished"
                )
            )
        }
        if let findingID = task.findingID {
            try await settleFinding(findingID, program: program, actor: "system", on: connection)
        }
    }
}
