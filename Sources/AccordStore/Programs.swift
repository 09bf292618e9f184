public import AccordCore
import Foundation
import Postgres

/// A program in lists.
public struct ProgramSummary: Codable, Sendable, Equatable {
    /// The program's slug, its name in commands and URLs.
    public var slug: String
    /// The program's title.
    public var title: String
    /// The id of the workflow it runs.
    public var workflow: String
    /// The workflow version it runs.
    public var workflowVersion: Int
    /// When the program started, `YYYY-MM-DD`.
    public var startsOn: String
    /// Its tasks, retired ones left out.
    public var tasks: Int
    /// Of those, done or not applicable.
    public var finished: Int
    /// Of those, outstanding and past their due date.
    public var overdue: Int
    /// Finished (done or not applicable) as a share of tasks in scope, 0 to 100.
    public var progress: Int
}

/// A program in detail: progress per step, overdue counts, next deadlines.
public struct ProgramDetail: Codable, Sendable, Equatable {
    /// One workflow step's tasks, counted by state.
    public struct StepProgress: Codable, Sendable, Equatable {
        /// The step's key in the workflow.
        public var key: String
        /// The step's title.
        public var title: String
        /// Its tasks, retired ones left out.
        public var tasks: Int
        /// Of those, done or not applicable.
        public var finished: Int
        /// Of those, in review.
        public var inReview: Int
        /// Of those, in progress.
        public var inProgress: Int
        /// Of those, open.
        public var open: Int
        /// Of those, blocked by their dependencies.
        public var blocked: Int
        /// Of those, outstanding and past their due date.
        public var overdue: Int
        /// Finished as a share of the step's tasks, 0 to 100.
        public var progress: Int
    }
    /// An outstanding task with a due date.
    public struct Deadline: Codable, Sendable, Equatable {
        /// The task's ref.
        public var task: String
        /// The task's title.
        public var title: String
        /// When it is due, `YYYY-MM-DD`.
        public var dueOn: String
        /// Its state.
        public var state: TaskState
        /// Its assignee's handle, when it has one.
        public var assignee: String?
    }
    /// The program's figures, as lists show them.
    public var summary: ProgramSummary
    /// Progress per workflow step, in the workflow's order.
    public var steps: [StepProgress]
    /// The five outstanding tasks due soonest.
    public var nextDeadlines: [Deadline]
    /// The workflow's roles with who holds them.
    public var roles: [RoleMembers]
    /// How many AI systems the program's inventory holds.
    public var systems: Int
}

/// Who holds a role in a program.
public struct RoleMembers: Codable, Sendable, Equatable {
    /// The role's key in the workflow.
    public var role: String
    /// The role's title.
    public var title: String
    /// Whether the role is top management.
    public var leadership: Bool
    /// Whether the role manages the program.
    public var manager: Bool
    /// The handles of the people who hold it, in order.
    public var members: [String]
}

/// A program's row, as the engine works with it.
struct ProgramRow {
    var id: Int64
    var slug: String
    var title: String
    var workflowID: String
    var workflowVersion: Int
    var startsOn: CalendarDate
}

/// A slug from a title: lowercase words joined by dashes.
func slugify(_ text: String) -> String {
    let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX")).lowercased()
    var slug = ""
    for scalar in folded.unicodeScalars {
        if ("a"..."z").contains(Character(scalar)) || ("0"..."9").contains(Character(scalar)) {
            slug.unicodeScalars.append(scalar)
        } else if !slug.isEmpty && !slug.hasSuffix("-") {
            slug += "-"
        }
    }
    while slug.hasSuffix("-") { slug.removeLast() }
    return String(slug.prefix(63))
}

func percent(_ part: Int, of whole: Int) -> Int { whole == 0 ? 0 : Int((Double(part) * 100 / Double(whole)).rounded(.down)) }

extension Store {
    /// Starts a program of a workflow: instantiates its steps' tasks with their due dates and
    /// dependencies (per-system tasks come when AI systems are added). Administrators only.
    public func startProgram(
        workflow workflowID: String,
        version: Int?,
        title: String,
        slug: String?,
        startsOn: CalendarDate?,
        actor: String?
    ) async throws -> ProgramDetail {
        let slug = slug ?? slugify(title)
        guard slug.range(of: #"^[a-z0-9][a-z0-9-]{0,62}$"#, options: .regularExpression) != nil else {
            throw AccordError(.invalid, "program slug '\(slug)' must be lowercase letters, digits and dashes", field: "slug")
        }
        guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw AccordError(.invalid, "the program's title must not be empty") }
        let id: Int64 = try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator starts programs; '\(acting.handle)' is not one") }
            let workflow = try await Self.workflow(workflowID, version: version, on: connection)
            let start = startsOn ?? CalendarDate.today()
            let id: Int64
            do {
                id = try await connection.queryOne(ProgramSQL.insert, slug, title, workflow.id, workflow.version, start.description, acting.id)
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccordError(.conflict, "a program with slug '\(slug)' already exists; choose another", field: "slug")
            }
            try await connection.execute(AuditSQL.createChain, programChain(slug))
            let program = ProgramRow(id: id, slug: slug, title: title, workflowID: workflow.id, workflowVersion: workflow.version, startsOn: start)
            let created = try await Self.instantiate(
                workflow.roadmapTasks.filter { !$0.task.isPerSystem },
                of: workflow,
                in: program,
                system: nil,
                on: connection
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "program.start",
                    objectType: "program",
                    objectID: slug,
                    after: auditJSON(
                        ProgramStartRecord(
                            title: title,
                            workflow: workflow.id,
                            version: workflow.version,
                            startsOn: start.description,
                            tasks: created.count
                        )
                    )
                )
            )
            return id
        }
        return try await programDetail(id: id)
    }

    /// The programs a person may see, with progress.
    public func programs(actor: String?) async throws -> [ProgramSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(ProgramSQL.visible, acting.isAdmin, acting.id)
        }
    }

    /// One page of the programs a person may see, with progress, cut in SQL.
    public func programs(actor: String?, paging: Paging) async throws -> Paged<ProgramSummary> {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await Self.paged(paging) { limit, offset in
                try await connection.query(ProgramSQL.visiblePage, acting.isAdmin, acting.id, limit, offset)
            }
        }
    }

    /// A program in detail, if the person may see it.
    public func program(_ slug: String, actor: String?) async throws -> ProgramDetail {
        let id: Int64 = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await Self.visibleProgram(slug, for: acting, on: connection).id
        }
        return try await programDetail(id: id)
    }

    func programDetail(id: Int64) async throws -> ProgramDetail {
        try await pool.withConnection { connection in
            guard let program = try await connection.queryFirst(ProgramSQL.byID, id) else { throw AccordError(.notFound, "no program \(id)") }
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let steps = Self.stepProgress(of: workflow, counts: try await connection.query(ProgramSQL.stepCounts, id))
            let deadlines = try await connection.query(ProgramSQL.nextDeadlines, id).map { line in
                ProgramDetail.Deadline(
                    task: taskRef(program: program.slug, key: line.key, system: line.system, instance: line.instance),
                    title: line.title,
                    dueOn: line.dueOn,
                    state: line.state,
                    assignee: line.assignee
                )
            }
            let tasks = steps.reduce(0) { $0 + $1.tasks }
            let finished = steps.reduce(0) { $0 + $1.finished }
            let summary = ProgramSummary(
                slug: program.slug,
                title: program.title,
                workflow: program.workflowID,
                workflowVersion: program.workflowVersion,
                startsOn: program.startsOn.description,
                tasks: tasks,
                finished: finished,
                overdue: steps.reduce(0) { $0 + $1.overdue },
                progress: percent(finished, of: tasks)
            )
            return ProgramDetail(
                summary: summary,
                steps: steps,
                nextDeadlines: deadlines,
                roles: try await Self.roleMembers(program, workflow, on: connection),
                systems: try await connection.queryOne(ProgramSQL.systemCount, id)
            )
        }
    }

    /// Every step of the workflow, in its order, with its tasks' counts (zero for a step without tasks).
    private static func stepProgress(of workflow: Workflow, counts rows: [StepCounts]) -> [ProgramDetail.StepProgress] {
        var counts: [String: StepCounts] = [:]
        for row in rows { counts[row.stepKey] = row }
        return workflow.steps.map { step in
            let row = counts[step.key]
            return .init(
                key: step.key,
                title: step.title,
                tasks: row?.tasks ?? 0,
                finished: row?.finished ?? 0,
                inReview: row?.inReview ?? 0,
                inProgress: row?.inProgress ?? 0,
                open: row?.open ?? 0,
                blocked: row?.blocked ?? 0,
                overdue: row?.overdue ?? 0,
                progress: percent(row?.finished ?? 0, of: row?.tasks ?? 0)
            )
        }
    }
}

struct ProgramStartRecord: Encodable {
    var title: String
    var workflow: String
    var version: Int
    var startsOn: String
    var tasks: Int
}
