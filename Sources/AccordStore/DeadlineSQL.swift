public import AccordCore
import Foundation
public import Postgres

// A deadline event's kind as the column stores it: a value the code does not know is a decoding error.
extension DeadlineKind: PostgresTextEnum {}

/// A task as a deadline pass fires marks on it: read again under its row lock.
struct DeadlineTask {
    var task: TaskRow
    /// `YYYY-MM-DD`, when the task has a due date.
    var dueOn: String?
    var title: String
    var reviewRound: Int
    var evidenceVersion: Int
    var submittedBy: Int64?

    init(row: PostgresRow) throws {
        task = try TaskRow(row: row)
        dueOn = try row.decode(String?.self, "due_on")
        title = try row.decode(String.self, "title")
        reviewRound = try row.decode(Int.self, "review_round")
        evidenceVersion = try row.decode(Int.self, "evidence_version")
        submittedBy = try row.decode(Int64?.self, "submitted_by")
    }
}

enum DeadlineSQL {
    /// Outstanding dated tasks within the horizon, with what already fired for their current due date.
    static let candidates = PostgresQuery<String, (id: Int64, programID: Int64, key: String, due: CalendarDate, fired: Set<String>)>(
        "deadline_candidates",
        """
        SELECT t.id, t.program_id, t.template_key, t.step_key, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               to_json(coalesce(array_agg(e.kind || ':' || e.level) FILTER (WHERE e.id IS NOT NULL), '{}')) AS fired
        FROM accord.task t
        LEFT JOIN accord.deadline_event e ON e.task_id = t.id AND e.due_on = t.due_on
        WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on <= $1::date
        GROUP BY t.id
        ORDER BY t.due_on, t.id
        """
    ) {
        (
            id: try $0.decode(Int64.self, "id"), programID: try $0.decode(Int64.self, "program_id"), key: try $0.decode(String.self, "template_key"),
            due: try $0.decode(CalendarDateColumn.self, "due_on").date, fired: Set(try $0.decode(PostgresJSON.self, "fired").decode([String].self))
        )
    }
    static let workflowsInUse = PostgresQuery<(id: String, version: Int)>(
        "deadline_workflows_in_use",
        "SELECT DISTINCT workflow_id, workflow_version FROM accord.program"
    ) { (id: try $0.decode(String.self, "workflow_id"), version: try $0.decode(Int.self, "workflow_version")) }
    /// The task again, under its row lock, skipping a row someone else is changing (the next pass gets it).
    static let lockForDeadline = PostgresQuery<Int64, DeadlineTask>(
        "deadline_lock_task",
        """
        SELECT t.id, t.program_id, p.slug AS program, t.template_key, t.system_id, sy.slug AS system, t.owner_role, t.state,
               t.assignee_id, a.handle AS assignee, t.instance, t.finding_id, t.incident_id,
               to_char(t.due_on, 'YYYY-MM-DD') AS due_on, t.title, t.submitted_by, t.review_round, t.evidence_version
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system sy ON sy.id = t.system_id LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $1 FOR UPDATE OF t SKIP LOCKED
        """,
        row: DeadlineTask.init(row:)
    )
    /// Records a mark once per (task, kind, level, due date); no row back when it fired already.
    static let insertEvent = PostgresQuery<Int64, DeadlineKind, Int, String, String?, PostgresArray<String>, String, Int64>(
        "deadline_event_insert",
        """
        INSERT INTO accord.deadline_event (task_id, kind, level, due_on, to_role, recipients, fired_on)
        VALUES ($1, $2, $3, $4::date, $5, $6::text[], $7::date)
        ON CONFLICT ON CONSTRAINT deadline_event_once DO NOTHING RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// The enabled holders of any of the roles ($2) in a program ($1), by handle.
    static let holders = PostgresQuery<Int64, PostgresArray<String>, (Int64, String)>(
        "deadline_role_holders",
        """
        SELECT p.id, p.handle FROM accord.role_binding b JOIN accord.person p ON p.id = b.person_id
        WHERE b.program_id = $1 AND b.role = ANY($2::text[]) AND p.disabled_at IS NULL
        ORDER BY p.handle
        """
    ) { (try $0.decode(Int64.self, "id"), try $0.decode(String.self, "handle")) }
    static let signedThisRound = PostgresQuery<Int64, Int, Int, Int64>(
        "deadline_signed_this_round",
        """
        SELECT signer_id FROM accord.signature WHERE task_id = $1 AND review_round = $2 AND evidence_version = $3
        """
    ) { try $0.decode(Int64.self, "signer_id") }
    static let notify = PostgresCommand<Int64, Int64, Int64, String, String>(
        "deadline_notify",
        """
        INSERT INTO accord.notification (person_id, task_id, event_id, kind, message) VALUES ($1, $2, $3, $4, $5)
        """
    )
    /// Records an event on the outbox and queues it for the webhooks that take it: $1 topic, $2 program, $3 payload.
    static let emit = PostgresCommand<String, Int64, PostgresJSON>("outbox_emit", "SELECT accord.emit($1, $2, $3::jsonb) AS id")
    static let ofTask = PostgresQuery<Int64, DeadlineEvent>(
        "deadline_events_of_task",
        "\(forTask)\nWHERE e.task_id = $1 ORDER BY e.id",
        row: DeadlineEvent.init(row:)
    )
    /// The columns `DeadlineEvent` reads, and their tables; followed by a condition and an order.
    static let forTask = """
        SELECT accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref, t.title, e.kind, e.level,
               to_char(e.due_on, 'YYYY-MM-DD') AS due_on, e.to_role, to_json(e.recipients) AS recipients, to_char(e.fired_on, 'YYYY-MM-DD') AS fired_on, e.recorded_at
        FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        """

    static let catalogue: [any PostgresCheckable] = [
        candidates, workflowsInUse, lockForDeadline, insertEvent, holders, signedThisRound, notify, emit, ofTask,
    ]
}

extension DeadlineEvent {
    init(row: PostgresRow) throws {
        task = try row.decode(String.self, "ref")
        title = try row.decode(String.self, "title")
        kind = try row.decode(DeadlineKind.self, "kind")
        level = try row.decode(Int.self, "level")
        dueOn = try row.decode(String.self, "due_on")
        toRole = try row.decode(String?.self, "to_role")
        firedOn = try row.decode(String.self, "fired_on")
        recordedAt = try row.decode(Date.self, "recorded_at")
        // Last: a catalogue probe's placeholder is no JSON array (see `PostgresQuery.check`).
        recipients = try row.decode(PostgresJSON.self, "recipients").decode([String].self)
    }
}
