import AccordCore
import Postgres

enum ProgramSQL {
    /// A program's columns as `ProgramRow` reads them.
    static let rowColumns = "id, slug, title, workflow_id, workflow_version, to_char(starts_on, 'YYYY-MM-DD') AS starts_on"
    static let insert = PostgresQuery<String, String, String, Int, String, Int64, Int64>(
        "program_insert",
        """
        INSERT INTO accord.program (slug, title, workflow_id, workflow_version, starts_on, created_by)
        VALUES ($1, $2, $3, $4, $5::date, $6) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let bySlug = PostgresQuery<String, ProgramRow>(
        "program_by_slug",
        """
        SELECT \(rowColumns)
        FROM accord.program WHERE slug = $1
        """,
        row: ProgramRow.init(row:)
    )
    static let byID = PostgresQuery<Int64, ProgramRow>(
        "program_by_id",
        """
        SELECT \(rowColumns)
        FROM accord.program WHERE id = $1
        """,
        row: ProgramRow.init(row:)
    )
    /// Programs the person may see: all for an administrator, else those where they hold a role.
    static let visible = PostgresQuery<Bool, Int64, ProgramSummary>(
        "program_visible",
        """
        SELECT p.slug, p.title, p.workflow_id, p.workflow_version, to_char(p.starts_on, 'YYYY-MM-DD') AS starts_on,
               count(t.id) FILTER (WHERE t.state <> 'retired') AS tasks,
               count(t.id) FILTER (WHERE t.state IN ('done', 'not_applicable')) AS finished,
               count(t.id) FILTER (WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date) AS overdue
        FROM accord.program p
        LEFT JOIN accord.task t ON t.program_id = p.id
        WHERE $1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $2)
        GROUP BY p.id ORDER BY p.slug
        """,
        row: ProgramSummary.init(row:)
    )
    /// One page of `visible` ($3 limit, $4 offset), the programs chosen before their tasks are counted, so a
    /// page costs its own programs' tasks whatever the estate holds.
    static let visiblePage = PostgresQuery<Bool, Int64, Int64, Int64, Counted<ProgramSummary>>(
        "program_visible_page",
        """
        WITH page AS (
            SELECT p.id, count(*) OVER () AS total FROM accord.program p
            WHERE $1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $2)
            ORDER BY p.slug LIMIT $3 OFFSET $4)
        SELECT page.total, p.slug, p.title, p.workflow_id, p.workflow_version, to_char(p.starts_on, 'YYYY-MM-DD') AS starts_on,
               count(t.id) FILTER (WHERE t.state <> 'retired') AS tasks,
               count(t.id) FILTER (WHERE t.state IN ('done', 'not_applicable')) AS finished,
               count(t.id) FILTER (WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date) AS overdue
        FROM page JOIN accord.program p ON p.id = page.id
        LEFT JOIN accord.task t ON t.program_id = p.id
        GROUP BY p.id, page.total ORDER BY p.slug
        """,
        row: { try Counted(row: $0, ProgramSummary.init(row:)) }
    )
    static let stepCounts = PostgresQuery<Int64, StepCounts>(
        "program_step_counts",
        """
        SELECT step_key,
               count(*) FILTER (WHERE state <> 'retired') AS tasks,
               count(*) FILTER (WHERE state IN ('done', 'not_applicable')) AS finished,
               count(*) FILTER (WHERE state = 'in_review') AS in_review,
               count(*) FILTER (WHERE state = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE state = 'open') AS open,
               count(*) FILTER (WHERE state = 'blocked') AS blocked,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("state")) AND due_on < current_date) AS overdue
        FROM accord.task WHERE program_id = $1 GROUP BY step_key
        """,
        row: StepCounts.init(row:)
    )
    static let nextDeadlines = PostgresQuery<Int64, DeadlineLine>(
        "program_next_deadlines",
        """
        SELECT t.template_key, s.slug AS system, t.instance, t.title, to_char(t.due_on, 'YYYY-MM-DD') AS due_on, t.state, a.handle AS assignee
        FROM accord.task t
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.program_id = $1 AND \(TaskState.outstandingSQL("t.state")) AND t.due_on IS NOT NULL
        ORDER BY t.due_on, t.position LIMIT 5
        """,
        row: DeadlineLine.init(row:)
    )
    static let systemCount = PostgresQuery<Int64, Int>(
        "program_system_count",
        "SELECT count(*) AS n FROM accord.ai_system WHERE program_id = $1"
    ) { try $0.decode(Int.self, "n") }
    static let isMember = PostgresQuery<Int64, Int64, Bool>(
        "program_is_member",
        "SELECT EXISTS (SELECT 1 FROM accord.role_binding WHERE program_id = $1 AND person_id = $2) AS member"
    ) { try $0.decode(Bool.self, "member") }
    static let rolesOf = PostgresQuery<Int64, Int64, String>(
        "program_roles_of_person",
        "SELECT role FROM accord.role_binding WHERE program_id = $1 AND person_id = $2"
    ) { try $0.decode(String.self, "role") }
    static let bindings = PostgresQuery<Int64, (role: String, handle: String)>(
        "program_role_bindings",
        """
        SELECT b.role, p.handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 ORDER BY b.role, p.handle
        """
    ) { (role: try $0.decode(String.self, "role"), handle: try $0.decode(String.self, "handle")) }
    static let bind = PostgresCommand<Int64, String, Int64, Int64>(
        "role_binding_insert",
        """
        INSERT INTO accord.role_binding (program_id, role, person_id, bound_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        """
    )
    static let unbind = PostgresCommand<Int64, String, Int64>(
        "role_binding_delete",
        "DELETE FROM accord.role_binding WHERE program_id = $1 AND role = $2 AND person_id = $3"
    )
    static let countInRole = PostgresQuery<Int64, String, Int>(
        "role_binding_count",
        "SELECT count(*) AS n FROM accord.role_binding WHERE program_id = $1 AND role = $2"
    ) { try $0.decode(Int.self, "n") }

    static let catalogue: [any PostgresCheckable] = [
        visiblePage,
        insert, bySlug, byID, visible, stepCounts, nextDeadlines, systemCount, isMember, rolesOf, bindings, bind, unbind, countInRole,
    ]
}

/// A `to_char(…, 'YYYY-MM-DD')` column read as a `CalendarDate`: text that is not a date is a decoding
/// error naming the column (never a crash), and a catalogue probe's placeholder reads as 2000-01-01.
struct CalendarDateColumn: PostgresDecodable {
    var date: CalendarDate

    static func decode(_ cell: PostgresCell) throws -> CalendarDateColumn {
        let text = try String.decode(cell)
        if cell.isProbe, let any = CalendarDate(year: 2000, month: 1, day: 1) { return CalendarDateColumn(date: any) }
        guard let date = CalendarDate(text) else { throw PostgresCell.Mismatch(expected: "a YYYY-MM-DD date, not '\(text)'") }
        return CalendarDateColumn(date: date)
    }
}

extension ProgramRow {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        slug = try row.decode(String.self, "slug")
        title = try row.decode(String.self, "title")
        workflowID = try row.decode(String.self, "workflow_id")
        workflowVersion = try row.decode(Int.self, "workflow_version")
        startsOn = try row.decode(CalendarDateColumn.self, "starts_on").date
    }
}

extension ProgramSummary {
    init(row: PostgresRow) throws {
        let tasks = try row.decode(Int.self, "tasks")
        let finished = try row.decode(Int.self, "finished")
        self.init(
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

/// A step's task counts by state, as `ProgramSQL.stepCounts` returns them.
struct StepCounts {
    var stepKey: String
    var tasks: Int
    var finished: Int
    var inReview: Int
    var inProgress: Int
    var open: Int
    var blocked: Int
    var overdue: Int

    init(row: PostgresRow) throws {
        stepKey = try row.decode(String.self, "step_key")
        tasks = try row.decode(Int.self, "tasks")
        finished = try row.decode(Int.self, "finished")
        inReview = try row.decode(Int.self, "in_review")
        inProgress = try row.decode(Int.self, "in_progress")
        open = try row.decode(Int.self, "open")
        blocked = try row.decode(Int.self, "blocked")
        overdue = try row.decode(Int.self, "overdue")
    }
}

/// One of a program's next deadlines, before its task ref is made with the program's slug.
struct DeadlineLine {
    var key: String
    var system: String?
    var instance: String
    var title: String
    var dueOn: String
    var state: TaskState
    var assignee: String?

    init(row: PostgresRow) throws {
        key = try row.decode(String.self, "template_key")
        system = try row.decode(String?.self, "system")
        instance = try row.decode(String.self, "instance")
        title = try row.decode(String.self, "title")
        dueOn = try row.decode(String.self, "due_on")
        state = try row.decode(TaskState.self, "state")
        assignee = try row.decode(String?.self, "assignee")
    }
}
