public import AccordCore
public import Foundation
import Postgres

extension Store {
    /// Reports a serious incident: starts its Art. 73 clock from awareness, creates the report tasks due
    /// when the clock runs out (escalating to top management before), and a finding for its root cause.
    /// Any member of the program.
    public func reportIncident(
        program slug: String,
        system: String,
        kind: IncidentKind,
        awareAt: Date,
        summary: String,
        actor: String?,
        now: Date = Date()
    ) async throws -> Incident {
        let summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !summary.isEmpty else { throw AccordError(.invalid, "say what happened", field: "summary") }
        guard awareAt <= now.addingTimeInterval(300) else {
            throw AccordError(
                .invalid,
                "--aware-at \(awareAt.formatted(.iso8601)) is in the future; the clock runs from when the organisation became aware"
            )
        }
        let number = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            let systemRow = try await Self.systemRow(system, of: program, on: connection)
            try await connection.execute(CycleSQL.lockProgram, program.id)
            let number = try await connection.queryOne(ImprovementSQL.nextIncident, program.id)
            let dueAt = awareAt.addingTimeInterval(Double(kind.clockDays) * 86_400)
            let id = try await connection.queryOne(
                ImprovementSQL.insertIncident,
                program.id,
                number,
                systemRow.id,
                kind,
                awareAt,
                dueAt,
                summary,
                acting.id
            )
            // The reporting path follows the organisation's role for the system (Art. 73 for a provider of a
            // high-risk system, Art. 26(5) for a deployer, Art. 55(1)(c) for a systemic-risk model).
            let templates = workflow.triggered(by: .incident).filter { $0.task.appliesTo?.matches(systemRow.profile) ?? true }
            _ = try await Self.instantiate(
                templates,
                of: workflow,
                in: program,
                system: systemRow,
                as: TaskOccasion(
                    instance: "i\(number)",
                    incidentID: id,
                    start: CalendarDate(awareAt),
                    incidentClock: CalendarDate(dueAt),
                    titleSuffix: " — incident \(number)"
                ),
                on: connection
            )
            let record = ImprovementRecord(
                program: slug,
                number: number,
                kind: kind.rawValue,
                title: summary,
                system: systemRow.slug,
                dueAt: dueAt.formatted(.iso8601),
                tasks: templates.map { taskRef(program: slug, key: $0.task.key, system: systemRow.slug, instance: "i\(number)") }
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "incident.report",
                    objectType: "incident",
                    objectID: "\(slug)#I\(number)",
                    after: auditJSON(record),
                    reason: "\(kind.paragraph): notify within \(kind.clockDays) days of awareness"
                )
            )
            try await connection.execute(DeadlineSQL.emit, "incident.reported", program.id, try PostgresJSON(encoding: record))
            try await Self.mailIncident(
                number: number,
                kind: kind,
                summary: summary,
                system: systemRow.slug,
                dueAt: dueAt,
                workflow: workflow,
                program: program,
                by: acting,
                on: connection
            )
            _ = try await Self.openFinding(
                program,
                workflow: workflow,
                source: .incident,
                severity: .major,
                title: "Root cause of serious incident \(number): \(summary.prefix(120))",
                system: systemRow,
                incidentID: id,
                by: acting,
                on: connection
            )
            return number
        }
        return try await incident(program: slug, number: number, actor: actor)
    }

    /// The program's serious incidents by number. Members of the program.
    public func incidents(program slug: String, actor: String?) async throws -> [Incident] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var incidents: [Incident] = []
            for row in try await connection.query(ImprovementSQL.incidents, program.id) {
                incidents.append(try await Self.incident(row: row, on: connection))
            }
            return incidents
        }
    }

    /// One serious incident of the program, with its tasks. Members of the program.
    public func incident(program slug: String, number: Int, actor: String?) async throws -> Incident {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            guard let row = try await connection.queryFirst(ImprovementSQL.incident, program.id, number) else {
                throw AccordError(.notFound, "'\(slug)' has no incident \(number)")
            }
            return try await Self.incident(row: row, on: connection)
        }
    }

    /// The incident of a row, with its tasks; notified once its first task is done.
    static func incident(row: IncidentRow, on connection: PostgresConnection) async throws -> Incident {
        var incident = row.incident
        incident.tasks = try await connection.query(ImprovementSQL.tasksOfIncident, row.id)
        incident.notified = incident.tasks.first.map { $0.state == .done } ?? false
        return incident
    }

    /// The program's AI system with this slug.
    static func systemRow(_ slug: String, of program: ProgramRow, on connection: PostgresConnection) async throws -> SystemRow {
        guard let system = try await connection.queryFirst(ImprovementSQL.system, program.id, slug) else {
            throw AccordError(.notFound, "'\(program.slug)' has no AI system '\(slug)'", remedy: .listSystems(program: program.slug))
        }
        return system
    }
}

extension Optional {
    /// The transformed value, or `nil` when there is none: `map` for an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
