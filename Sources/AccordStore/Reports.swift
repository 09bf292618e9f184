public import AccordCore
public import Foundation
import Postgres

enum ReportSQL {
    static let tasks = PostgresQuery<Int64, TaskSummary>(
        "report_tasks",
        "\(TaskSQL.columns)\nWHERE t.program_id = $1 AND t.state <> 'retired' ORDER BY t.position, s.slug NULLS FIRST, t.instance",
        row: TaskSummary.init(row:)
    )
    static let currentSignatures = PostgresQuery<Int64, (taskID: Int64, handle: String, decision: SigningDecision)>(
        "report_current_signatures",
        """
        SELECT s.task_id, p.handle, s.decision FROM accord.signature s JOIN accord.task t ON t.id = s.task_id JOIN accord.person p ON p.id = s.signer_id
        WHERE t.program_id = $1 AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version ORDER BY s.id
        """
    ) {
        (
            taskID: try $0.decode(Int64.self, "task_id"), handle: try $0.decode(String.self, "handle"),
            decision: try $0.decode(SigningDecision.self, "decision")
        )
    }
    static let taskFacts = PostgresQuery<Int64, (key: String, ref: String, state: TaskState, reason: String?, evidence: Int)>(
        "report_task_facts",
        """
        SELECT t.id, t.template_key, t.state, t.na_reason, t.evidence_version,
               accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE t.program_id = $1 AND t.state <> 'retired' ORDER BY t.position, s.slug NULLS FIRST, t.instance
        """
    ) {
        (
            key: try $0.decode(String.self, "template_key"), ref: try $0.decode(String.self, "ref"), state: try $0.decode(TaskState.self, "state"),
            reason: try $0.decode(String?.self, "na_reason"), evidence: try $0.decode(Int.self, "evidence_version")
        )
    }
    static let signingTimes = PostgresQuery<Int64, (signerID: Int64, signed: Int, medianHours: Double?, p90Hours: Double?)>(
        "report_signing_times",
        "\(LeadershipSQL.signingTimesFrom)\nWHERE t.program_id = $1\n\(LeadershipSQL.signingTimesGroup)"
    ) {
        (
            signerID: try $0.decode(Int64.self, "signer_id"), signed: try $0.decode(Int.self, "signed"),
            medianHours: try $0.decode(Double?.self, "median_hours"), p90Hours: try $0.decode(Double?.self, "p90_hours")
        )
    }
    static let members = PostgresQuery<Int64, (id: Int64, handle: String, name: String, role: String)>(
        "report_members",
        """
        SELECT pe.id, pe.handle, pe.name, b.role FROM accord.role_binding b JOIN accord.person pe ON pe.id = b.person_id
        WHERE b.program_id = $1 ORDER BY pe.handle, b.role
        """
    ) {
        (
            id: try $0.decode(Int64.self, "id"), handle: try $0.decode(String.self, "handle"), name: try $0.decode(String.self, "name"),
            role: try $0.decode(String.self, "role")
        )
    }
    /// Per assignee in a program ($1): outstanding tasks, those past due on $2, and tasks done.
    static let ownerLoad = PostgresQuery<Int64, String, (handle: String, pending: Int, overdue: Int, done: Int)>(
        "report_owner_load",
        """
        SELECT a.handle,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("t.state"))) AS pending,
               count(*) FILTER (WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < $2::date) AS overdue,
               count(*) FILTER (WHERE t.state = 'done') AS done
        FROM accord.task t JOIN accord.person a ON a.id = t.assignee_id WHERE t.program_id = $1 GROUP BY a.handle
        """
    ) {
        (
            handle: try $0.decode(String.self, "handle"), pending: try $0.decode(Int.self, "pending"), overdue: try $0.decode(Int.self, "overdue"),
            done: try $0.decode(Int.self, "done")
        )
    }
    static let escalationsReceived = PostgresQuery<Int64, (handle: String, count: Int)>(
        "report_escalations_received",
        "\(LeadershipSQL.escalationsFrom) AND t.program_id = $1 GROUP BY r.handle"
    ) { (handle: try $0.decode(String.self, "handle"), count: try $0.decode(Int.self, "n")) }
    /// A program's ($1) outstanding tasks past due on $2, with the highest escalation fired for the due date.
    static let overdue = PostgresQuery<Int64, String, OverdueReport.Row>(
        "report_overdue",
        """
        SELECT accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref, t.title, t.state, coalesce(a.handle, 'unassigned (' || t.owner_role || ')') AS owner,
               to_char(t.due_on, 'YYYY-MM-DD') AS due_on, $2::date - t.due_on AS days_late,
               (SELECT 'level ' || e.level || ' to ' || coalesce(e.to_role, '?') || ' (' || array_to_string(e.recipients, ', ') || ') on ' || to_char(e.fired_on, 'YYYY-MM-DD')
                FROM accord.deadline_event e WHERE e.task_id = t.id AND e.kind = 'escalation' AND e.due_on = t.due_on ORDER BY e.level DESC LIMIT 1) AS escalated_to
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.program_id = $1 AND \(TaskState.outstandingSQL("t.state")) AND t.due_on < $2::date
        ORDER BY t.due_on, t.position, s.slug NULLS FIRST
        """
    ) {
        OverdueReport.Row(
            ref: try $0.decode(String.self, "ref"),
            title: try $0.decode(String.self, "title"),
            state: try $0.decode(TaskState.self, "state"),
            owner: try $0.decode(String.self, "owner"),
            dueOn: try $0.decode(String.self, "due_on"),
            daysLate: try $0.decode(Int.self, "days_late"),
            escalatedTo: try $0.decode(String?.self, "escalated_to")
        )
    }

    static let catalogue: [any PostgresCheckable] = [
        tasks, currentSignatures, taskFacts, signingTimes, members, ownerLoad, escalationsReceived, overdue,
    ]
}

extension Store {
    /// One report's data over a program the actor may see, as of `now`.
    public func reportData(_ kind: ReportKind, program slug: String, actor: String?, now: Date = Date()) async throws -> ReportData {
        let today = CalendarDate.today(now: now)
        let content: ReportData.Content =
            switch kind {
            case .status: .status(try await statusReport(program: slug, actor: actor))
            case .accountability: .accountability(try await accountabilityReport(program: slug, actor: actor, today: today))
            case .soa: .soa(try await soaReport(program: slug, actor: actor))
            case .crosswalk: .crosswalk(try await crosswalkReport(program: slug, actor: actor))
            case .overdue: .overdue(try await overdueReport(program: slug, actor: actor, today: today), today: today)
            case .cycles: .cycles(try await cycles(program: slug, actor: actor, now: now))
            }
        let title = try await reading(program: slug, actor: actor) { _, _, program in program.title }
        return ReportData(kind: kind, program: slug, programTitle: title, generatedAt: now, content: content)
    }

    /// The status report of a program the actor may see: every task but retired ones, with its current review's signatures.
    public func statusReport(program slug: String, actor: String?) async throws -> StatusReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            var signatures: [Int64: [String]] = [:]
            for signature in try await connection.query(ReportSQL.currentSignatures, program.id) {
                let decision = signature.decision == .approve ? "approved" : "rejected"
                signatures[signature.taskID, default: []].append("\(signature.handle) \(decision)")
            }
            return StatusReport(
                rows: try await connection.query(ReportSQL.tasks, program.id).map { t in
                    .init(
                        step: t.step,
                        ref: t.ref,
                        title: t.title,
                        state: t.state,
                        ownerRole: t.ownerRole,
                        assignee: t.assignee,
                        dueOn: t.dueOn,
                        overdueDays: t.overdueDays,
                        signatures: signatures[t.id] ?? []
                    )
                }
            )
        }
    }

    /// The accountability report of a program the actor may see, with owners' overdue tasks counted as of `today`.
    public func accountabilityReport(program slug: String, actor: String?, today: CalendarDate = .today()) async throws -> AccountabilityReport {
        let (people, raci, leaders) = try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            var members: [String: (id: Int64, name: String, roles: [String])] = [:]
            for member in try await connection.query(ReportSQL.members, program.id) {
                var entry = members[member.handle] ?? (id: member.id, name: member.name, roles: [String]())
                entry.roles.append(member.role)
                members[member.handle] = entry
            }
            var times: [Int64: (Int, Double?, Double?)] = [:]
            for time in try await connection.query(ReportSQL.signingTimes, program.id) {
                times[time.signerID] = (time.signed, time.medianHours, time.p90Hours)
            }
            var load: [String: (Int, Int, Int)] = [:]
            for owner in try await connection.query(ReportSQL.ownerLoad, program.id, today.description) {
                load[owner.handle] = (owner.pending, owner.overdue, owner.done)
            }
            var escalations: [String: Int] = [:]
            for received in try await connection.query(ReportSQL.escalationsReceived, program.id) {
                escalations[received.handle] = received.count
            }
            func rounded(_ value: Double?) -> Double? { value.map { ($0 * 10).rounded() / 10 } }
            var people: [AccountabilityReport.Person] = []
            var leaders: [String] = []
            for (handle, member) in members.sorted(by: { $0.key < $1.key }) {
                let isLeader = member.roles.contains { workflow.role($0)?.leadership == true }
                if isLeader {
                    leaders.append(handle)
                    let time = times[member.id]
                    people.append(
                        .init(
                            handle: handle,
                            name: member.name,
                            kind: "leader",
                            roles: member.roles,
                            pending: 0,
                            overdue: 0,
                            done: time?.0 ?? 0,
                            medianHoursToSign: rounded(time?.1),
                            p90HoursToSign: rounded(time?.2),
                            escalationsReceived: escalations[handle] ?? 0
                        )
                    )
                }
                if let (pending, overdue, done) = load[handle] {
                    people.append(
                        .init(
                            handle: handle,
                            name: member.name,
                            kind: "owner",
                            roles: member.roles,
                            pending: pending,
                            overdue: overdue,
                            done: done,
                            medianHoursToSign: nil,
                            p90HoursToSign: nil,
                            escalationsReceived: escalations[handle] ?? 0
                        )
                    )
                }
            }
            let raci = workflow.steps.map { step -> AccountabilityReport.RACI in
                let tasks = step.tasks.filter { $0.trigger == nil }
                let signers = tasks.flatMap { $0.approval?.signers.map(\.role) ?? [] }
                let accountable = unique(signers.filter { workflow.role($0)?.leadership == true })
                let informed = unique(
                    tasks.flatMap { $0.escalation?.chain.map { $0.to == "step-owner" ? (step.owner ?? "") : $0.to } ?? [] }.filter { !$0.isEmpty }
                )
                return .init(
                    step: step.key,
                    title: step.title,
                    responsible: unique(tasks.map(\.owner)),
                    accountable: accountable.isEmpty ? step.owner.map { [$0] } ?? [] : accountable,
                    consulted: unique(signers.filter { workflow.role($0)?.leadership != true }),
                    informed: informed
                )
            }
            return (people, raci, leaders)
        }
        // Pending sign-offs: what each leader can sign now in this program (the inbox's own evaluation).
        var result = people
        for handle in leaders {
            let waiting = try await signOffsWaiting(actor: handle, program: slug)
            if let index = result.firstIndex(where: { $0.handle == handle && $0.kind == "leader" }) {
                result[index].pending = waiting.count
                result[index].overdue = waiting.filter { $0.overdueDays != nil }.count
            }
        }
        return AccountabilityReport(people: result, raci: raci)
    }

    /// The statement of applicability of a program the actor may see, over every Annex A control.
    public func soaReport(program slug: String, actor: String?) async throws -> SoAReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let facts = try await connection.query(ReportSQL.taskFacts, program.id)
            let catalogue = ReferenceCatalogue.builtIn
            return SoAReport(
                controls: catalogue.annexAControls.map { control in
                    let keys = Set(workflow.tasks.filter { $0.task.refs.contains(control.id) }.map(\.task.key))
                    let tasks = facts.filter { keys.contains($0.key) }
                    let applicable = tasks.filter { $0.state != .notApplicable }
                    let done = applicable.filter { $0.state == .done }.count
                    let applicability = tasks.isEmpty ? "not addressed" : applicable.isEmpty ? "not applicable" : "applicable"
                    let reasons = unique(tasks.compactMap(\.reason))
                    let status =
                        applicable.isEmpty
                        ? "-"
                        : done == applicable.count
                            ? "implemented"
                            : applicable.contains { $0.state != .blocked && $0.state != .open } || done > 0 ? "in progress" : "not started"
                    return .init(
                        id: control.id,
                        title: control.title,
                        applicability: applicability,
                        justification: reasons.isEmpty ? nil : reasons.joined(separator: "; "),
                        status: status,
                        tasks: tasks.map(\.ref),
                        tasksDone: done,
                        tasksApplicable: applicable.count,
                        evidence: tasks.reduce(0) { $0 + $1.evidence }
                    )
                }
            )
        }
    }

    /// The crosswalk of a program the actor may see: the catalogue's pairs rolled up per article and per
    /// control with the program's progress, and the obligations its systems are subject to that no task addresses.
    public func crosswalkReport(program slug: String, actor: String?) async throws -> CrosswalkReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let facts = try await connection.query(ReportSQL.taskFacts, program.id)
            let systems = try await connection.query(SystemSQL.rows, program.id)
            return Self.crosswalk(workflow: workflow, facts: facts, systems: systems, catalogue: try await referenceCatalogue(on: connection))
        }
    }

    static func crosswalk(
        workflow: Workflow,
        facts: [(key: String, ref: String, state: TaskState, reason: String?, evidence: Int)],
        systems: [SystemRow],
        catalogue: ReferenceCatalogue
    ) -> CrosswalkReport {
        // The article a ref rolls up to: a paragraph's parent, else itself.
        func article(_ id: String) -> String { catalogue[id]?.article ?? id }
        func progress(citing matches: (String) -> Bool) -> CrosswalkReport.Progress {
            let keys = Set(workflow.tasks.filter { $0.task.refs.contains(where: matches) }.map(\.task.key))
            let tasks = facts.filter { keys.contains($0.key) && $0.state != .notApplicable }
            let done = tasks.filter { $0.state == .done }.count
            return .init(tasks: tasks.count, done: done, percentDone: percent(done, of: tasks.count))
        }
        let cited = Set(workflow.tasks.flatMap(\.task.refs))
        let citedArticles = Set(cited.map(article))
        let mappedArticles = Set(catalogue.crosswalk.map { article($0.article) })
        let articles: [CrosswalkReport.Article] = catalogue.references.filter {
            $0.framework == "ai-act" && $0.parent == nil && (citedArticles.contains($0.id) || mappedArticles.contains($0.id))
        }.map { reference in
            let pairs = catalogue.crosswalk.filter { article($0.article) == reference.id }.map { pair in
                CrosswalkReport.Pair(
                    article: pair.article,
                    iso: pair.iso,
                    title: catalogue[pair.iso]?.title ?? pair.iso,
                    coverage: pair.coverage.rawValue,
                    rationale: pair.rationale,
                    progress: progress { $0 == pair.iso }
                )
            }
            let coverage =
                reference.legalOnly
                ? "legal only" : pairs.contains { $0.coverage == "full" } ? "full" : pairs.isEmpty ? "not mapped" : "partial"
            return .init(
                id: reference.id,
                title: reference.title,
                coverage: coverage,
                gap: reference.gap,
                controls: pairs,
                progress: progress { article($0) == reference.id }
            )
        }
        let mappedISO = Set(catalogue.crosswalk.map(\.iso))
        let controls: [CrosswalkReport.Control] = catalogue.references.filter {
            $0.framework == "iso42001" && (cited.contains($0.id) || mappedISO.contains($0.id))
        }.map { reference in
            .init(
                id: reference.id,
                kind: reference.kind,
                title: reference.title,
                articles: catalogue.crosswalk.filter { $0.iso == reference.id }.map { pair in
                    CrosswalkReport.Pair(
                        article: pair.article,
                        iso: pair.iso,
                        title: catalogue[pair.article]?.title ?? pair.article,
                        coverage: pair.coverage.rawValue,
                        rationale: pair.rationale,
                        progress: progress { article($0) == article(pair.article) }
                    )
                },
                progress: progress { $0 == reference.id }
            )
        }
        // Obligations by the law's own scoping (`subject`), against the tasks each system has.
        var unaddressed: [CrosswalkReport.Unaddressed] = []
        for reference in catalogue.references {
            guard let subject = reference.subject else { continue }
            let citing = Set(
                workflow.tasks.filter { $0.task.refs.contains { $0 == reference.id || catalogue[$0]?.parent == reference.id } }.map(\.task.key)
            )
            let subjectSystems = systems.filter { subject.matches($0.profile) }.filter { system in
                !facts.contains { fact in
                    citing.contains(fact.key) && fact.state != .notApplicable
                        && (fact.ref.hasSuffix("@\(system.slug)") || fact.ref.contains("@\(system.slug)+")
                            || workflow.task(fact.key)?.isPerSystem == false)
                }
            }
            if !subjectSystems.isEmpty {
                unaddressed.append(.init(id: reference.id, title: reference.title, systems: subjectSystems.map(\.slug)))
            }
        }
        return CrosswalkReport(
            articles: articles,
            controls: controls,
            unaddressed: unaddressed,
            frameworks: importedFrameworks(workflow: workflow, catalogue: catalogue, progress: progress(citing:)),
            notice: CrosswalkReport.presumptionNotice
        )
    }

    /// The outstanding tasks of a program the actor may see that are past their due date on `today`.
    public func overdueReport(program slug: String, actor: String?, today: CalendarDate = .today()) async throws -> OverdueReport {
        try await reading(program: slug, actor: actor) { connection, _, program in
            OverdueReport(
                rows: try await connection.query(ReportSQL.overdue, program.id, today.description)
            )
        }
    }
}

/// The values in first-seen order, each once.
func unique(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
}
