import AccordCore
import Foundation
import Postgres

extension Store {
    // MARK: - Reading

    /// Tasks the actor may see, filtered.
    public func tasks(_ filter: TaskFilter, actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let program = filter.program { _ = try await Self.visibleProgram(program, for: acting, on: connection) }
            let assigneeID = if let handle = filter.assignee { try await Self.person(handle, on: connection).id } else { Int64?.none }
            return try await connection.query(
                TaskSQL.list,
                filter.program,
                assigneeID,
                filter.state,
                filter.overdueOnly,
                acting.isAdmin,
                acting.id,
                filter.mineOnly
            )
        }
    }

    /// One page of the tasks the actor may see, filtered and cut in SQL, with the size of the whole list.
    public func tasks(_ filter: TaskFilter, paging: Paging, actor: String?) async throws -> Paged<TaskSummary> {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let program = filter.program { _ = try await Self.visibleProgram(program, for: acting, on: connection) }
            let assigneeID = if let handle = filter.assignee { try await Self.person(handle, on: connection).id } else { Int64?.none }
            return try await Self.paged(paging) { limit, offset in
                try await connection.query(
                    TaskSQL.page,
                    filter.program,
                    assigneeID,
                    filter.state,
                    filter.overdueOnly,
                    acting.isAdmin,
                    acting.id,
                    filter.mineOnly,
                    filter.step,
                    filter.ownerRole,
                    filter.system,
                    filter.unassignedOnly,
                    limit,
                    offset
                )
            }
        }
    }

    /// One task in detail.
    public func task(_ ref: String, actor: String?) async throws -> TaskDetail {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let summary = try await connection.queryOne(TaskSQL.one, id)
            guard let program = try await connection.queryFirst(ProgramSQL.bySlug, summary.program) else {
                throw AccordError(.notFound, "no program")
            }
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let template = workflow.task(summary.key)
            let extra = try await connection.queryOne(TaskSQL.extra, id)
            let catalogue = try await referenceCatalogue(on: connection)
            let signatures = try await connection.query(SignatureSQL.forTask, id)
            var needed: [String: Int] = [:]
            if summary.state == .inReview, let policy = template?.approval {
                let approvals = try await connection.query(SignatureSQL.approvals, id, extra.reviewRound, extra.evidenceVersion)
                for need in ApprovalEvaluation(policy: policy, approvals: approvals).remaining where need.needed > 0 {
                    needed[need.role] = need.needed
                }
            }
            return TaskDetail(
                task: summary,
                stepTitle: workflow.steps.first { $0.key == summary.step }?.title ?? summary.step,
                description: template?.description,
                refs: (template?.refs ?? []).map {
                    TaskDetail.RefTitle(id: $0, title: catalogue[$0]?.title ?? "", legalOnly: catalogue[$0]?.legalOnly ?? false)
                },
                legalOnly: template?.legalOnly ?? false,
                evidenceRequired: template?.evidence ?? [],
                approval: template?.approval,
                escalation: template?.escalation,
                recurrence: template?.recurrence?.description,
                dependsOn: try await connection.query(TaskSQL.dependsOn, id),
                dependents: try await connection.query(TaskSQL.dependents, id),
                submittedBy: extra.submittedBy,
                notApplicableReason: extra.notApplicableReason,
                retiredReason: extra.retiredReason,
                startedAt: extra.startedAt,
                submittedAt: extra.submittedAt,
                completedAt: extra.completedAt,
                evidenceVersion: extra.evidenceVersion,
                evidence: try await connection.query(EvidenceSQL.forTask, id).map { $0.version(taskRef: summary.ref) },
                signatures: signatures,
                signaturesNeeded: needed,
                history: try await connection.query(TaskSQL.history, programChain(summary.program), summary.ref),
                deadlines: try await Self.deadlineEvents(taskID: id, on: connection),
                openFindings: summary.key == workflow.cycle?.review
                    ? try await connection.query(ImprovementSQL.openFindingLines, program.id) : []
            )
        }
    }

    /// A task's id from its numeric id or `PROGRAM/TASK[@SYSTEM][+INSTANCE]`, when the person may see its program.
    static func resolveTask(_ ref: String, for person: Person, on connection: PostgresConnection) async throws -> Int64 {
        if let id = Int64(ref) {
            let task = try await lockTask(id, on: connection, lock: false)
            _ = try await visibleProgram(task.programSlug, for: person, absent: "no task \(id)", on: connection)
            return id
        }
        guard let slash = ref.firstIndex(of: "/") else {
            throw AccordError(.invalid, "'\(ref)' is not a task: give its id or PROGRAM/TASK (PROGRAM/TASK@SYSTEM for per-system tasks)")
        }
        let programSlug = String(ref[..<slash])
        var rest = String(ref[ref.index(after: slash)...])
        var instance: String?
        if let plus = rest.firstIndex(of: "+") {
            instance = String(rest[rest.index(after: plus)...])
            rest = String(rest[..<plus])
        }
        let parts = rest.split(separator: "@", maxSplits: 1).map(String.init)
        let key = parts.first ?? ""
        let system = parts.count > 1 ? parts[1] : nil
        let program = try await visibleProgram(programSlug, for: person, on: connection)
        let all = try await connection.query(TaskSQL.resolve, program.slug, key, system, instance)
        if all.isEmpty {
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let hint = closest(to: key, among: workflow.steps.flatMap(\.tasks).map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
            if system == nil, workflow.task(key)?.isPerSystem == true {
                throw AccordError(.notFound, "task '\(key)' applies per AI system and no system of '\(program.slug)' matches it yet")
            }
            throw AccordError(
                .notFound,
                "no task '\(key)\(system.map { "@\($0)" } ?? "")\(instance.map { "+\($0)" } ?? "")' in program '\(program.slug)'\(hint)"
            )
        }
        // Without +INSTANCE the roadmap's own task is meant, when there is one.
        let candidates = instance == nil && all.count > 1 ? all.filter(\.instance.isEmpty) : all
        let chosen = candidates.isEmpty ? all : candidates
        if chosen.count > 1 || (system == nil && chosen[0].system != nil) {
            let refs = chosen.map { taskRef(program: program.slug, key: key, system: $0.system, instance: $0.instance) }
            let what = chosen.contains { $0.system != nil } ? "once per AI system" : "more than once (per cycle, finding or incident)"
            throw AccordError(
                .invalid,
                "task '\(key)' exists \(what); name one: \(refs.prefix(12).joined(separator: ", "))\(refs.count > 12 ? ", …" : "")"
            )
        }
        return chosen[0].id
    }
}
