public import AccordCore
import Foundation
import Postgres

/// A program in lists.
public struct ProgramSummary: Codable, Sendable, Equatable {
    public var slug: String
    public var title: String
    public var workflow: String
    public var workflowVersion: Int
    public var startsOn: String
    public var tasks: Int
    public var finished: Int
    public var overdue: Int
    /// Finished (done or not applicable) as a share of tasks in scope, 0 to 100.
    public var progress: Int
}

/// A program in detail: progress per step, overdue counts, next deadlines.
public struct ProgramDetail: Codable, Sendable, Equatable {
    public struct StepProgress: Codable, Sendable, Equatable {
        public var key: String
        public var title: String
        public var tasks: Int
        public var finished: Int
        public var inReview: Int
        public var inProgress: Int
        public var open: Int
        public var blocked: Int
        public var overdue: Int
        public var progress: Int
    }
    public struct Deadline: Codable, Sendable, Equatable {
        public var task: String
        public var title: String
        public var dueOn: String
        public var state: TaskState
        public var assignee: String?
    }
    public var summary: ProgramSummary
    public var steps: [StepProgress]
    public var nextDeadlines: [Deadline]
    public var roles: [RoleMembers]
    public var systems: Int
}

/// Who holds a role in a program.
public struct RoleMembers: Codable, Sendable, Equatable {
    public var role: String
    public var title: String
    public var leadership: Bool
    public var manager: Bool
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

enum ProgramSQL {
    static let insert = """
        INSERT INTO accord.program (slug, title, workflow_id, workflow_version, starts_on, created_by)
        VALUES ($1, $2, $3, $4, $5::date, $6) RETURNING id
        """
    static let bySlug = """
        SELECT id, slug, title, workflow_id, workflow_version, to_char(starts_on, 'YYYY-MM-DD') AS starts_on
        FROM accord.program WHERE slug = $1
        """
    static let byID = """
        SELECT id, slug, title, workflow_id, workflow_version, to_char(starts_on, 'YYYY-MM-DD') AS starts_on
        FROM accord.program WHERE id = $1
        """
    /// Programs the person may see: all for an administrator, else those where they hold a role.
    static let visible = """
        SELECT p.slug, p.title, p.workflow_id, p.workflow_version, to_char(p.starts_on, 'YYYY-MM-DD') AS starts_on,
               count(t.id) FILTER (WHERE t.state <> 'retired') AS tasks,
               count(t.id) FILTER (WHERE t.state IN ('done', 'not_applicable')) AS finished,
               count(t.id) FILTER (WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date) AS overdue
        FROM accord.program p
        LEFT JOIN accord.task t ON t.program_id = p.id
        WHERE $1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $2)
        GROUP BY p.id ORDER BY p.slug
        """
    static let stepCounts = """
        SELECT step_key,
               count(*) FILTER (WHERE state <> 'retired') AS tasks,
               count(*) FILTER (WHERE state IN ('done', 'not_applicable')) AS finished,
               count(*) FILTER (WHERE state = 'in_review') AS in_review,
               count(*) FILTER (WHERE state = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE state = 'open') AS open,
               count(*) FILTER (WHERE state = 'blocked') AS blocked,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("state")) AND due_on < current_date) AS overdue
        FROM accord.task WHERE program_id = $1 GROUP BY step_key
        """
    static let nextDeadlines = """
        SELECT t.template_key, s.slug AS system, t.instance, t.title, to_char(t.due_on, 'YYYY-MM-DD') AS due_on, t.state, a.handle AS assignee
        FROM accord.task t
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.program_id = $1 AND \(TaskState.outstandingSQL("t.state")) AND t.due_on IS NOT NULL
        ORDER BY t.due_on, t.position LIMIT 5
        """
    static let systemCount = "SELECT count(*) AS n FROM accord.ai_system WHERE program_id = $1"
    static let isMember = "SELECT EXISTS (SELECT 1 FROM accord.role_binding WHERE program_id = $1 AND person_id = $2) AS member"
    static let rolesOf = "SELECT role FROM accord.role_binding WHERE program_id = $1 AND person_id = $2"
    static let bindings = """
        SELECT b.role, p.handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 ORDER BY b.role, p.handle
        """
    static let bind = """
        INSERT INTO accord.role_binding (program_id, role, person_id, bound_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        """
    static let unbind = "DELETE FROM accord.role_binding WHERE program_id = $1 AND role = $2 AND person_id = $3"
    static let countInRole = "SELECT count(*) AS n FROM accord.role_binding WHERE program_id = $1 AND role = $2"
}

extension ProgramRow {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        slug = try row.decode(String.self, "slug")
        title = try row.decode(String.self, "title")
        workflowID = try row.decode(String.self, "workflow_id")
        workflowVersion = try row.decode(Int.self, "workflow_version")
        startsOn = CalendarDate(try row.decode(String.self, "starts_on"))!
    }
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
            throw AccordError(.invalid, "program slug '\(slug)' must be lowercase letters, digits and dashes; give one with --slug")
        }
        guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw AccordError(.invalid, "the program's title must not be empty") }
        let id: Int64 = try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator starts programs; '\(acting.handle)' is not one") }
            let workflow = try await Self.workflow(workflowID, version: version, on: connection)
            let start = startsOn ?? CalendarDate.today()
            let id: Int64
            do {
                id = try await connection.query(ProgramSQL.insert, [slug, title, workflow.id, workflow.version, start.description, acting.id])[0]
                    .decode(Int64.self, "id")
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccordError(.conflict, "a program with slug '\(slug)' already exists; choose another with --slug")
            }
            try await connection.execute(AuditSQL.createChain, [programChain(slug)])
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
            return try await connection.query(ProgramSQL.visible, [acting.isAdmin, acting.id]).map { row in
                let tasks = try row.decode(Int.self, "tasks")
                let finished = try row.decode(Int.self, "finished")
                return ProgramSummary(
                    slug: try row.decode(String.self, "slug"),
                    title: try row.decode(String.self, "title"),
                    workflow: try row.decode(String.self, "workflow_id"),
                    workflowVersion: try row.decode(Int.self, "workflow_version"),
                    startsOn: try row.decode(String.self, "starts_on"),
                    tasks: tasks,
                    finished: finished,
                    overdue: try row.decode(Int.self, "overdue"),
                    progress: percent(finished, of: tasks)
                )
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
            guard let row = try await connection.query(ProgramSQL.byID, [id]).firstRow else { throw AccordError(.notFound, "no program \(id)") }
            let program = try ProgramRow(row: row)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            var counts: [String: PostgresRow] = [:]
            for row in try await connection.query(ProgramSQL.stepCounts, [id]) { counts[try row.decode(String.self, "step_key")] = row }
            var steps: [ProgramDetail.StepProgress] = []
            for step in workflow.steps {
                let row = counts[step.key]
                func n(_ column: String) throws -> Int { try row?.decode(Int.self, column) ?? 0 }
                steps.append(
                    .init(
                        key: step.key,
                        title: step.title,
                        tasks: try n("tasks"),
                        finished: try n("finished"),
                        inReview: try n("in_review"),
                        inProgress: try n("in_progress"),
                        open: try n("open"),
                        blocked: try n("blocked"),
                        overdue: try n("overdue"),
                        progress: percent(try n("finished"), of: try n("tasks"))
                    )
                )
            }
            let deadlines = try await connection.query(ProgramSQL.nextDeadlines, [id]).map { row in
                ProgramDetail.Deadline(
                    task: try row.taskRef(program: program.slug),
                    title: try row.decode(String.self, "title"),
                    dueOn: try row.decode(String.self, "due_on"),
                    state: try row.decode(TaskState.self, "state"),
                    assignee: try row.decode(String?.self, "assignee")
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
                systems: try await connection.query(ProgramSQL.systemCount, [id])[0].decode(Int.self, "n")
            )
        }
    }

    /// The program, when the person may see it: administrators see all, others where they hold a role.
    /// Others get "not found", so a program's existence does not leak.
    /// Runs `body` on a connection with the acting person and a program they may see.
    func reading<Result>(
        program slug: String,
        actor: String?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, Person, ProgramRow) async throws -> sending Result
    ) async throws -> sending Result {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await body(connection, acting, try await Self.visibleProgram(slug, for: acting, on: connection))
        }
    }

    /// Runs `body` in one transaction with the acting person, a program they may see and its workflow.
    func changing<Result>(
        program slug: String,
        actor: String?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, Person, ProgramRow, Workflow) async throws -> sending Result
    ) async throws -> sending Result {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            return try await body(
                connection,
                acting,
                program,
                try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            )
        }
    }

    static func visibleProgram(_ slug: String, for person: Person, on connection: PostgresConnection) async throws -> ProgramRow {
        guard let row = try await connection.query(ProgramSQL.bySlug, [slug]).firstRow else {
            throw AccordError(.notFound, "no program '\(slug)'; 'accord program list' shows yours")
        }
        let program = try ProgramRow(row: row)
        if !person.isAdmin {
            guard try await isMember(person.id, of: program, on: connection) else {
                throw AccordError(.notFound, "no program '\(slug)'; 'accord program list' shows yours")
            }
        }
        return program
    }

    /// The program of an object the person asked for by its id: when they may not see the program, the
    /// refusal is `absent`, the same words as for an object that does not exist, never the program's slug.
    static func visibleProgram(_ slug: String, for person: Person, absent: String, on connection: PostgresConnection) async throws -> ProgramRow {
        do {
            return try await visibleProgram(slug, for: person, on: connection)
        } catch let error as AccordError where error.code == .notFound {
            throw AccordError(.notFound, absent)
        }
    }

    /// Whether a person holds any role in a program.
    static func isMember(_ personID: Int64, of program: ProgramRow, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query(ProgramSQL.isMember, [program.id, personID])[0].decode(Bool.self, "member")
    }

    /// The roles a person holds in a program.
    static func roles(of person: Person, in program: ProgramRow, on connection: PostgresConnection) async throws -> Set<String> {
        Set(try await connection.query(ProgramSQL.rolesOf, [program.id, person.id]).map { try $0.decode(String.self, "role") })
    }

    /// Refuses unless the person is an administrator or holds a manager role of the program's workflow.
    static func requireManager(
        _ person: Person,
        of program: ProgramRow,
        workflow: Workflow,
        to doWhat: String,
        on connection: PostgresConnection
    ) async throws {
        if person.isAdmin { return }
        guard workflow.isManager(holding: try await roles(of: person, in: program, on: connection)) else {
            let names = workflow.roles.filter(\.manager).map { "'\($0.key)'" }.joined(separator: " or ")
            throw AccordError(
                .forbidden,
                "only an administrator or a holder of \(names) in '\(program.slug)' may \(doWhat); '\(person.handle)' is neither"
            )
        }
    }

    static func roleMembers(_ program: ProgramRow, _ workflow: Workflow, on connection: PostgresConnection) async throws -> [RoleMembers] {
        var members: [String: [String]] = [:]
        for row in try await connection.query(ProgramSQL.bindings, [program.id]) {
            members[try row.decode(String.self, "role"), default: []].append(try row.decode(String.self, "handle"))
        }
        return workflow.roles.map {
            RoleMembers(role: $0.key, title: $0.title, leadership: $0.leadership, manager: $0.manager, members: members[$0.key] ?? [])
        }
    }

    /// Binds people to a role of a program.
    public func bindRole(program slug: String, role: String, handles: [String], actor: String?) async throws -> RoleMembers {
        try await changeBinding(program: slug, role: role, handles: handles, actor: actor, bind: true)
    }

    /// Removes people from a role of a program.
    public func unbindRole(program slug: String, role: String, handles: [String], actor: String?) async throws -> RoleMembers {
        try await changeBinding(program: slug, role: role, handles: handles, actor: actor, bind: false)
    }

    private func changeBinding(program slug: String, role: String, handles: [String], actor: String?, bind: Bool) async throws -> RoleMembers {
        guard !handles.isEmpty else { throw AccordError(.invalid, "name at least one person") }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            guard let roleDefinition = workflow.role(role) else {
                let hint = closest(to: role, among: workflow.roles.map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
                throw AccordError(
                    .notFound,
                    "workflow \(workflow.id) has no role '\(role)'\(hint) (roles: \(workflow.roles.map(\.key).joined(separator: ", ")))"
                )
            }
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "change role bindings", on: connection)
            let grantsAuthority = roleDefinition.leadership || workflow.grantsAuthority(role: role)
            for handle in handles {
                let person = try await Self.person(handle, on: connection)
                // A manager does not give themselves the authority to sign or to lead: an administrator does.
                if bind, grantsAuthority, person.id == acting.id, !acting.isAdmin {
                    throw AccordError(
                        .forbidden,
                        "'\(role)' signs or leads in '\(slug)'; \(acting.handle) may not bind themselves into it, an administrator does"
                    )
                }
                let changed = try await connection.execute(
                    bind ? ProgramSQL.bind : ProgramSQL.unbind,
                    bind ? [program.id, role, person.id, acting.id] : [program.id, role, person.id]
                )
                if changed == 0 {
                    if !bind { throw AccordError(.notFound, "'\(handle)' does not hold '\(role)' in '\(slug)'") }
                    continue
                }
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(slug),
                        actor: acting.handle,
                        action: bind ? "role.bind" : "role.unbind",
                        objectType: "role",
                        objectID: role,
                        after: auditJSON(["person": handle, "role": role])
                    )
                )
            }
            if let max = roleDefinition.maxMembers {
                let count = try await connection.query(ProgramSQL.countInRole, [program.id, role])[0].decode(Int.self, "n")
                if count > max { throw AccordError(.conflict, "role '\(role)' allows at most \(max) members in a program; it would have \(count)") }
            }
            return try await Self.roleMembers(program, workflow, on: connection).first { $0.role == role }!
        }
    }

    /// The roles of a program with their members.
    public func roles(program slug: String, actor: String?) async throws -> [RoleMembers] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            return try await Self.roleMembers(program, workflow, on: connection)
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
