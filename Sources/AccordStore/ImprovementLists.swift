import AccordCore
import Foundation
import Postgres

/// Which findings to list.
public enum FindingState: String, Sendable, CaseIterable {
    /// Open ones (root cause or corrective action outstanding), closed ones, or both.
    case open, closed, all
}

enum ImprovementListSQL {
    /// One page of a program's findings by number, open or closed or both, with the size of the filtered list.
    static let findings = PostgresQuery<Int64, String, Int64, Int64, Counted<FindingRow>>(
        "finding_page",
        """
        SELECT x.*, count(*) OVER () AS total FROM (
        \(ImprovementSQL.findingColumns)
        WHERE f.program_id = $1 AND ($2 = 'all' OR ($2 = 'open') = (f.closed_at IS NULL))) x
        ORDER BY x.number DESC
        LIMIT $3 OFFSET $4
        """
    ) { try Counted(row: $0, FindingRow.init(row:)) }
    /// One page of a program's serious incidents, newest first, with the size of the whole list.
    static let incidents = PostgresQuery<Int64, Int64, Int64, Counted<IncidentRow>>(
        "incident_page",
        """
        SELECT x.*, count(*) OVER () AS total FROM (
        \(ImprovementSQL.incidentColumns)
        WHERE i.program_id = $1) x
        ORDER BY x.number DESC
        LIMIT $2 OFFSET $3
        """
    ) { try Counted(row: $0, IncidentRow.init(row:)) }
    /// The tasks of several findings at once, with the finding each belongs to.
    static let findingTasks = PostgresQuery<PostgresArray<Int64>, (owner: Int64, task: TaskSummary)>(
        "finding_page_tasks",
        """
        SELECT c.*, k.finding_id FROM (
        \(TaskSQL.columns)
        WHERE t.finding_id = ANY($1::bigint[])) c JOIN accord.task k ON k.id = c.id
        ORDER BY k.position, k.id
        """
    ) { (owner: try $0.decode(Int64.self, "finding_id"), task: try TaskSummary(row: $0)) }
    /// The tasks of several incidents at once, with the incident each belongs to.
    static let incidentTasks = PostgresQuery<PostgresArray<Int64>, (owner: Int64, task: TaskSummary)>(
        "incident_page_tasks",
        """
        SELECT c.*, k.incident_id FROM (
        \(TaskSQL.columns)
        WHERE t.incident_id = ANY($1::bigint[])) c JOIN accord.task k ON k.id = c.id
        ORDER BY k.position, k.id
        """
    ) { (owner: try $0.decode(Int64.self, "incident_id"), task: try TaskSummary(row: $0)) }

    static let catalogue: [any PostgresCheckable] = [findings, incidents, findingTasks, incidentTasks]
}

extension Store {
    /// One page of the program's findings, newest first, filtered and cut in SQL, each with its tasks. Members of the program.
    public func findings(program slug: String, state: FindingState, paging: Paging, actor: String?) async throws -> Paged<Finding> {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            let page = try await Self.paged(paging) { limit, offset in
                try await connection.query(ImprovementListSQL.findings, program.id, state.rawValue, limit, offset)
            }
            let tasks = try await connection.query(ImprovementListSQL.findingTasks, PostgresArray(page.items.map(\.id)))
            return page.map { row in
                var finding = row.finding
                finding.tasks = tasks.filter { $0.owner == row.id }.map(\.task)
                return finding
            }
        }
    }

    /// One page of the program's serious incidents, newest first, cut in SQL, each with its tasks. Members of the program.
    public func incidents(program slug: String, paging: Paging, actor: String?) async throws -> Paged<Incident> {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            let page = try await Self.paged(paging) { limit, offset in
                try await connection.query(ImprovementListSQL.incidents, program.id, limit, offset)
            }
            let tasks = try await connection.query(ImprovementListSQL.incidentTasks, PostgresArray(page.items.map(\.id)))
            return page.map { row in
                var incident = row.incident
                incident.tasks = tasks.filter { $0.owner == row.id }.map(\.task)
                incident.notified = incident.tasks.first.map { $0.state == .done } ?? false
                return incident
            }
        }
    }
}
