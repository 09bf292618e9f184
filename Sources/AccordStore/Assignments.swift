import AccordCore
import Foundation
import Postgres

/// Someone a task of a program can be assigned to: an enabled person holding a role in it.
public struct Assignee: Codable, Sendable, Equatable {
    /// Their handle.
    public var handle: String
    /// Their name.
    public var name: String
}

/// Who may assign a program's tasks and to whom.
public struct AssignmentChoices: Sendable, Equatable {
    /// Whether the person asking may assign tasks (an administrator or a holder of a manager role).
    public var mayAssign: Bool
    /// The people tasks can be assigned to, by name; empty when the person may not assign.
    public var assignees: [Assignee]
}

/// What a batch of assignments did.
public struct AssignedTasks: Codable, Sendable, Equatable {
    /// How many tasks got a new assignee (those already assigned to the person named are left as they were).
    public var assigned: Int
    /// Every task named, afterwards, in the order given.
    public var tasks: [TaskSummary]
}

enum AssignmentSQL {
    /// The enabled people holding a role in a program, by name.
    static let assignees = PostgresQuery<Int64, Assignee>(
        "assignment_assignees",
        """
        SELECT DISTINCT p.name, p.handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 AND p.disabled_at IS NULL ORDER BY p.name, p.handle
        """
    ) { Assignee(handle: try $0.decode(String.self, "handle"), name: try $0.decode(String.self, "name")) }

    static let catalogue: [any PostgresCheckable] = [assignees]
}

extension Store {
    /// The most assignments one batch takes (a page of the program's task list at its largest).
    public static let maxAssignments = 500

    /// Whether the person may assign the program's tasks, and the people they can assign them to.
    /// Anyone who may see the program may ask; others get "not found".
    public func assignmentChoices(program slug: String, actor: String?) async throws -> AssignmentChoices {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let may = try await Self.mayManage(acting, of: program, workflow: workflow, on: connection)
            return AssignmentChoices(mayAssign: may, assignees: may ? try await connection.query(AssignmentSQL.assignees, program.id) : [])
        }
    }

    /// Assigns several tasks at once, all or none: one transaction, each change with its audit entry
    /// (`task.assign`, as `assignTask` writes it). Each assignment is checked as `assignTask` checks it (an
    /// administrator or a manager of the task's program, an outstanding task, an enabled member of the
    /// program); a refusal names the task and leaves every task as it was. A task already assigned to the
    /// person named is left alone (no entry). With `program`, every task must be one of that program's.
    /// - Parameters:
    ///   - assignments: each task (numeric id or ref) and the handle of its new assignee; a task at most once.
    ///   - program: the program the tasks must belong to, checked first.
    public func assignTasks(
        _ assignments: [(task: String, assignee: String)],
        program slug: String? = nil,
        actor: String?
    ) async throws -> AssignedTasks {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            var only: ProgramRow?
            if let slug {
                let program = try await Self.visibleProgram(slug, for: acting, on: connection)
                let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
                try await Self.requireManager(acting, of: program, workflow: workflow, to: "assign tasks", on: connection)
                only = program
            }
            guard !assignments.isEmpty else {
                throw AccordError(.invalid, "choose at least one task and who it goes to", field: "assignments")
            }
            guard assignments.count <= Self.maxAssignments else {
                throw AccordError(.invalid, "at most \(Self.maxAssignments) tasks are assigned at once", field: "assignments")
            }
            // Every task resolved first, then locked in id order, so two batches never wait on each other in a circle.
            var ids: [Int64] = []
            for assignment in assignments {
                let id = try await Self.resolveTask(assignment.task, for: acting, on: connection)
                guard !ids.contains(id) else {
                    throw AccordError(.invalid, "task \(assignment.task) is named twice; name each task once", field: "assignee_\(id)")
                }
                ids.append(id)
            }
            var locked: [Int64: TaskRow] = [:]
            for id in ids.sorted() { locked[id] = try await Self.lockTask(id, on: connection) }
            var programs: [Int64: (ProgramRow, Workflow)] = [:]
            var people: [String: Person] = [:]
            var assigned = 0
            for (id, assignment) in zip(ids, assignments) {
                guard let task = locked[id] else { continue }
                do {
                    if let only, task.programID != only.id {
                        throw AccordError(.invalid, "it is not a task of '\(only.slug)'")
                    }
                    if programs[task.programID] == nil {
                        let row = try await Self.programRow(task.programID, on: connection)
                        let workflow = try await Self.workflow(row.workflowID, version: row.workflowVersion, on: connection)
                        try await Self.requireManager(acting, of: row, workflow: workflow, to: "assign tasks", on: connection)
                        programs[task.programID] = (row, workflow)
                    }
                    guard let program = programs[task.programID]?.0 else { continue }
                    guard task.state.isOutstanding else {
                        throw AccordError(.conflict, "it is \(task.state.rawValue); only outstanding tasks are assigned")
                    }
                    let handle = assignment.assignee.trimmingCharacters(in: .whitespaces)
                    let person: Person
                    if let known = people[handle] {
                        person = known
                    } else {
                        guard handle.utf8.count <= 200, !handle.utf8.contains(0),
                            let found = try await connection.queryFirst(PeopleSQL.byHandle, handle)
                        else {
                            throw AccordError(.invalid, "there is no person with handle '\(handle)'")
                        }
                        person = found
                        people[handle] = person
                    }
                    guard !person.disabled else { throw AccordError(.conflict, "'\(handle)' is disabled") }
                    guard try await Self.isMember(person.id, of: program, on: connection) else {
                        throw AccordError(.conflict, "'\(handle)' holds no role in '\(program.slug)'; bind them to a role first")
                    }
                    if task.assigneeID == person.id { continue }
                    try await connection.execute(TaskSQL.setAssignee, task.id, person.id)
                    try await Self.mailAssignment(task, to: person, by: acting, program: program, on: connection)
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
                    assigned += 1
                } catch let error as AccordError {
                    // The refusal names the task, and marks its row's field; nothing of the batch is kept.
                    throw AccordError(error.code, "\(task.ref): \(error.message); no task was assigned", field: "assignee_\(task.id)")
                }
            }
            var tasks: [TaskSummary] = []
            for id in ids { tasks.append(try await connection.queryOne(TaskSQL.one, id)) }
            return AssignedTasks(assigned: assigned, tasks: tasks)
        }
    }

    /// Whether the person is an administrator or holds a manager role of the program's workflow.
    static func mayManage(_ person: Person, of program: ProgramRow, workflow: Workflow, on connection: PostgresConnection) async throws -> Bool {
        if person.isAdmin { return true }
        return workflow.isManager(holding: try await roles(of: person, in: program, on: connection))
    }
}
