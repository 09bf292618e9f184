public import AccordCore
public import Foundation
import Postgres

/// A task in lists.
public struct TaskSummary: Codable, Sendable, Equatable {
    public var id: Int64
    /// `PROGRAM/TASK` or `PROGRAM/TASK@SYSTEM`.
    public var ref: String
    public var program: String
    public var step: String
    public var key: String
    public var system: String?
    public var title: String
    public var ownerRole: String
    public var state: TaskState
    public var assignee: String?
    public var dueOn: String?
    /// Days past the due date, for outstanding tasks that are late.
    public var overdueDays: Int?
}

/// A task in detail.
public struct TaskDetail: Codable, Sendable, Equatable {
    public struct RefTitle: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var legalOnly: Bool
    }
    public struct Link: Codable, Sendable, Equatable {
        public var ref: String
        public var state: TaskState
    }
    public struct HistoryEntry: Codable, Sendable, Equatable {
        public var seq: Int64
        public var at: Date
        public var actor: String
        public var action: String
        public var reason: String?
    }
    public var task: TaskSummary
    public var stepTitle: String
    public var description: String?
    public var refs: [RefTitle]
    public var legalOnly: Bool
    public var evidenceRequired: [String]
    public var approval: ApprovalPolicy?
    public var escalation: Escalation?
    public var recurrence: String?
    public var dependsOn: [Link]
    public var dependents: [Link]
    public var submittedBy: String?
    public var notApplicableReason: String?
    public var retiredReason: String?
    public var startedAt: Date?
    public var submittedAt: Date?
    public var completedAt: Date?
    /// How many evidence uploads the task has had; signatures bind one of these versions.
    public var evidenceVersion: Int
    public var evidence: [EvidenceVersion]
    public var signatures: [SignatureRecord]
    /// Sign-offs still needed per role in the current review, when in review.
    public var signaturesNeeded: [String: Int]
    public var history: [HistoryEntry]
    /// Reminders, overdue notices and escalations fired for the task.
    public var deadlines: [DeadlineEvent] = []
    /// For the cycle's review (the management review): the program's open findings, an input it must consider (cl. 9.3.2).
    public var openFindings: [OpenFinding] = []
}

/// An open finding, as the management review lists it.
public struct OpenFinding: Codable, Sendable, Equatable {
    public var number: Int
    public var severity: String
    public var source: String
    public var system: String?
    public var title: String
    public var openedAt: Date
}

/// Filters for `tasks(...)`.
public struct TaskFilter: Sendable {
    public var program: String?
    public var assignee: String?
    public var state: TaskState?
    public var overdueOnly = false
    /// Tasks assigned to the actor, or unassigned in a role the actor holds.
    public var mineOnly = false
    public init(program: String? = nil, assignee: String? = nil, state: TaskState? = nil, overdueOnly: Bool = false, mineOnly: Bool = false) {
        self.program = program
        self.assignee = assignee
        self.state = state
        self.overdueOnly = overdueOnly
        self.mineOnly = mineOnly
    }
}

/// An AI system's row, as the engine works with it.
struct SystemRow {
    var id: Int64
    var slug: String
    var profile: SystemProfile
    var addedOn: CalendarDate
}

/// The task row a command works on, locked.
struct TaskRow {
    var id: Int64
    var programID: Int64
    var programSlug: String
    var templateKey: String
    var systemID: Int64?
    var systemSlug: String?
    var ownerRole: String
    var state: TaskState
    var assigneeID: Int64?
    var assigneeHandle: String?
    var instance: String
    var findingID: Int64?
    var incidentID: Int64?
    var ref: String { taskRef(program: programSlug, key: templateKey, system: systemSlug, instance: instance) }
}

/// `PROGRAM/TASK[@SYSTEM][+INSTANCE]`, as `accord.task_ref` writes it in SQL.
extension TaskRow {
    /// From a row with the columns of `TaskSQL.row`.
    init(lockedRow row: PostgresRow, id: Int64) throws {
        self.init(
            id: id,
            programID: try row.decode(Int64.self, "program_id"),
            programSlug: try row.decode(String.self, "program"),
            templateKey: try row.decode(String.self, "template_key"),
            systemID: try row.decode(Int64?.self, "system_id"),
            systemSlug: try row.decode(String?.self, "system"),
            ownerRole: try row.decode(String.self, "owner_role"),
            state: try row.decode(TaskState.self, "state"),
            assigneeID: try row.decode(Int64?.self, "assignee_id"),
            assigneeHandle: try row.decode(String?.self, "assignee"),
            instance: try row.decode(String.self, "instance"),
            findingID: try row.decode(Int64?.self, "finding_id"),
            incidentID: try row.decode(Int64?.self, "incident_id")
        )
    }
}

/// Which occasion a task is instantiated for: the roadmap, a cycle's occurrence, a finding or an incident.
struct TaskOccasion {
    /// The `instance` column: '' for the roadmap.
    var instance = ""
    var cycleID: Int64?
    var findingID: Int64?
    var incidentID: Int64?
    /// The day start-relative due dates count from, instead of the program start.
    var start: CalendarDate?
    var incidentClock: CalendarDate?
    /// A due date set by the occasion (a cycle's occurrence), overriding the template's rule.
    var dueOverride: CalendarDate?
    var titleSuffix = ""
    /// A finding's or incident's tasks all carry its AI system, so their dependencies are on the same system.
    var sharesSystem: Bool { findingID != nil || incidentID != nil }
    static let roadmap = TaskOccasion()
}

func taskRef(program: String, key: String, system: String?, instance: String = "") -> String {
    "\(program)/\(key)" + (system.map { "@\($0)" } ?? "") + (instance.isEmpty ? "" : "+\(instance)")
}

extension PostgresRow {
    /// The task ref from the columns `program`, `template_key`, `system` and `instance` of a row.
    func taskRef(program: String? = nil) throws -> String {
        AccordStore.taskRef(
            program: try program ?? decode(String.self, "program"),
            key: try decode(String.self, "template_key"),
            system: try decode(String?.self, "system"),
            instance: try decode(String.self, "instance")
        )
    }
}

enum TaskSQL {
    static let insert = """
        INSERT INTO accord.task (program_id, step_key, template_key, system_id, position, title, owner_role, state, due_on,
                                 instance, cycle_id, finding_id, incident_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'blocked', $8::date, $9, $10, $11, $12) RETURNING id
        """
    /// The instance of a template a new task depends on: the same instance (roadmap, finding, incident), or in a cycle, every occurrence of the cycle.
    static let instance = """
        SELECT id, state, to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS completed_on FROM accord.task
        WHERE program_id = $1 AND template_key = $2 AND system_id IS NOT DISTINCT FROM $3
          AND CASE WHEN $5::bigint IS NULL THEN instance = $4 ELSE cycle_id = $5 END
        ORDER BY id
        """
    static let addDependency = "INSERT INTO accord.task_dependency (task_id, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    /// Sets new tasks open or blocked from their dependencies.
    static let settleStates = """
        UPDATE accord.task t SET state = CASE WHEN EXISTS (
            SELECT 1 FROM accord.task_dependency d JOIN accord.task u ON u.id = d.depends_on
            WHERE d.task_id = t.id AND u.state NOT IN ('done', 'not_applicable')) THEN 'blocked' ELSE 'open' END
        WHERE t.id = ANY($1::bigint[])
        """
    static let resolve: PostgresStatement = .perCall(
        "task_resolve",
        """
        SELECT t.id, s.slug AS system, t.instance FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE p.slug = $1 AND t.template_key = $2 AND ($3::text IS NULL OR s.slug = $3) AND ($4::text IS NULL OR t.instance = $4)
        ORDER BY s.slug NULLS FIRST, t.id
        """
    )
    static let row = """
        SELECT t.id, t.program_id, p.slug AS program, t.template_key, t.system_id, s.slug AS system, t.owner_role, t.state,
               t.assignee_id, a.handle AS assignee, t.instance, t.finding_id, t.incident_id
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $1
        """
    static let lockRow = row + " FOR UPDATE OF t"
    static let columns = """
        SELECT t.id, p.slug AS program, t.step_key, t.template_key, s.slug AS system, t.instance, t.title, t.owner_role, t.state,
               a.handle AS assignee, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               CASE WHEN \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date
                    THEN current_date - t.due_on END AS overdue_days
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        """
    static let list: PostgresStatement = .perCall(
        "task_list",
        columns + """

            WHERE ($1::text IS NULL OR p.slug = $1)
              AND ($2::bigint IS NULL OR t.assignee_id = $2)
              AND (CASE WHEN $3::text IS NULL THEN t.state <> 'retired' ELSE t.state = $3 END)
              AND (NOT $4 OR (\(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date))
              AND ($5 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6))
              AND (NOT $7 OR t.assignee_id = $6 OR (t.assignee_id IS NULL AND t.owner_role IN
                   (SELECT b.role FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6)))
            ORDER BY p.slug, t.position, s.slug NULLS FIRST
            """
    )
    /// The person's ($1) open work: tasks assigned to them, and unassigned tasks of a role they hold, in
    /// the given states; found from their assignments and role bindings, never by reading every task.
    static let mine =
        columns + """

            WHERE t.id IN (
                SELECT a.id FROM accord.task a WHERE a.assignee_id = $1 AND a.state = ANY($2::text[])
                  AND ($3 OR EXISTS (SELECT 1 FROM accord.role_binding m WHERE m.program_id = a.program_id AND m.person_id = $1))
                UNION
                SELECT u.id FROM accord.role_binding b
                JOIN accord.task u ON u.program_id = b.program_id AND u.owner_role = b.role AND u.assignee_id IS NULL
                WHERE b.person_id = $1 AND u.state = ANY($2::text[]))
            ORDER BY p.slug, t.position, s.slug NULLS FIRST
            """
    static let one = columns + "\nWHERE t.id = $1"
    static let extra = """
        SELECT sb.handle AS submitted_by, t.na_reason, t.retired_reason, t.started_at, t.submitted_at, t.completed_at,
               t.evidence_version, t.review_round
        FROM accord.task t LEFT JOIN accord.person sb ON sb.id = t.submitted_by WHERE t.id = $1
        """
    static let dependsOn = """
        SELECT p.slug AS program, u.template_key, s.slug AS system, u.instance, u.state FROM accord.task_dependency d
        JOIN accord.task u ON u.id = d.depends_on JOIN accord.program p ON p.id = u.program_id
        LEFT JOIN accord.ai_system s ON s.id = u.system_id WHERE d.task_id = $1 ORDER BY u.position, s.slug
        """
    static let dependents = """
        SELECT p.slug AS program, u.template_key, s.slug AS system, u.instance, u.state FROM accord.task_dependency d
        JOIN accord.task u ON u.id = d.task_id JOIN accord.program p ON p.id = u.program_id
        LEFT JOIN accord.ai_system s ON s.id = u.system_id WHERE d.depends_on = $1 ORDER BY u.position, s.slug
        """
    static let history = """
        SELECT seq, recorded_at, actor, action, reason FROM accord.audit_entry
        WHERE chain = $1 AND object_type = 'task' AND object_id = $2 ORDER BY seq
        """
    static let setAssignee = "UPDATE accord.task SET assignee_id = $2, updated_at = now() WHERE id = $1"
    static let setState = """
        UPDATE accord.task SET state = $2, updated_at = now(),
            started_at = CASE WHEN $2 = 'in_progress' AND started_at IS NULL THEN now() ELSE started_at END,
            submitted_at = CASE WHEN $3 THEN now() ELSE submitted_at END,
            submitted_by = CASE WHEN $3 THEN $4 ELSE submitted_by END,
            completed_at = CASE WHEN $2 IN ('done', 'not_applicable') THEN now() WHEN \(TaskState.outstandingSQL("$2")) THEN NULL ELSE completed_at END,
            na_reason = CASE WHEN $2 = 'not_applicable' THEN $5 ELSE na_reason END,
            review_round = CASE WHEN $2 = 'in_review' AND $3 THEN review_round + 1 ELSE review_round END
        WHERE id = $1
        """
    /// Dependents of a finished task whose other dependencies are finished too: now open.
    static let unblockDependents = """
        UPDATE accord.task t SET state = 'open', updated_at = now()
        FROM accord.task_dependency d
        WHERE d.depends_on = $1 AND t.id = d.task_id AND t.state = 'blocked'
          AND NOT EXISTS (SELECT 1 FROM accord.task_dependency d2 JOIN accord.task u ON u.id = d2.depends_on
                          WHERE d2.task_id = t.id AND u.state NOT IN ('done', 'not_applicable'))
        RETURNING t.id, t.template_key, (SELECT slug FROM accord.ai_system WHERE id = t.system_id) AS system, t.instance
        """
    static let dependentsForDue = """
        SELECT t.id, t.template_key FROM accord.task_dependency d JOIN accord.task t ON t.id = d.task_id
        WHERE d.depends_on = $1 AND \(TaskState.outstandingSQL("t.state"))
        """
    static let setDue = "UPDATE accord.task SET due_on = $2::date, updated_at = now() WHERE id = $1"
}

extension TaskSummary {
    init(row: PostgresRow) throws {
        let program = try row.decode(String.self, "program")
        let key = try row.decode(String.self, "template_key")
        let system = try row.decode(String?.self, "system")
        id = try row.decode(Int64.self, "id")
        ref = try row.taskRef()
        self.program = program
        step = try row.decode(String.self, "step_key")
        self.key = key
        self.system = system
        title = try row.decode(String.self, "title")
        ownerRole = try row.decode(String.self, "owner_role")
        state = try row.decode(TaskState.self, "state")
        assignee = try row.decode(String?.self, "assignee")
        dueOn = try row.decode(String?.self, "due_on")
        overdueDays = try row.decode(Int?.self, "overdue_days")
    }
}

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
                let row = try await connection.query(
                    TaskSQL.instance,
                    [
                        program.id, other, dependency.isPerSystem || occasion.sharesSystem ? system?.id : nil,
                        occasion.instance, occasion.cycleID,
                    ]
                ).firstRow
            {
                completed = try row.decode(String?.self, "completed_on").flatMap(CalendarDate.init)
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
            let id = try await connection.query(
                TaskSQL.insert,
                [
                    program.id, step.key, template.key, system?.id, positions[template.key] ?? 0, template.title + occasion.titleSuffix,
                    template.owner,
                    due?.description, occasion.instance, occasion.cycleID, occasion.findingID, occasion.incidentID,
                ]
            )[0].decode(Int64.self, "id")
            created[template.key] = id
        }
        for (_, template) in templates {
            guard let id = created[template.key] else { continue }
            for dependency in template.dependsOn {
                guard let target = workflow.task(dependency) else { continue }
                let systemID = target.isPerSystem || occasion.sharesSystem ? system?.id : nil
                for row in try await connection.query(TaskSQL.instance, [program.id, dependency, systemID, occasion.instance, occasion.cycleID]) {
                    try await connection.execute(TaskSQL.addDependency, [id, try row.decode(Int64.self, "id")])
                    if occasion.cycleID == nil { break }
                }
            }
        }
        if !created.isEmpty {
            try await connection.execute(TaskSQL.settleStates, [PostgresArray(created.values)])
        }
        return created
    }

    // MARK: - Reading

    /// Tasks the actor may see, filtered.
    public func tasks(_ filter: TaskFilter, actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let program = filter.program { _ = try await Self.visibleProgram(program, for: acting, on: connection) }
            let assigneeID = if let handle = filter.assignee { try await Self.person(handle, on: connection).id } else { Int64?.none }
            return try await connection.query(
                TaskSQL.list,
                [
                    filter.program, assigneeID, filter.state?.rawValue, filter.overdueOnly, acting.isAdmin, acting.id, filter.mineOnly,
                ]
            ).map(TaskSummary.init(row:))
        }
    }

    /// One task in detail.
    public func task(_ ref: String, actor: String?) async throws -> TaskDetail {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let summary = try TaskSummary(row: try await connection.query(TaskSQL.one, [id])[0])
            guard let programRow = try await connection.query(ProgramSQL.bySlug, [summary.program]).firstRow else {
                throw AccordError(.notFound, "no program")
            }
            let program = try ProgramRow(row: programRow)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let template = workflow.task(summary.key)
            let extra = try await connection.query(TaskSQL.extra, [id])[0]
            func links(_ sql: String) async throws -> [TaskDetail.Link] {
                try await connection.query(sql, [id]).map { row in
                    TaskDetail.Link(ref: try row.taskRef(), state: try row.decode(TaskState.self, "state"))
                }
            }
            let catalogue = ReferenceCatalogue.builtIn
            let evidenceVersion = try extra.decode(Int.self, "evidence_version")
            let round = try extra.decode(Int.self, "review_round")
            let signatures = try await connection.query(SignatureSQL.forTask, [id]).map(SignatureRecord.init(row:))
            var needed: [String: Int] = [:]
            if summary.state == .inReview, let policy = template?.approval {
                let approvals = try await connection.query(SignatureSQL.approvals, [id, round, evidenceVersion]).map {
                    CountedApproval(role: try $0.decode(String.self, "role"), signerID: try $0.decode(Int64.self, "signer_id"))
                }
                for need in ApprovalEvaluation(policy: policy, approvals: approvals).remaining where need.needed > 0 {
                    needed[need.role] = need.needed
                }
            }
            return TaskDetail(
                task: summary,
                stepTitle: workflow.steps.first { $0.key == summary.step }?.title ?? summary.step,
                description: template?.description,
                refs: (template?.refs ?? []).map {
                    TaskDetail.RefTitle(id: $0, title: catalogue[$0]?.title ?? "", legalOnly: catalogue[$0]?.legalOnly ?? false)
                },
                legalOnly: template?.legalOnly ?? false,
                evidenceRequired: template?.evidence ?? [],
                approval: template?.approval,
                escalation: template?.escalation,
                recurrence: template?.recurrence?.description,
                dependsOn: try await links(TaskSQL.dependsOn),
                dependents: try await links(TaskSQL.dependents),
                submittedBy: try extra.decode(String?.self, "submitted_by"),
                notApplicableReason: try extra.decode(String?.self, "na_reason"),
                retiredReason: try extra.decode(String?.self, "retired_reason"),
                startedAt: try extra.decode(Date?.self, "started_at"),
                submittedAt: try extra.decode(Date?.self, "submitted_at"),
                completedAt: try extra.decode(Date?.self, "completed_at"),
                evidenceVersion: evidenceVersion,
                evidence: try await connection.query(EvidenceSQL.forTask, [id]).map { try EvidenceVersion(row: $0, taskRef: summary.ref) },
                signatures: signatures,
                signaturesNeeded: needed,
                history: try await connection.query(TaskSQL.history, [programChain(summary.program), summary.ref]).map { row in
                    TaskDetail.HistoryEntry(
                        seq: try row.decode(Int64.self, "seq"),
                        at: try row.decode(Date.self, "recorded_at"),
                        actor: try row.decode(String.self, "actor"),
                        action: try row.decode(String.self, "action"),
                        reason: try row.decode(String?.self, "reason")
                    )
                },
                deadlines: try await Self.deadlineEvents(taskID: id, on: connection),
                openFindings: summary.key == workflow.cycle?.review
                    ? try await connection.query(ImprovementSQL.openFindingLines, [program.id]).map(OpenFinding.init(row:)) : []
            )
        }
    }

    /// A task's id from its numeric id or `PROGRAM/TASK[@SYSTEM][+INSTANCE]`, when the person may see its program.
    static func resolveTask(_ ref: String, for person: Person, on connection: PostgresConnection) async throws -> Int64 {
        if let id = Int64(ref) {
            let task = try await lockTask(id, on: connection, lock: false)
            _ = try await visibleProgram(task.programSlug, for: person, absent: "no task \(id)", on: connection)
            return id
        }
        guard let slash = ref.firstIndex(of: "/") else {
            throw AccordError(.invalid, "'\(ref)' is not a task: give its id or PROGRAM/TASK (PROGRAM/TASK@SYSTEM for per-system tasks)")
        }
        let programSlug = String(ref[..<slash])
        var rest = String(ref[ref.index(after: slash)...])
        var instance: String?
        if let plus = rest.firstIndex(of: "+") {
            instance = String(rest[rest.index(after: plus)...])
            rest = String(rest[..<plus])
        }
        let parts = rest.split(separator: "@", maxSplits: 1).map(String.init)
        let key = parts.first ?? ""
        let system = parts.count > 1 ? parts[1] : nil
        let program = try await visibleProgram(programSlug, for: person, on: connection)
        let rows = try await connection.query(TaskSQL.resolve, [program.slug, key, system, instance])
        if rows.isEmpty {
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let hint = closest(to: key, among: workflow.steps.flatMap(\.tasks).map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
            if system == nil, workflow.task(key)?.isPerSystem == true {
                throw AccordError(.notFound, "task '\(key)' applies per AI system and no system of '\(program.slug)' matches it yet")
            }
            throw AccordError(
                .notFound,
                "no task '\(key)\(system.map { "@\($0)" } ?? "")\(instance.map { "+\($0)" } ?? "")' in program '\(program.slug)'\(hint)"
            )
        }
        // Without +INSTANCE the roadmap's own task is meant, when there is one.
        let all = Array(rows)
        let candidates = instance == nil && all.count > 1 ? try all.filter { try $0.decode(String.self, "instance").isEmpty } : all
        let chosen = candidates.isEmpty ? all : candidates
        let firstSystem = try chosen[0].decode(String?.self, "system")
        if chosen.count > 1 || (system == nil && firstSystem != nil) {
            let refs = try chosen.map {
                taskRef(
                    program: program.slug,
                    key: key,
                    system: try $0.decode(String?.self, "system"),
                    instance: try $0.decode(String.self, "instance")
                )
            }
            let what =
                try chosen.contains { try $0.decode(String?.self, "system") != nil }
                ? "once per AI system" : "more than once (per cycle, finding or incident)"
            throw AccordError(
                .invalid,
                "task '\(key)' exists \(what); name one: \(refs.prefix(12).joined(separator: ", "))\(refs.count > 12 ? ", …" : "")"
            )
        }
        return try chosen[0].decode(Int64.self, "id")
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
                    "'\(handle)' holds no role in '\(program.slug)'; bind them first: accord role bind \(program.slug) \(task.ownerRole) \(handle)"
                )
            }
            try await connection.execute(TaskSQL.setAssignee, [task.id, assignee.id])
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
        guard !reason.isEmpty else { throw AccordError(.invalid, "say why the task does not apply: --reason") }
        return try await changeTask(ref, actor: actor) { connection, acting, task, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "mark tasks not applicable", on: connection)
            try await Self.transition(task, .markNotApplicable, workflow: workflow, program: program, actor: acting, reason: reason, on: connection)
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
            return try TaskSummary(row: try await connection.query(TaskSQL.one, [id])[0])
        }
    }

    static func lockTask(_ id: Int64, on connection: PostgresConnection, lock: Bool = true) async throws -> TaskRow {
        let sql = lock ? TaskSQL.lockRow : TaskSQL.row
        guard let row = try await connection.query(sql, [id]).firstRow else { throw AccordError(.notFound, "no task \(id)") }
        return try TaskRow(lockedRow: row, id: id)
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
        try await connection.execute(TaskSQL.setAssignee, [task.id, person.id])
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
        try await connection.executeDeferred(TaskSQL.setState, [task.id, next.rawValue, event == .submit, actor.id, reason])
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
        // Only a template something depends on (or a finding's task) has anything to settle.
        if next.satisfiesDependents, task.findingID != nil || workflow.tasks.contains(where: { $0.task.dependsOn.contains(task.templateKey) }) {
            try await settleDependents(of: task, workflow: workflow, program: program, on: connection)
        }
    }

    /// After a task is finished: dependents due "after" it get their date, and those with nothing left to wait for open.
    static func settleDependents(of task: TaskRow, workflow: Workflow, program: ProgramRow, on connection: PostgresConnection) async throws {
        let today = CalendarDate.today()
        for row in try await connection.query(TaskSQL.dependentsForDue, [task.id]) {
            let key = try row.decode(String.self, "template_key")
            if case .afterTask(let other, let duration) = workflow.task(key)?.due, other == task.templateKey {
                try await connection.execute(TaskSQL.setDue, [try row.decode(Int64.self, "id"), duration.after(today).description])
            }
        }
        for row in try await connection.query(TaskSQL.unblockDependents, [task.id]) {
            let ref = try row.taskRef(program: program.slug)
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
