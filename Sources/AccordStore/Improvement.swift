public import AccordCore
public import Foundation
import Postgres

/// Where a finding comes from.
public enum FindingSource: String, Codable, Sendable, CaseIterable {
    case audit, incident, monitoring, review, other
}

/// How serious a finding is.
public enum FindingSeverity: String, Codable, Sendable, CaseIterable {
    case major, minor, observation
}

/// A nonconformity or observation (ISO/IEC 42001 cl. 10.2) with its corrective-action tasks.
public struct Finding: Codable, Sendable, Equatable {
    public var program: String
    public var number: Int
    public var source: FindingSource
    public var severity: FindingSeverity
    public var title: String
    public var system: String?
    public var incident: Int?
    public var cycle: Int?
    public var rootCause: String?
    public var openedAt: Date
    public var openedBy: String
    public var closedAt: Date?
    public var tasks: [TaskSummary]
    public var isOpen: Bool { closedAt == nil }
}

/// A serious incident and its Art. 73 notification clock.
public struct Incident: Codable, Sendable, Equatable {
    public var program: String
    public var number: Int
    public var system: String
    public var kind: IncidentKind
    public var summary: String
    public var awareAt: Date
    /// When the authority must have been notified (awareness + the kind's clock).
    public var reportDueAt: Date
    /// "Art. 73(3), 2 days".
    public var clock: String
    public var reportedBy: String
    /// The finding opened for its root cause.
    public var finding: Int?
    public var tasks: [TaskSummary]
    /// Whether the initial report is done (signed, when the workflow asks for a sign-off).
    public var notified: Bool
}

enum ImprovementSQL {
    static let nextFinding = "SELECT coalesce(max(number), 0) + 1 AS n FROM accord.finding WHERE program_id = $1"
    static let nextIncident = "SELECT coalesce(max(number), 0) + 1 AS n FROM accord.incident WHERE program_id = $1"
    static let system =
        "SELECT id, slug, operator_role, risk_class, gpai, to_char(added_on, 'YYYY-MM-DD') AS added_on FROM accord.ai_system WHERE program_id = $1 AND slug = $2"
    static let openCycle = "SELECT id FROM accord.cycle WHERE program_id = $1 AND closed_at IS NULL"
    static let insertFinding = """
        INSERT INTO accord.finding (program_id, number, source, severity, title, system_id, incident_id, cycle_id, opened_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """
    static let findingColumns = """
        SELECT f.id, p.slug AS program, f.number, f.source, f.severity, f.title, s.slug AS system, i.number AS incident, c.number AS cycle,
               f.root_cause, f.opened_at, o.handle AS opened_by, f.closed_at
        FROM accord.finding f JOIN accord.program p ON p.id = f.program_id JOIN accord.person o ON o.id = f.opened_by
        LEFT JOIN accord.ai_system s ON s.id = f.system_id LEFT JOIN accord.incident i ON i.id = f.incident_id
        LEFT JOIN accord.cycle c ON c.id = f.cycle_id
        """
    static let findings = findingColumns + "\nWHERE f.program_id = $1 AND (NOT $2 OR f.closed_at IS NULL) ORDER BY f.number"
    static let finding = findingColumns + "\nWHERE f.program_id = $1 AND f.number = $2"
    static let findingByID = findingColumns + "\nWHERE f.id = $1"
    static let lockFinding = "SELECT id, number, root_cause, closed_at FROM accord.finding WHERE program_id = $1 AND number = $2 FOR UPDATE"
    static let worksOnFinding = "SELECT 1 FROM accord.task WHERE finding_id = $1 AND assignee_id = $2"
    static let setRootCause = "UPDATE accord.finding SET root_cause = $2 WHERE id = $1"
    static let findingTasks = "SELECT t.state, t.template_key FROM accord.task t WHERE t.finding_id = $1"
    static let closeFinding = "UPDATE accord.finding SET closed_at = now() WHERE id = $1 AND closed_at IS NULL RETURNING number, program_id"
    static let insertIncident = """
        INSERT INTO accord.incident (program_id, number, system_id, kind, aware_at, report_due_at, summary, reported_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """
    static let incidentColumns = """
        SELECT i.id, p.slug AS program, i.number, s.slug AS system, i.kind, i.summary, i.aware_at, i.report_due_at, r.handle AS reported_by,
               (SELECT f.number FROM accord.finding f WHERE f.incident_id = i.id ORDER BY f.number LIMIT 1) AS finding
        FROM accord.incident i JOIN accord.program p ON p.id = i.program_id JOIN accord.ai_system s ON s.id = i.system_id
        JOIN accord.person r ON r.id = i.reported_by
        """
    static let incidents = incidentColumns + "\nWHERE i.program_id = $1 ORDER BY i.number"
    static let incident = incidentColumns + "\nWHERE i.program_id = $1 AND i.number = $2"
    static let openFindingLines = """
        SELECT f.number, f.severity, f.source, s.slug AS system, f.title, f.opened_at FROM accord.finding f
        LEFT JOIN accord.ai_system s ON s.id = f.system_id WHERE f.program_id = $1 AND f.closed_at IS NULL ORDER BY f.number
        """
    static let tasksOf = TaskSQL.columns + "\nWHERE t.%@ = $1 ORDER BY t.position, t.id"
}

/// A finding's or incident's opening, as the audit log and the outbox carry it.
struct ImprovementRecord: Encodable {
    var program: String
    var number: Int
    var kind: String
    var title: String
    var system: String?
    var dueAt: String?
    var tasks: [String]
}

extension Store {
    // MARK: - Findings

    /// Raises a finding and creates its corrective-action tasks from the workflow. Any member of the program
    /// (`changing` finds the program only for its members and administrators).
    public func addFinding(
        program slug: String,
        source: FindingSource,
        severity: FindingSeverity,
        title: String,
        system: String?,
        actor: String?
    ) async throws -> Finding {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw AccordError(.invalid, "a finding needs a title: --title") }
        let id = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            let systemRow = try await system.asyncMap { try await Self.systemRow($0, of: program, on: connection) }
            return try await Self.openFinding(
                program,
                workflow: workflow,
                source: source,
                severity: severity,
                title: title,
                system: systemRow,
                incidentID: nil,
                by: acting,
                on: connection
            ).id
        }
        return try await pool.withConnection { try await Self.finding(id: id, on: $0) }
    }

    static func openFinding(
        _ program: ProgramRow,
        workflow: Workflow,
        source: FindingSource,
        severity: FindingSeverity,
        title: String,
        system: SystemRow?,
        incidentID: Int64?,
        by acting: Person,
        on connection: PostgresConnection
    ) async throws -> (id: Int64, number: Int) {
        _ = try await connection.query(CycleSQL.lockProgram, [program.id])
        let number = try await connection.query(ImprovementSQL.nextFinding, [program.id])[0].decode(Int.self, "n")
        let cycleID = try await connection.query(ImprovementSQL.openCycle, [program.id]).firstRow?.decode(Int64.self, "id")
        let id = try await connection.query(
            ImprovementSQL.insertFinding,
            [
                program.id, number, source.rawValue, severity.rawValue, title, system?.id, incidentID, cycleID, acting.id,
            ]
        )[0].decode(Int64.self, "id")
        let templates = workflow.triggered(by: .finding)
        let created = try await instantiate(
            templates,
            of: workflow,
            in: program,
            system: system,
            as: TaskOccasion(instance: "f\(number)", findingID: id, start: .today(), titleSuffix: " — finding \(number)"),
            on: connection
        )
        let refs = templates.map { taskRef(program: program.slug, key: $0.task.key, system: system?.slug, instance: "f\(number)") }.filter { _ in
            !created.isEmpty
        }
        let record = ImprovementRecord(
            program: program.slug,
            number: number,
            kind: "\(severity.rawValue) from \(source.rawValue)",
            title: title,
            system: system?.slug,
            tasks: refs
        )
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(program.slug),
                actor: acting.handle,
                action: "finding.open",
                objectType: "finding",
                objectID: "\(program.slug)#F\(number)",
                after: auditJSON(record)
            )
        )
        _ = try await connection.query(DeadlineSQL.emit, ["finding.opened", program.id, try PostgresJSON(encoding: record)])
        return (id, number)
    }

    /// Records a finding's root cause (cl. 10.2 b). Managers, and whoever works one of the finding's tasks.
    public func recordRootCause(program slug: String, finding number: Int, rootCause: String, actor: String?) async throws -> Finding {
        let text = rootCause.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AccordError(.invalid, "say what the root cause is: --text") }
        let id = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            guard let row = try await connection.query(ImprovementSQL.lockFinding, [program.id, number]).firstRow else {
                throw AccordError(.notFound, "'\(slug)' has no finding \(number)")
            }
            let id = try row.decode(Int64.self, "id")
            if try row.decode(Date?.self, "closed_at") != nil { throw AccordError(.conflict, "finding \(number) of '\(slug)' is closed") }
            let works = try await connection.query(ImprovementSQL.worksOnFinding, [id, acting.id]).firstRow != nil
            if !works {
                try await Self.requireManager(
                    acting,
                    of: program,
                    workflow: workflow,
                    to: "record a finding's root cause (or be assigned one of its tasks)",
                    on: connection
                )
            }
            try await connection.execute(ImprovementSQL.setRootCause, [id, text])
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "finding.root-cause",
                    objectType: "finding",
                    objectID: "\(slug)#F\(number)",
                    before: auditJSON(["root_cause": try row.decode(String?.self, "root_cause") ?? ""]),
                    after: auditJSON(["root_cause": text])
                )
            )
            try await Self.settleFinding(id, program: program, actor: acting.handle, on: connection)
            return id
        }
        return try await pool.withConnection { try await Self.finding(id: id, on: $0) }
    }

    /// Closes a finding once its root cause is recorded and its tasks are finished, every signed one signed (done).
    static func settleFinding(_ id: Int64, program: ProgramRow, actor: String, on connection: PostgresConnection) async throws {
        let finding = try await connection.query(ImprovementSQL.findingByID, [id])[0]
        guard try finding.decode(String?.self, "root_cause") != nil, try finding.decode(Date?.self, "closed_at") == nil else { return }
        let workflow = try await workflow(program.workflowID, version: program.workflowVersion, on: connection)
        for row in try await connection.query(ImprovementSQL.findingTasks, [id]) {
            let state = try row.decode(TaskState.self, "state")
            let key = try row.decode(String.self, "template_key")
            let needsSignOff = workflow.task(key)?.approval != nil
            guard state == .done || (state == .notApplicable && !needsSignOff) else { return }
        }
        guard let closed = try await connection.query(ImprovementSQL.closeFinding, [id]).firstRow else { return }
        let number = try closed.decode(Int.self, "number")
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(program.slug),
                actor: actor,
                action: "finding.close",
                objectType: "finding",
                objectID: "\(program.slug)#F\(number)",
                after: auditJSON(["state": "closed"]),
                reason: "root cause recorded and corrective action checked effective"
            )
        )
        _ = try await connection.query(
            DeadlineSQL.emit,
            ["finding.closed", program.id, try PostgresJSON(encoding: ["program": program.slug, "number": String(number)])]
        )
    }

    public func findings(program slug: String, openOnly: Bool = false, actor: String?) async throws -> [Finding] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var findings: [Finding] = []
            for row in try await connection.query(ImprovementSQL.findings, [program.id, openOnly]) {
                findings.append(try await Self.finding(row: row, on: connection))
            }
            return findings
        }
    }

    public func finding(program slug: String, number: Int, actor: String?) async throws -> Finding {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            guard let row = try await connection.query(ImprovementSQL.finding, [program.id, number]).firstRow else {
                throw AccordError(.notFound, "'\(slug)' has no finding \(number)")
            }
            return try await Self.finding(row: row, on: connection)
        }
    }

    static func finding(id: Int64, on connection: PostgresConnection) async throws -> Finding {
        try await finding(row: try await connection.query(ImprovementSQL.findingByID, [id])[0], on: connection)
    }

    static func finding(row: PostgresRow, on connection: PostgresConnection) async throws -> Finding {
        let id = try row.decode(Int64.self, "id")
        return Finding(
            program: try row.decode(String.self, "program"),
            number: try row.decode(Int.self, "number"),
            source: FindingSource(rawValue: try row.decode(String.self, "source"))!,
            severity: FindingSeverity(rawValue: try row.decode(String.self, "severity"))!,
            title: try row.decode(String.self, "title"),
            system: try row.decode(String?.self, "system"),
            incident: try row.decode(Int?.self, "incident"),
            cycle: try row.decode(Int?.self, "cycle"),
            rootCause: try row.decode(String?.self, "root_cause"),
            openedAt: try row.decode(Date.self, "opened_at"),
            openedBy: try row.decode(String.self, "opened_by"),
            closedAt: try row.decode(Date?.self, "closed_at"),
            tasks: try await connection.query(String(format: ImprovementSQL.tasksOf, "finding_id"), [id]).map(TaskSummary.init(row:))
        )
    }

    // MARK: - Incidents

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
        guard !summary.isEmpty else { throw AccordError(.invalid, "say what happened: --summary") }
        guard awareAt <= now.addingTimeInterval(300) else {
            throw AccordError(
                .invalid,
                "--aware-at \(awareAt.formatted(.iso8601)) is in the future; the clock runs from when the organisation became aware"
            )
        }
        let number = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            let systemRow = try await Self.systemRow(system, of: program, on: connection)
            _ = try await connection.query(CycleSQL.lockProgram, [program.id])
            let number = try await connection.query(ImprovementSQL.nextIncident, [program.id])[0].decode(Int.self, "n")
            let dueAt = awareAt.addingTimeInterval(Double(kind.clockDays) * 86_400)
            let id = try await connection.query(
                ImprovementSQL.insertIncident,
                [program.id, number, systemRow.id, kind.rawValue, awareAt, dueAt, summary, acting.id]
            )[0]
            .decode(Int64.self, "id")
            let templates = workflow.triggered(by: .incident)
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
            _ = try await connection.query(DeadlineSQL.emit, ["incident.reported", program.id, try PostgresJSON(encoding: record)])
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

    public func incidents(program slug: String, actor: String?) async throws -> [Incident] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var incidents: [Incident] = []
            for row in try await connection.query(ImprovementSQL.incidents, [program.id]) {
                incidents.append(try await Self.incident(row: row, on: connection))
            }
            return incidents
        }
    }

    public func incident(program slug: String, number: Int, actor: String?) async throws -> Incident {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            guard let row = try await connection.query(ImprovementSQL.incident, [program.id, number]).firstRow else {
                throw AccordError(.notFound, "'\(slug)' has no incident \(number)")
            }
            return try await Self.incident(row: row, on: connection)
        }
    }

    static func incident(row: PostgresRow, on connection: PostgresConnection) async throws -> Incident {
        let kind = IncidentKind(rawValue: try row.decode(String.self, "kind"))!
        let tasks = try await connection.query(String(format: ImprovementSQL.tasksOf, "incident_id"), [try row.decode(Int64.self, "id")]).map(
            TaskSummary.init(row:)
        )
        return Incident(
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
            tasks: tasks,
            notified: tasks.first.map { $0.state == .done } ?? false
        )
    }

    // MARK: - Shared

    static func systemRow(_ slug: String, of program: ProgramRow, on connection: PostgresConnection) async throws -> SystemRow {
        guard let row = try await connection.query(ImprovementSQL.system, [program.id, slug]).firstRow else {
            throw AccordError(.notFound, "'\(program.slug)' has no AI system '\(slug)'; 'accord system list \(program.slug)' shows them")
        }
        return try SystemRow(row: row)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
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
