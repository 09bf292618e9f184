public import AccordCore
import Foundation
public import Postgres

// Stored as their raw text, so rows decode into them directly (see DomainColumns.swift).
extension FindingSource: PostgresTextEnum {}
extension FindingSeverity: PostgresTextEnum {}
extension IncidentKind: PostgresTextEnum {}

enum ImprovementSQL {
    static let nextFinding = PostgresQuery<Int64, Int>(
        "finding_next_number",
        "SELECT coalesce(max(number), 0) + 1 AS n FROM accord.finding WHERE program_id = $1"
    ) { try $0.decode(Int.self, "n") }
    static let nextIncident = PostgresQuery<Int64, Int>(
        "incident_next_number",
        "SELECT coalesce(max(number), 0) + 1 AS n FROM accord.incident WHERE program_id = $1"
    ) { try $0.decode(Int.self, "n") }
    static let system = PostgresQuery<Int64, String, SystemRow>(
        "improvement_system",
        "SELECT id, slug, profile, to_char(added_on, 'YYYY-MM-DD') AS added_on FROM accord.ai_system WHERE program_id = $1 AND slug = $2",
        row: SystemRow.init(row:)
    )
    static let openCycle = PostgresQuery<Int64, Int64>(
        "finding_open_cycle",
        "SELECT id FROM accord.cycle WHERE program_id = $1 AND closed_at IS NULL"
    ) { try $0.decode(Int64.self, "id") }
    static let insertFinding = PostgresQuery<Int64, Int, FindingSource, FindingSeverity, String, Int64?, Int64?, Int64?, Int64, Int64>(
        "finding_insert",
        """
        INSERT INTO accord.finding (program_id, number, source, severity, title, system_id, incident_id, cycle_id, opened_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let findingColumns = """
        SELECT f.id, p.slug AS program, f.number, f.source, f.severity, f.title, s.slug AS system, i.number AS incident, c.number AS cycle,
               f.root_cause, f.opened_at, o.handle AS opened_by, f.closed_at
        FROM accord.finding f JOIN accord.program p ON p.id = f.program_id JOIN accord.person o ON o.id = f.opened_by
        LEFT JOIN accord.ai_system s ON s.id = f.system_id LEFT JOIN accord.incident i ON i.id = f.incident_id
        LEFT JOIN accord.cycle c ON c.id = f.cycle_id
        """
    static let findings = PostgresQuery<Int64, Bool, FindingRow>(
        "finding_list",
        """
        \(findingColumns)
        WHERE f.program_id = $1 AND (NOT $2 OR f.closed_at IS NULL) ORDER BY f.number
        """,
        row: FindingRow.init(row:)
    )
    static let finding = PostgresQuery<Int64, Int, FindingRow>(
        "finding_by_number",
        """
        \(findingColumns)
        WHERE f.program_id = $1 AND f.number = $2
        """,
        row: FindingRow.init(row:)
    )
    static let findingByID = PostgresQuery<Int64, FindingRow>(
        "finding_by_id",
        """
        \(findingColumns)
        WHERE f.id = $1
        """,
        row: FindingRow.init(row:)
    )
    static let lockFinding = PostgresQuery<Int64, Int, LockedFinding>(
        "finding_lock",
        "SELECT id, number, root_cause, closed_at FROM accord.finding WHERE program_id = $1 AND number = $2 FOR UPDATE",
        row: LockedFinding.init(row:)
    )
    /// A row when the person is assigned one of the finding's tasks.
    static let worksOnFinding = PostgresQuery<Int64, Int64, Bool>(
        "finding_works_on",
        "SELECT 1 FROM accord.task WHERE finding_id = $1 AND assignee_id = $2"
    ) { _ in true }
    static let setRootCause = PostgresCommand<Int64, String>(
        "finding_set_root_cause",
        "UPDATE accord.finding SET root_cause = $2 WHERE id = $1"
    )
    static let findingTasks = PostgresQuery<Int64, (state: TaskState, key: String)>(
        "finding_task_states",
        "SELECT t.state, t.template_key FROM accord.task t WHERE t.finding_id = $1"
    ) { (state: try $0.decode(TaskState.self, "state"), key: try $0.decode(String.self, "template_key")) }
    /// Closes the finding unless it is closed already; returns its number when it closed it.
    static let closeFinding = PostgresQuery<Int64, Int>(
        "finding_close",
        "UPDATE accord.finding SET closed_at = now() WHERE id = $1 AND closed_at IS NULL RETURNING number, program_id"
    ) { try $0.decode(Int.self, "number") }
    static let insertIncident = PostgresQuery<Int64, Int, Int64, IncidentKind, Date, Date, String, Int64, Int64>(
        "incident_insert",
        """
        INSERT INTO accord.incident (program_id, number, system_id, kind, aware_at, report_due_at, summary, reported_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let incidentColumns = """
        SELECT i.id, p.slug AS program, i.number, s.slug AS system, i.kind, i.summary, i.aware_at, i.report_due_at, r.handle AS reported_by,
               (SELECT f.number FROM accord.finding f WHERE f.incident_id = i.id ORDER BY f.number LIMIT 1) AS finding
        FROM accord.incident i JOIN accord.program p ON p.id = i.program_id JOIN accord.ai_system s ON s.id = i.system_id
        JOIN accord.person r ON r.id = i.reported_by
        """
    static let incidents = PostgresQuery<Int64, IncidentRow>(
        "incident_list",
        """
        \(incidentColumns)
        WHERE i.program_id = $1 ORDER BY i.number
        """,
        row: IncidentRow.init(row:)
    )
    static let incident = PostgresQuery<Int64, Int, IncidentRow>(
        "incident_by_number",
        """
        \(incidentColumns)
        WHERE i.program_id = $1 AND i.number = $2
        """,
        row: IncidentRow.init(row:)
    )
    static let openFindingLines = PostgresQuery<Int64, OpenFinding>(
        "finding_open_lines",
        """
        SELECT f.number, f.severity, f.source, s.slug AS system, f.title, f.opened_at FROM accord.finding f
        LEFT JOIN accord.ai_system s ON s.id = f.system_id WHERE f.program_id = $1 AND f.closed_at IS NULL ORDER BY f.number
        """,
        row: OpenFinding.init(row:)
    )
    static let tasksOfFinding = PostgresQuery<Int64, TaskSummary>(
        "finding_tasks",
        """
        \(TaskSQL.columns)
        WHERE t.finding_id = $1 ORDER BY t.position, t.id
        """,
        row: TaskSummary.init(row:)
    )
    static let tasksOfIncident = PostgresQuery<Int64, TaskSummary>(
        "incident_tasks",
        """
        \(TaskSQL.columns)
        WHERE t.incident_id = $1 ORDER BY t.position, t.id
        """,
        row: TaskSummary.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [
        nextFinding, nextIncident, system, openCycle, insertFinding, findings, finding, findingByID, lockFinding, worksOnFinding,
        setRootCause, findingTasks, closeFinding, insertIncident, incidents, incident, openFindingLines, tasksOfFinding, tasksOfIncident,
    ]
}

/// A finding's row: its id, and the finding without its tasks (`Store.finding(row:on:)` adds them).
struct FindingRow {
    var id: Int64
    var finding: Finding

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        finding = Finding(
            program: try row.decode(String.self, "program"),
            number: try row.decode(Int.self, "number"),
            source: try row.decode(FindingSource.self, "source"),
            severity: try row.decode(FindingSeverity.self, "severity"),
            title: try row.decode(String.self, "title"),
            system: try row.decode(String?.self, "system"),
            incident: try row.decode(Int?.self, "incident"),
            cycle: try row.decode(Int?.self, "cycle"),
            rootCause: try row.decode(String?.self, "root_cause"),
            openedAt: try row.decode(Date.self, "opened_at"),
            openedBy: try row.decode(String.self, "opened_by"),
            closedAt: try row.decode(Date?.self, "closed_at"),
            tasks: []
        )
    }
}

/// A finding locked for a change.
struct LockedFinding {
    var id: Int64
    var rootCause: String?
    var closedAt: Date?

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        rootCause = try row.decode(String?.self, "root_cause")
        closedAt = try row.decode(Date?.self, "closed_at")
    }
}

/// An incident's row: its id, and the incident without its tasks (`Store.incident(row:on:)` adds them).
struct IncidentRow {
    var id: Int64
    var incident: Incident

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        let kind = try row.decode(IncidentKind.self, "kind")
        incident = Incident(
            program: try row.decode(String.self, "program"),
            number: try row.decode(Int.self, "number"),
            system: try row.decode(String.self, "system"),
            kind: kind,
            summary: try row.decode(String.self, "summary"),
            awareAt: try row.decode(Date.self, "aware_at"),
            reportDueAt: try row.decode(Date.self, "report_due_at"),
            clock: "\(kind.paragraph), \(kind.clockDays) days",
            reportedBy: try row.decode(String.self, "reported_by"),
            finding: try row.decode(Int?.self, "finding"),
            tasks: [],
            notified: false
        )
    }
}

extension OpenFinding {
    init(row: PostgresRow) throws {
        number = try row.decode(Int.self, "number")
        severity = try row.decode(String.self, "severity")
        source = try row.decode(String.self, "source")
        system = try row.decode(String?.self, "system")
        title = try row.decode(String.self, "title")
        openedAt = try row.decode(Date.self, "opened_at")
    }
}
