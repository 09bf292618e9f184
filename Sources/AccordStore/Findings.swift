import AccordCore
import Foundation
import Postgres

extension Store {
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
        guard !title.isEmpty else { throw AccordError(.invalid, "a finding needs a title", field: "title") }
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

    /// Numbers and stores a finding, creates its tasks, audits it and emits `finding.opened`.
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
        try await connection.execute(CycleSQL.lockProgram, program.id)
        let number = try await connection.queryOne(ImprovementSQL.nextFinding, program.id)
        let cycleID = try await connection.queryFirst(ImprovementSQL.openCycle, program.id)
        let id = try await connection.queryOne(
            ImprovementSQL.insertFinding,
            program.id,
            number,
            source,
            severity,
            title,
            system?.id,
            incidentID,
            cycleID,
            acting.id
        )
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
        try await connection.execute(DeadlineSQL.emit, "finding.opened", program.id, try PostgresJSON(encoding: record))
        if !created.isEmpty {
            let roles = Array(Set(templates.map(\.task.owner))).sorted()
            try await mailFinding(number: number, title: title, roles: roles, program: program, by: acting, on: connection)
        }
        return (id, number)
    }

    /// Records a finding's root cause (cl. 10.2 b). Managers, and whoever works one of the finding's tasks.
    public func recordRootCause(program slug: String, finding number: Int, rootCause: String, actor: String?) async throws -> Finding {
        let text = rootCause.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AccordError(.invalid, "say what the root cause is", field: "text") }
        let id = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            guard let locked = try await connection.queryFirst(ImprovementSQL.lockFinding, program.id, number) else {
                throw AccordError(.notFound, "'\(slug)' has no finding \(number)")
            }
            let id = locked.id
            if locked.closedAt != nil { throw AccordError(.conflict, "finding \(number) of '\(slug)' is closed") }
            let works = try await connection.queryFirst(ImprovementSQL.worksOnFinding, id, acting.id) != nil
            if !works {
                try await Self.requireManager(
                    acting,
                    of: program,
                    workflow: workflow,
                    to: "record a finding's root cause (or be assigned one of its tasks)",
                    on: connection
                )
            }
            try await connection.execute(ImprovementSQL.setRootCause, id, text)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "finding.root-cause",
                    objectType: "finding",
                    objectID: "\(slug)#F\(number)",
                    before: auditJSON(["root_cause": locked.rootCause ?? ""]),
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
        let finding = try await connection.queryOne(ImprovementSQL.findingByID, id).finding
        guard finding.rootCause != nil, finding.closedAt == nil else { return }
        let workflow = try await workflow(program.workflowID, version: program.workflowVersion, on: connection)
        for (state, key) in try await connection.query(ImprovementSQL.findingTasks, id) {
            let needsSignOff = workflow.task(key)?.approval != nil
            guard state == .done || (state == .notApplicable && !needsSignOff) else { return }
        }
        guard let number = try await connection.queryFirst(ImprovementSQL.closeFinding, id) else { return }
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
        try await connection.execute(
            DeadlineSQL.emit,
            "finding.closed",
            program.id,
            try PostgresJSON(encoding: ["program": program.slug, "number": String(number)])
        )
    }

    /// The program's findings by number, only the open ones with `openOnly`. Members of the program.
    public func findings(program slug: String, openOnly: Bool = false, actor: String?) async throws -> [Finding] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var findings: [Finding] = []
            for row in try await connection.query(ImprovementSQL.findings, program.id, openOnly) {
                findings.append(try await Self.finding(row: row, on: connection))
            }
            return findings
        }
    }

    /// One finding of the program, with its tasks. Members of the program.
    public func finding(program slug: String, number: Int, actor: String?) async throws -> Finding {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            guard let row = try await connection.queryFirst(ImprovementSQL.finding, program.id, number) else {
                throw AccordError(.notFound, "'\(slug)' has no finding \(number)")
            }
            return try await Self.finding(row: row, on: connection)
        }
    }

    /// The finding with this id, with its tasks.
    static func finding(id: Int64, on connection: PostgresConnection) async throws -> Finding {
        try await finding(row: try await connection.queryOne(ImprovementSQL.findingByID, id), on: connection)
    }

    /// The finding of a row, with its tasks.
    static func finding(row: FindingRow, on connection: PostgresConnection) async throws -> Finding {
        var finding = row.finding
        finding.tasks = try await connection.query(ImprovementSQL.tasksOfFinding, row.id)
        return finding
    }
}
