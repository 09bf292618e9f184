import AccordCore
import Foundation
import Postgres

/// A template's task found by `TaskSQL.instance`.
struct TaskInstance {
    var id: Int64
    var state: TaskState
    /// The UTC day it was finished, `YYYY-MM-DD`.
    var completedOn: String?
}

/// A candidate of `TaskSQL.resolve`: one task of the named template.
struct ResolvedTask {
    var id: Int64
    var system: String?
    var instance: String
}

/// The task columns the detail view reads besides its summary.
struct TaskExtra {
    var submittedBy: String?
    var notApplicableReason: String?
    var retiredReason: String?
    var startedAt: Date?
    var submittedAt: Date?
    var completedAt: Date?
    var evidenceVersion: Int
    var reviewRound: Int
}

/// A task of the program `TaskSQL.unblockDependents` opened: its ref without the program.
struct UnblockedTask {
    var key: String
    var system: String?
    var instance: String
}

enum TaskSQL {
    static let insert = PostgresQuery<Int64, String, String, Int64?, Int, String, String, String?, String, Int64?, Int64?, Int64?, Int64>(
        "task_insert",
        """
        INSERT INTO accord.task (program_id, step_key, template_key, system_id, position, title, owner_role, state, due_on,
                                 instance, cycle_id, finding_id, incident_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'blocked', $8::date, $9, $10, $11, $12) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// The instance of a template a new task depends on: the same instance (roadmap, finding, incident), or in a cycle, every occurrence of the cycle.
    static let instance = PostgresQuery<Int64, String, Int64?, String, Int64?, TaskInstance>(
        "task_instance",
        """
        SELECT id, state, to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS completed_on FROM accord.task
        WHERE program_id = $1 AND template_key = $2 AND system_id IS NOT DISTINCT FROM $3
          AND CASE WHEN $5::bigint IS NULL THEN instance = $4 ELSE cycle_id = $5 END
        ORDER BY id
        """
    ) {
        TaskInstance(
            id: try $0.decode(Int64.self, "id"),
            state: try $0.decode(TaskState.self, "state"),
            completedOn: try $0.decode(String?.self, "completed_on")
        )
    }
    static let addDependency = PostgresCommand<Int64, Int64>(
        "task_add_dependency",
        "INSERT INTO accord.task_dependency (task_id, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    )
    /// Sets new tasks open or blocked from their dependencies.
    static let settleStates = PostgresCommand<PostgresArray<Int64>>(
        "task_settle_states",
        """
        UPDATE accord.task t SET state = CASE WHEN EXISTS (
            SELECT 1 FROM accord.task_dependency d JOIN accord.task u ON u.id = d.depends_on
            WHERE d.task_id = t.id AND u.state NOT IN ('done', 'not_applicable')) THEN 'blocked' ELSE 'open' END
        WHERE t.id = ANY($1::bigint[])
        """
    )
    static let resolve = PostgresQuery<String, String, String?, String?, ResolvedTask>(
        "task_resolve",
        """
        SELECT t.id, s.slug AS system, t.instance FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE p.slug = $1 AND t.template_key = $2 AND ($3::text IS NULL OR s.slug = $3) AND ($4::text IS NULL OR t.instance = $4)
        ORDER BY s.slug NULLS FIRST, t.id
        """,
        planning: .perCall
    ) {
        ResolvedTask(
            id: try $0.decode(Int64.self, "id"),
            system: try $0.decode(String?.self, "system"),
            instance: try $0.decode(String.self, "instance")
        )
    }
    /// The columns `TaskRow` reads, of the task `$1`.
    static let rowColumns = """
        SELECT t.id, t.program_id, p.slug AS program, t.template_key, t.system_id, s.slug AS system, t.owner_role, t.state,
               t.assignee_id, a.handle AS assignee, t.instance, t.finding_id, t.incident_id
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $1
        """
    static let row = PostgresQuery<Int64, TaskRow>("task_row", rowColumns, row: TaskRow.init(row:))
    static let lockRow = PostgresQuery<Int64, TaskRow>("task_lock_row", "\(rowColumns) FOR UPDATE OF t", row: TaskRow.init(row:))
    /// The columns `TaskSummary` reads, from the task `t` with its program `p`, system `s` and assignee `a`.
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
    static let list = PostgresQuery<String?, Int64?, TaskState?, Bool, Bool, Int64, Bool, TaskSummary>(
        "task_list",
        """
        \(columns)
        WHERE ($1::text IS NULL OR p.slug = $1)
          AND ($2::bigint IS NULL OR t.assignee_id = $2)
          AND (CASE WHEN $3::text IS NULL THEN t.state <> 'retired' ELSE t.state = $3 END)
          AND (NOT $4 OR (\(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date))
          AND ($5 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6))
          AND (NOT $7 OR t.assignee_id = $6 OR (t.assignee_id IS NULL AND t.owner_role IN
               (SELECT b.role FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6)))
        ORDER BY p.slug, t.position, s.slug NULLS FIRST
        """,
        planning: .perCall,
        row: TaskSummary.init(row:)
    )
    /// One page of `list`, with the narrower filters of the program page ($8 step, $9 owner role, $10 system
    /// slug, $11 unassigned only) and the size of the whole filtered list in `total`; cut in SQL ($12, $13).
    static let page = PostgresQuery<
        String?, Int64?, TaskState?, Bool, Bool, Int64, Bool, String?, String?, String?, Bool, Int64, Int64, Counted<TaskSummary>
    >(
        "task_page",
        """
        \(columns.replacingOccurrences(of: "SELECT ", with: "SELECT count(*) OVER () AS total, ", options: .anchored))
        WHERE ($1::text IS NULL OR p.slug = $1)
          AND ($2::bigint IS NULL OR t.assignee_id = $2)
          AND (CASE WHEN $3::text IS NULL THEN t.state <> 'retired' ELSE t.state = $3 END)
          AND (NOT $4 OR (\(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date))
          AND ($5 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6))
          AND (NOT $7 OR t.assignee_id = $6 OR (t.assignee_id IS NULL AND t.owner_role IN
               (SELECT b.role FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $6)))
          AND ($8::text IS NULL OR t.step_key = $8)
          AND ($9::text IS NULL OR t.owner_role = $9)
          AND ($10::text IS NULL OR s.slug = $10)
          AND (NOT $11 OR t.assignee_id IS NULL)
        ORDER BY p.slug, t.position, s.slug NULLS FIRST, t.id
        LIMIT $12 OFFSET $13
        """,
        planning: .perCall,
        row: { try Counted(row: $0, TaskSummary.init(row:)) }
    )
    /// The person's ($1) open work, in the given states: tasks assigned to them in a program they are a
    /// member of, and unassigned tasks of a role they hold; found from their assignments and role
    /// bindings, never by reading every task. Prepared once per connection: the inbox reads it on every
    /// page view.
    static let mine = PostgresQuery<Int64, PostgresArray<String>, TaskSummary>(
        "task_mine",
        mineSQL(assigned: "AND EXISTS (SELECT 1 FROM accord.role_binding m WHERE m.program_id = a.program_id AND m.person_id = $1)"),
        row: TaskSummary.init(row:)
    )
    /// `mine` for an administrator, whose assigned tasks count in every program.
    static let mineAsAdministrator = PostgresQuery<Int64, PostgresArray<String>, TaskSummary>(
        "task_mine_admin",
        mineSQL(assigned: ""),
        row: TaskSummary.init(row:)
    )
    private static func mineSQL(assigned membership: String) -> String {
        """
        \(columns)
        WHERE t.id IN (
            SELECT a.id FROM accord.task a WHERE a.assignee_id = $1 AND a.state = ANY($2::text[]) \(membership)
            UNION
            SELECT u.id FROM accord.role_binding b
            JOIN accord.task u ON u.program_id = b.program_id AND u.owner_role = b.role AND u.assignee_id IS NULL
            WHERE b.person_id = $1 AND u.state = ANY($2::text[]))
        ORDER BY p.slug, t.position, s.slug NULLS FIRST
        """
    }
    static let one = PostgresQuery<Int64, TaskSummary>("task_one", "\(columns)\nWHERE t.id = $1", row: TaskSummary.init(row:))
    static let extra = PostgresQuery<Int64, TaskExtra>(
        "task_extra",
        """
        SELECT sb.handle AS submitted_by, t.na_reason, t.retired_reason, t.started_at, t.submitted_at, t.completed_at,
               t.evidence_version, t.review_round
        FROM accord.task t LEFT JOIN accord.person sb ON sb.id = t.submitted_by WHERE t.id = $1
        """
    ) {
        TaskExtra(
            submittedBy: try $0.decode(String?.self, "submitted_by"),
            notApplicableReason: try $0.decode(String?.self, "na_reason"),
            retiredReason: try $0.decode(String?.self, "retired_reason"),
            startedAt: try $0.decode(Date?.self, "started_at"),
            submittedAt: try $0.decode(Date?.self, "submitted_at"),
            completedAt: try $0.decode(Date?.self, "completed_at"),
            evidenceVersion: try $0.decode(Int.self, "evidence_version"),
            reviewRound: try $0.decode(Int.self, "review_round")
        )
    }
    static let dependsOn = PostgresQuery<Int64, TaskDetail.Link>(
        "task_depends_on",
        """
        SELECT p.slug AS program, u.template_key, s.slug AS system, u.instance, u.state FROM accord.task_dependency d
        JOIN accord.task u ON u.id = d.depends_on JOIN accord.program p ON p.id = u.program_id
        LEFT JOIN accord.ai_system s ON s.id = u.system_id WHERE d.task_id = $1 ORDER BY u.position, s.slug
        """,
        row: TaskDetail.Link.init(row:)
    )
    static let dependents = PostgresQuery<Int64, TaskDetail.Link>(
        "task_dependents",
        """
        SELECT p.slug AS program, u.template_key, s.slug AS system, u.instance, u.state FROM accord.task_dependency d
        JOIN accord.task u ON u.id = d.task_id JOIN accord.program p ON p.id = u.program_id
        LEFT JOIN accord.ai_system s ON s.id = u.system_id WHERE d.depends_on = $1 ORDER BY u.position, s.slug
        """,
        row: TaskDetail.Link.init(row:)
    )
    static let history = PostgresQuery<String, String, TaskDetail.HistoryEntry>(
        "task_history",
        """
        SELECT seq, recorded_at, actor, action, reason FROM accord.audit_entry
        WHERE chain = $1 AND object_type = 'task' AND object_id = $2 ORDER BY seq
        """
    ) {
        TaskDetail.HistoryEntry(
            seq: try $0.decode(Int64.self, "seq"),
            at: try $0.decode(Date.self, "recorded_at"),
            actor: try $0.decode(String.self, "actor"),
            action: try $0.decode(String.self, "action"),
            reason: try $0.decode(String?.self, "reason")
        )
    }
    static let setAssignee = PostgresCommand<Int64, Int64>(
        "task_set_assignee",
        "UPDATE accord.task SET assignee_id = $2, updated_at = now() WHERE id = $1"
    )
    static let setState = PostgresCommand<Int64, TaskState, Bool, Int64, String?>(
        "task_set_state",
        """
        UPDATE accord.task SET state = $2, updated_at = now(),
            started_at = CASE WHEN $2 = 'in_progress' AND started_at IS NULL THEN now() ELSE started_at END,
            submitted_at = CASE WHEN $3 THEN now() ELSE submitted_at END,
            submitted_by = CASE WHEN $3 THEN $4 ELSE submitted_by END,
            completed_at = CASE WHEN $2 IN ('done', 'not_applicable') THEN now() WHEN \(TaskState.outstandingSQL("$2")) THEN NULL ELSE completed_at END,
            na_reason = CASE WHEN $2 = 'not_applicable' THEN $5 ELSE na_reason END,
            review_round = CASE WHEN $2 = 'in_review' AND $3 THEN review_round + 1 ELSE review_round END
        WHERE id = $1
        """
    )
    /// Dependents of a finished task whose other dependencies are finished too: now open.
    static let unblockDependents = PostgresQuery<Int64, UnblockedTask>(
        "task_unblock_dependents",
        """
        UPDATE accord.task t SET state = 'open', updated_at = now()
        FROM accord.task_dependency d
        WHERE d.depends_on = $1 AND t.id = d.task_id AND t.state = 'blocked'
          AND NOT EXISTS (SELECT 1 FROM accord.task_dependency d2 JOIN accord.task u ON u.id = d2.depends_on
                          WHERE d2.task_id = t.id AND u.state NOT IN ('done', 'not_applicable'))
        RETURNING t.id, t.template_key, (SELECT slug FROM accord.ai_system WHERE id = t.system_id) AS system, t.instance
        """
    ) {
        UnblockedTask(
            key: try $0.decode(String.self, "template_key"),
            system: try $0.decode(String?.self, "system"),
            instance: try $0.decode(String.self, "instance")
        )
    }
    static let dependentsForDue = PostgresQuery<Int64, (id: Int64, key: String)>(
        "task_dependents_for_due",
        """
        SELECT t.id, t.template_key FROM accord.task_dependency d JOIN accord.task t ON t.id = d.task_id
        WHERE d.depends_on = $1 AND \(TaskState.outstandingSQL("t.state"))
        """
    ) { (id: try $0.decode(Int64.self, "id"), key: try $0.decode(String.self, "template_key")) }
    static let setDue = PostgresCommand<Int64, String?>(
        "task_set_due",
        "UPDATE accord.task SET due_on = $2::date, updated_at = now() WHERE id = $1"
    )

    static let catalogue: [any PostgresCheckable] = [
        page,
        insert, instance, addDependency, settleStates, resolve, row, lockRow, list, mine, mineAsAdministrator, one, extra, dependsOn, dependents,
        history,
        setAssignee, setState, unblockDependents, dependentsForDue, setDue,
    ]
}

extension TaskDetail.Link {
    /// From a row with the columns `program`, `template_key`, `system`, `instance` and `state`.
    init(row: PostgresRow) throws {
        self.init(ref: try row.taskRef(), state: try row.decode(TaskState.self, "state"))
    }
}
