public import AccordCore
public import Foundation
import Postgres

/// The figures a cycle is judged by; snapshotted when it closes, live while it is open.
public struct CycleKPIs: Codable, Sendable, Equatable {
    /// Tasks of the program due within the cycle (not retired or not applicable).
    public var tasksDue: Int
    /// Of those, done on or before their due date.
    public var doneOnTime: Int
    /// Of those, done after their due date.
    public var doneLate: Int
    /// Of those, outstanding and past their due date at the time of the figures.
    public var overdue: Int
    /// `doneOnTime` as a share of the tasks due so far, in percent.
    public var onTimePercent: Int
    /// Median hours from submission to the last sign-off, over sign-offs completed in the cycle.
    public var signOffLatencyHours: Double?
    public var findingsOpened: Int
    public var findingsClosed: Int
    /// Mean days from a finding's opening to its closing (its corrective action checked effective), over findings closed in the cycle.
    public var meanDaysToCloseCorrectiveAction: Double?
    /// Escalations fired in the cycle.
    public var escalations: Int
}

/// A continual-improvement cycle.
public struct CycleSummary: Codable, Sendable, Equatable {
    public var program: String
    public var number: Int
    public var period: String
    public var startsOn: String
    public var endsOn: String
    public var openedAt: Date
    public var openedBy: String
    public var closedAt: Date?
    public var closedBy: String?
    /// Snapshotted at closing; for an open cycle, as of now.
    public var kpis: CycleKPIs
    public var isOpen: Bool { closedAt == nil }
}

/// A cycle with its tasks.
public struct CycleDetail: Codable, Sendable, Equatable {
    public var cycle: CycleSummary
    public var tasks: [TaskSummary]
    /// The review task(s) whose sign-off closes the cycle.
    public var review: [TaskSummary]
}

enum CycleSQL {
    static let lockProgram = "SELECT id FROM accord.program WHERE id = $1 FOR UPDATE"
    static let latest = """
        SELECT id, number, period, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, to_char(ends_on, 'YYYY-MM-DD') AS ends_on, closed_at
        FROM accord.cycle WHERE program_id = $1 ORDER BY number DESC LIMIT 1
        """
    static let insert = """
        INSERT INTO accord.cycle (program_id, number, period, starts_on, ends_on, opened_by) VALUES ($1, $2, $3, $4::date, $5::date, $6) RETURNING id
        """
    static let previousDue = """
        SELECT to_char(max(due_on), 'YYYY-MM-DD') AS due_on FROM accord.task
        WHERE program_id = $1 AND template_key = $2 AND system_id IS NOT DISTINCT FROM $3 AND state <> 'retired'
        """
    static let columns = """
        SELECT c.id, p.slug AS program, c.number, c.period, to_char(c.starts_on, 'YYYY-MM-DD') AS starts_on, to_char(c.ends_on, 'YYYY-MM-DD') AS ends_on,
               c.opened_at, c.opened_by, c.closed_at, c.closed_by, c.kpis
        FROM accord.cycle c JOIN accord.program p ON p.id = c.program_id
        """
    static let forProgram = columns + "\nWHERE c.program_id = $1 ORDER BY c.number"
    static let one = columns + "\nWHERE c.program_id = $1 AND c.number = $2"
    static let latestOfProgram = columns + "\nWHERE c.program_id = $1 ORDER BY c.number DESC LIMIT 1"
    static let tasks = TaskSQL.columns + "\nWHERE t.cycle_id = $1 ORDER BY t.due_on, t.position, s.slug NULLS FIRST, t.instance"
    static let review = """
        SELECT t.id, t.state,
               EXISTS (SELECT 1 FROM accord.signature s WHERE s.task_id = t.id AND s.review_round = t.review_round
                       AND s.decision = 'approve' AND s.role = ANY($3::text[])) AS leadership_signed
        FROM accord.task t WHERE t.cycle_id = $1 AND t.template_key = $2 ORDER BY t.id
        """
    static let close = "UPDATE accord.cycle SET closed_at = now(), closed_by = $2, kpis = $3::jsonb WHERE id = $1 AND closed_at IS NULL"
    static let dueForOpening = """
        SELECT DISTINCT ON (c.program_id) c.program_id, c.number, c.period, to_char(c.ends_on, 'YYYY-MM-DD') AS ends_on, c.closed_at
        FROM accord.cycle c ORDER BY c.program_id, c.number DESC
        """
    /// The KPIs over a window of due dates [$2, $3], as of $4 (now, or the closing time).
    static let kpis = """
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
        """
}

/// The most occurrences of one recurring template in one cycle (a P1D task in a P1Y cycle stops here).
let maximumOccurrencesPerCycle = 60

extension Store {
    /// Opens the program's next cycle and instantiates the recurring tasks due in it. Managers; the
    /// scheduler opens the next cycle itself once the previous one is closed and its period is over.
    public func openCycle(
        program slug: String,
        period: ISODuration?,
        startsOn: CalendarDate?,
        actor: String?,
        now: Date = Date()
    ) async throws -> CycleDetail {
        let number = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "open cycles", on: connection)
            return try await Self.openCycle(
                program,
                workflow: workflow,
                period: period,
                startsOn: startsOn,
                by: acting.handle,
                today: .today(now: now),
                on: connection
            )
        }
        return try await cycle(program: slug, number: number, actor: actor, now: now)
    }

    static func openCycle(
        _ program: ProgramRow,
        workflow: Workflow,
        period: ISODuration?,
        startsOn: CalendarDate?,
        by actor: String,
        today: CalendarDate = .today(),
        on connection: PostgresConnection
    ) async throws -> Int {
        guard let policy = workflow.cycle else {
            throw AccordError(
                .conflict,
                "workflow \(workflow.id) version \(workflow.version) defines no cycles (no 'cycle:' section); upgrade the program to a version that does"
            )
        }
        let period = period ?? policy.period
        guard !period.isZero, !period.hasTimePart else {
            throw AccordError(.invalid, "a cycle's period is whole days, weeks, months or years, e.g. P3M")
        }
        _ = try await connection.query(CycleSQL.lockProgram, [program.id])
        let latest = try await connection.query(CycleSQL.latest, [program.id]).firstRow
        var start = startsOn ?? today
        var number = 1
        if let latest {
            number = try latest.decode(Int.self, "number") + 1
            if try latest.decode(Date?.self, "closed_at") == nil {
                throw AccordError(
                    .conflict,
                    "cycle \(number - 1) of '\(program.slug)' is open; close it first (accord cycle close \(program.slug)), which needs its management review signed"
                )
            }
            let previousEnd = CalendarDate(try latest.decode(String.self, "ends_on"))!
            if startsOn == nil, previousEnd >= start { start = previousEnd.adding(days: 1) }
            if start <= previousEnd {
                throw AccordError(.conflict, "cycle \(number) cannot start on \(start): cycle \(number - 1) runs until \(previousEnd)")
            }
        }
        let end = period.after(start).adding(days: -1)
        guard end > start else { throw AccordError(.invalid, "a cycle of \(period) is too short") }
        let cycleID = try await connection.query(
            CycleSQL.insert,
            [program.id, number, period.description, start.description, end.description, actor]
        )[0]
        .decode(Int64.self, "id")
        let systems = try await connection.query(SystemSQL.rows, [program.id]).map(SystemRow.init(row:))
        var created = 0
        for (step, template) in dependencyOrder(workflow.recurringTasks) {
            let targets: [SystemRow?] = template.isPerSystem ? systems.filter { template.appliesTo?.matches($0.profile) == true } : [nil]
            for system in targets {
                let dues = try await occurrences(
                    of: template,
                    review: template.key == policy.review,
                    start: start,
                    end: end,
                    program: program,
                    system: system,
                    on: connection
                )
                for (index, due) in dues.enumerated() {
                    let occurrence = dues.count == 1 ? "" : ".\(index + 1)"
                    let suffix = dues.count == 1 ? " — cycle \(number)" : " — cycle \(number), \(index + 1) of \(dues.count)"
                    created += try await instantiate(
                        [(step, template)],
                        of: workflow,
                        in: program,
                        system: system,
                        as: TaskOccasion(instance: "c\(number)\(occurrence)", cycleID: cycleID, dueOverride: due, titleSuffix: suffix),
                        on: connection
                    ).count
                }
            }
        }
        let record = [
            "number": String(number), "period": period.description, "starts_on": start.description, "ends_on": end.description,
            "tasks": String(created),
        ]
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(program.slug),
                actor: actor,
                action: "cycle.open",
                objectType: "cycle",
                objectID: "\(program.slug)#\(number)",
                after: auditJSON(record)
            )
        )
        _ = try await connection.query(
            DeadlineSQL.emit,
            ["cycle.opened", program.id, try PostgresJSON(encoding: record.merging(["program": program.slug]) { a, _ in a })]
        )
        return number
    }

    /// The due dates of a recurring template within [start, end]: every `recurrence` from the start when it
    /// fits in the period; else once, when the next one after the last instance falls in the period. The
    /// cycle's review is due once, at the end.
    private static func occurrences(
        of template: TaskTemplate,
        review: Bool,
        start: CalendarDate,
        end: CalendarDate,
        program: ProgramRow,
        system: SystemRow?,
        on connection: PostgresConnection
    ) async throws -> [CalendarDate] {
        if review { return [end] }
        guard let recurrence = template.recurrence, !recurrence.isZero else { return [] }
        var dues: [CalendarDate] = []
        var next = recurrence.after(start).adding(days: -1)
        while next <= end, dues.count < maximumOccurrencesPerCycle {
            dues.append(next)
            next = recurrence.after(next.adding(days: 1)).adding(days: -1)
        }
        if !dues.isEmpty { return dues }
        // Longer than the cycle: due when a recurrence has passed since the last instance's due date.
        let previous = try await connection.query(CycleSQL.previousDue, [program.id, template.key, system?.id])[0]
            .decode(String?.self, "due_on").flatMap(CalendarDate.init)
        guard let previous else { return [end] }
        let due = recurrence.after(previous)
        return due <= end ? [max(due, start)] : []
    }

    /// Templates ordered so that each comes after the recurring templates it depends on.
    private static func dependencyOrder(_ templates: [(step: Step, task: TaskTemplate)]) -> [(step: Step, task: TaskTemplate)] {
        var placed: Set<String> = []
        var ordered: [(step: Step, task: TaskTemplate)] = []
        var rest = templates
        let keys = Set(templates.map(\.task.key))
        while !rest.isEmpty {
            let ready = rest.filter { $0.task.dependsOn.allSatisfy { !keys.contains($0) || placed.contains($0) } }
            let batch = ready.isEmpty ? rest : ready  // a dependency cycle is refused at load; never loop forever
            ordered += batch
            placed.formUnion(batch.map(\.task.key))
            rest.removeAll { item in batch.contains { $0.task.key == item.task.key } }
        }
        return ordered
    }

    /// Closes the open cycle: refused until its review is done and signed by leadership; snapshots the KPIs.
    public func closeCycle(program slug: String, actor: String?, now: Date = Date()) async throws -> CycleSummary {
        let number: Int = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "close cycles", on: connection)
            _ = try await connection.query(CycleSQL.lockProgram, [program.id])
            guard let latest = try await connection.query(CycleSQL.latest, [program.id]).firstRow, try latest.decode(Date?.self, "closed_at") == nil
            else {
                throw AccordError(.conflict, "'\(slug)' has no open cycle; open one with: accord cycle open \(slug)")
            }
            let cycleID = try latest.decode(Int64.self, "id")
            let number = try latest.decode(Int.self, "number")
            guard let reviewKey = workflow.cycle?.review else {
                throw AccordError(.conflict, "workflow \(workflow.id) version \(workflow.version) names no cycle review")
            }
            let leadership = workflow.roles.filter(\.leadership).map(\.key)
            let reviews = try await connection.query(CycleSQL.review, [cycleID, reviewKey, PostgresArray(leadership)])
            let ref = taskRef(program: slug, key: reviewKey, system: nil, instance: "c\(number)")
            guard !reviews.isEmpty else { throw AccordError(.conflict, "cycle \(number) has no '\(reviewKey)' task to close it on") }
            for review in reviews {
                let state = try review.decode(String.self, "state")
                guard state == TaskState.done.rawValue, try review.decode(Bool.self, "leadership_signed") else {
                    throw AccordError(
                        .conflict,
                        "cycle \(number) of '\(slug)' cannot close: its management review \(ref) is \(state), not signed by top management"
                    )
                }
            }
            let start = CalendarDate(try latest.decode(String.self, "starts_on"))!
            let end = CalendarDate(try latest.decode(String.self, "ends_on"))!
            let kpis = try await Self.kpis(programID: program.id, from: start, to: end, asOf: .today(now: now), on: connection)
            try await connection.execute(CycleSQL.close, [cycleID, acting.handle, try PostgresJSON(encoding: kpis)])
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "cycle.close",
                    objectType: "cycle",
                    objectID: "\(slug)#\(number)",
                    after: auditJSON(kpis)
                )
            )
            _ = try await connection.query(
                DeadlineSQL.emit,
                ["cycle.closed", program.id, try PostgresJSON(encoding: ["program": slug, "number": String(number)])]
            )
            return number
        }
        return try await cycle(program: slug, number: number, actor: actor, now: now).cycle
    }

    static func kpis(
        programID: Int64,
        from start: CalendarDate,
        to end: CalendarDate,
        asOf today: CalendarDate,
        on connection: PostgresConnection
    ) async throws -> CycleKPIs {
        let row = try await connection.query(CycleSQL.kpis, [programID, start.description, end.description, today.description])[0]
        let onTime = try row.decode(Int.self, "done_on_time")
        let soFar = try row.decode(Int.self, "due_so_far")
        return CycleKPIs(
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

    /// The program's cycles, oldest first, with their KPIs.
    public func cycles(program slug: String, actor: String?, now: Date = Date()) async throws -> [CycleSummary] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var cycles: [CycleSummary] = []
            for row in try await connection.query(CycleSQL.forProgram, [program.id]) {
                cycles.append(try await Self.cycleSummary(row, programID: program.id, asOf: .today(now: now), on: connection))
            }
            return cycles
        }
    }

    /// One cycle (the latest when `number` is nil) with its tasks.
    public func cycle(program slug: String, number: Int?, actor: String?, now: Date = Date()) async throws -> CycleDetail {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            let rows =
                if let number { try await connection.query(CycleSQL.one, [program.id, number]) } else {
                    try await connection.query(CycleSQL.latestOfProgram, [program.id])
                }
            guard let row = rows.firstRow else {
                throw AccordError(
                    .notFound,
                    number.map { "'\(slug)' has no cycle \($0)" } ?? "'\(slug)' has no cycles yet; open one with: accord cycle open \(slug)"
                )
            }
            let summary = try await Self.cycleSummary(row, programID: program.id, asOf: .today(now: now), on: connection)
            let tasks = try await connection.query(CycleSQL.tasks, [try row.decode(Int64.self, "id")]).map(TaskSummary.init(row:))
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            return CycleDetail(cycle: summary, tasks: tasks, review: tasks.filter { $0.key == workflow.cycle?.review })
        }
    }

    private static func cycleSummary(
        _ row: PostgresRow,
        programID: Int64,
        asOf today: CalendarDate,
        on connection: PostgresConnection
    ) async throws -> CycleSummary {
        let start = CalendarDate(try row.decode(String.self, "starts_on"))!
        let end = CalendarDate(try row.decode(String.self, "ends_on"))!
        var kpis = try row.decode(PostgresJSON?.self, "kpis")?.decode(CycleKPIs.self)
        if kpis == nil { kpis = try await Self.kpis(programID: programID, from: start, to: end, asOf: today, on: connection) }
        return CycleSummary(
            program: try row.decode(String.self, "program"),
            number: try row.decode(Int.self, "number"),
            period: try row.decode(String.self, "period"),
            startsOn: start.description,
            endsOn: end.description,
            openedAt: try row.decode(Date.self, "opened_at"),
            openedBy: try row.decode(String.self, "opened_by"),
            closedAt: try row.decode(Date?.self, "closed_at"),
            closedBy: try row.decode(String?.self, "closed_by"),
            kpis: kpis!
        )
    }

    /// Opens the next cycle of every program whose latest cycle is closed and whose period is over.
    func openDueCycles(today: CalendarDate, workflows: [String: Workflow]) async throws -> [String] {
        let due = try await pool.withConnection { connection in
            try await connection.query(CycleSQL.dueForOpening).compactMap { row -> (Int64, Int, String)? in
                guard try row.decode(Date?.self, "closed_at") != nil, CalendarDate(try row.decode(String.self, "ends_on"))! < today else {
                    return nil
                }
                return (try row.decode(Int64.self, "program_id"), try row.decode(Int.self, "number"), try row.decode(String.self, "period"))
            }
        }
        var opened: [String] = []
        for (programID, previous, period) in due {
            do {
                let label = try await pool.withTransaction { connection -> String? in
                    let program = try await Self.programRow(programID, on: connection)
                    guard let workflow = workflows["\(program.workflowID)@\(program.workflowVersion)"] else { return nil }
                    _ = try await connection.query(CycleSQL.lockProgram, [program.id])
                    // Another scheduler may have opened it since the read above.
                    guard try await connection.query(CycleSQL.latest, [program.id]).firstRow?.decode(Int.self, "number") == previous else {
                        return nil
                    }
                    let number = try await Self.openCycle(
                        program,
                        workflow: workflow,
                        period: ISODuration(period),
                        startsOn: nil,
                        by: "scheduler",
                        today: today,
                        on: connection
                    )
                    return "\(program.slug)#\(number)"
                }
                if let label { opened.append(label) }
            } catch let error as PostgresError where error.isUniqueViolation {
                continue
            }
        }
        return opened
    }
}
