import AccordCore
import Foundation
import Postgres

enum CycleSQL {
    /// Locks the program's row: opening a cycle, a finding or an incident numbers it after the latest.
    static let lockProgram = PostgresCommand<Int64>("program_lock", "SELECT id FROM accord.program WHERE id = $1 FOR UPDATE")
    static let latest = PostgresQuery<Int64, LatestCycle>(
        "cycle_latest_row",
        """
        SELECT id, number, period, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, to_char(ends_on, 'YYYY-MM-DD') AS ends_on, closed_at
        FROM accord.cycle WHERE program_id = $1 ORDER BY number DESC LIMIT 1
        """,
        row: LatestCycle.init(row:)
    )
    static let insert = PostgresQuery<Int64, Int, String, String, String, String, Int64>(
        "cycle_insert",
        """
        INSERT INTO accord.cycle (program_id, number, period, starts_on, ends_on, opened_by) VALUES ($1, $2, $3, $4::date, $5::date, $6) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// The latest due date of a template's instances (for one system, or program-wide), when it has any;
    /// `nil` too when the date does not parse.
    static let previousDue = PostgresQuery<Int64, String, Int64?, CalendarDate?>(
        "cycle_previous_due",
        """
        SELECT to_char(max(due_on), 'YYYY-MM-DD') AS due_on FROM accord.task
        WHERE program_id = $1 AND template_key = $2 AND system_id IS NOT DISTINCT FROM $3 AND state <> 'retired'
        """
    ) { try $0.decode(String?.self, "due_on").flatMap(CalendarDate.init) }
    static let columns = """
        SELECT c.id, p.slug AS program, c.number, c.period, to_char(c.starts_on, 'YYYY-MM-DD') AS starts_on, to_char(c.ends_on, 'YYYY-MM-DD') AS ends_on,
               c.opened_at, c.opened_by, c.closed_at, c.closed_by, c.kpis
        FROM accord.cycle c JOIN accord.program p ON p.id = c.program_id
        """
    static let forProgram = PostgresQuery<Int64, CycleRow>(
        "cycle_list",
        """
        \(columns)
        WHERE c.program_id = $1 ORDER BY c.number
        """,
        row: CycleRow.init(row:)
    )
    static let one = PostgresQuery<Int64, Int, CycleRow>(
        "cycle_by_number",
        """
        \(columns)
        WHERE c.program_id = $1 AND c.number = $2
        """,
        row: CycleRow.init(row:)
    )
    static let latestOfProgram = PostgresQuery<Int64, CycleRow>(
        "cycle_latest",
        """
        \(columns)
        WHERE c.program_id = $1 ORDER BY c.number DESC LIMIT 1
        """,
        row: CycleRow.init(row:)
    )
    static let tasks = PostgresQuery<Int64, TaskSummary>(
        "cycle_tasks",
        """
        \(TaskSQL.columns)
        WHERE t.cycle_id = $1 ORDER BY t.due_on, t.position, s.slug NULLS FIRST, t.instance
        """,
        row: TaskSummary.init(row:)
    )
    /// The cycle's review tasks (one template's), each with whether top management signed its current round.
    static let review = PostgresQuery<Int64, String, PostgresArray<String>, (state: String, leadershipSigned: Bool)>(
        "cycle_review",
        """
        SELECT t.id, t.state,
               EXISTS (SELECT 1 FROM accord.signature s WHERE s.task_id = t.id AND s.review_round = t.review_round
                       AND s.decision = 'approve' AND s.role = ANY($3::text[])) AS leadership_signed
        FROM accord.task t WHERE t.cycle_id = $1 AND t.template_key = $2 ORDER BY t.id
        """
    ) { (state: try $0.decode(String.self, "state"), leadershipSigned: try $0.decode(Bool.self, "leadership_signed")) }
    static let close = PostgresCommand<Int64, String, PostgresJSON>(
        "cycle_close",
        "UPDATE accord.cycle SET closed_at = now(), closed_by = $2, kpis = $3::jsonb WHERE id = $1 AND closed_at IS NULL"
    )
    static let dueForOpening = PostgresQuery<DueCycle>(
        "cycle_due_for_opening",
        """
        SELECT DISTINCT ON (c.program_id) c.program_id, c.number, c.period, to_char(c.ends_on, 'YYYY-MM-DD') AS ends_on, c.closed_at
        FROM accord.cycle c ORDER BY c.program_id, c.number DESC
        """,
        row: DueCycle.init(row:)
    )
    /// The KPIs over a window of due dates [$2, $3], as of $4 (now, or the closing time).
    static let kpis = PostgresQuery<Int64, String, String, String, CycleKPIs>(
        "cycle_kpis",
        """
        WITH due AS (
            SELECT t.* FROM accord.task t
            WHERE t.program_id = $1 AND t.due_on BETWEEN $2::date AND $3::date AND t.state NOT IN ('retired', 'not_applicable')
        )
        SELECT
            (SELECT count(*) FROM due) AS tasks_due,
            (SELECT count(*) FROM due WHERE due_on <= $4::date) AS due_so_far,
            (SELECT count(*) FROM due WHERE state = 'done' AND (completed_at AT TIME ZONE 'UTC')::date <= due_on) AS done_on_time,
            (SELECT count(*) FROM due WHERE state = 'done' AND (completed_at AT TIME ZONE 'UTC')::date > due_on) AS done_late,
            (SELECT count(*) FROM due WHERE \(TaskState.outstandingSQL("state")) AND due_on < $4::date) AS overdue,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.completed_at - t.submitted_at)) / 3600.0
               FROM accord.task t WHERE t.program_id = $1 AND t.state = 'done' AND t.review_round > 0 AND t.submitted_at IS NOT NULL
                AND (t.completed_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date) AS latency_hours,
            (SELECT count(*) FROM accord.finding f WHERE f.program_id = $1 AND (f.opened_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date) AS findings_opened,
            (SELECT count(*) FROM accord.finding f WHERE f.program_id = $1 AND (f.closed_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date) AS findings_closed,
            (SELECT (avg(extract(epoch FROM f.closed_at - f.opened_at)) / 86400.0)::float8 FROM accord.finding f
              WHERE f.program_id = $1 AND (f.closed_at AT TIME ZONE 'UTC')::date BETWEEN $2::date AND $3::date) AS mean_close_days,
            (SELECT count(*) FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id
              WHERE t.program_id = $1 AND e.kind = 'escalation' AND e.fired_on BETWEEN $2::date AND $3::date) AS escalations
        """,
        row: CycleKPIs.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [
        lockProgram, latest, insert, previousDue, forProgram, one, latestOfProgram, tasks, review, close, dueForOpening, kpis,
    ]
}

/// A program's latest cycle, as opening and closing the next one check it.
struct LatestCycle {
    var id: Int64
    var number: Int
    var startsOn: CalendarDate
    var endsOn: CalendarDate
    var closedAt: Date?

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        number = try row.decode(Int.self, "number")
        startsOn = try row.decode(CalendarDateColumn.self, "starts_on").date
        endsOn = try row.decode(CalendarDateColumn.self, "ends_on").date
        closedAt = try row.decode(Date?.self, "closed_at")
    }
}

/// A cycle's row, with its KPIs as snapshotted at closing (`nil` while it is open).
struct CycleRow {
    var id: Int64
    var program: String
    var number: Int
    var period: String
    var startsOn: CalendarDate
    var endsOn: CalendarDate
    var openedAt: Date
    var openedBy: String
    var closedAt: Date?
    var closedBy: String?
    var kpis: PostgresJSON?

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        program = try row.decode(String.self, "program")
        number = try row.decode(Int.self, "number")
        period = try row.decode(String.self, "period")
        startsOn = try row.decode(CalendarDateColumn.self, "starts_on").date
        endsOn = try row.decode(CalendarDateColumn.self, "ends_on").date
        openedAt = try row.decode(Date.self, "opened_at")
        openedBy = try row.decode(String.self, "opened_by")
        closedAt = try row.decode(Date?.self, "closed_at")
        closedBy = try row.decode(String?.self, "closed_by")
        kpis = try row.decode(PostgresJSON?.self, "kpis")
    }
}

/// The latest cycle of a program, as the scheduler checks whether the next one is due.
struct DueCycle {
    var programID: Int64
    var number: Int
    var period: String
    var endsOn: CalendarDate
    var closedAt: Date?

    init(row: PostgresRow) throws {
        programID = try row.decode(Int64.self, "program_id")
        number = try row.decode(Int.self, "number")
        period = try row.decode(String.self, "period")
        endsOn = try row.decode(CalendarDateColumn.self, "ends_on").date
        closedAt = try row.decode(Date?.self, "closed_at")
    }
}

extension CycleKPIs {
    init(row: PostgresRow) throws {
        let onTime = try row.decode(Int.self, "done_on_time")
        let soFar = try row.decode(Int.self, "due_so_far")
        self.init(
            tasksDue: try row.decode(Int.self, "tasks_due"),
            doneOnTime: onTime,
            doneLate: try row.decode(Int.self, "done_late"),
            overdue: try row.decode(Int.self, "overdue"),
            onTimePercent: percent(onTime, of: soFar),
            signOffLatencyHours: try row.decode(Double?.self, "latency_hours").map { ($0 * 10).rounded() / 10 },
            findingsOpened: try row.decode(Int.self, "findings_opened"),
            findingsClosed: try row.decode(Int.self, "findings_closed"),
            meanDaysToCloseCorrectiveAction: try row.decode(Double?.self, "mean_close_days").map { ($0 * 10).rounded() / 10 },
            escalations: try row.decode(Int.self, "escalations")
        )
    }
}
