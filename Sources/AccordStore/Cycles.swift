import AccordCore
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
    /// Findings opened in the cycle.
    public var findingsOpened: Int
    /// Findings closed in the cycle.
    public var findingsClosed: Int
    /// Mean days from a finding's opening to its closing (its corrective action checked effective), over findings closed in the cycle.
    public var meanDaysToCloseCorrectiveAction: Double?
    /// Escalations fired in the cycle.
    public var escalations: Int
}

/// A continual-improvement cycle.
public struct CycleSummary: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The cycle's number in the program, from 1.
    public var number: Int
    /// Its length, an ISO 8601 duration such as `P3M`.
    public var period: String
    /// Its first day, `YYYY-MM-DD`.
    public var startsOn: String
    /// Its last day, `YYYY-MM-DD`.
    public var endsOn: String
    /// When it was opened.
    public var openedAt: Date
    /// Who opened it: a handle, or `scheduler`.
    public var openedBy: String
    /// When it was closed; `nil` while it is open.
    public var closedAt: Date?
    /// Who closed it.
    public var closedBy: String?
    /// Snapshotted at closing; for an open cycle, as of now.
    public var kpis: CycleKPIs
    /// Whether it is still open.
    public var isOpen: Bool { closedAt == nil }
}

/// A cycle with its tasks.
public struct CycleDetail: Codable, Sendable, Equatable {
    /// The cycle with its figures.
    public var cycle: CycleSummary
    /// Its tasks, by due date.
    public var tasks: [TaskSummary]
    /// The review task(s) whose sign-off closes the cycle.
    public var review: [TaskSummary]
}

extension Store {
    /// Closes the open cycle: refused until its review is done and signed by leadership; snapshots the KPIs.
    public func closeCycle(program slug: String, actor: String?, now: Date = Date()) async throws -> CycleSummary {
        let number: Int = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "close cycles", on: connection)
            try await connection.execute(CycleSQL.lockProgram, program.id)
            guard let latest = try await connection.queryFirst(CycleSQL.latest, program.id), latest.closedAt == nil else {
                throw AccordError(.conflict, "'\(slug)' has no open cycle", remedy: .openCycle(program: slug))
            }
            let cycleID = latest.id
            let number = latest.number
            guard let reviewKey = workflow.cycle?.review else {
                throw AccordError(.conflict, "workflow \(workflow.id) version \(workflow.version) names no cycle review")
            }
            let leadership = workflow.roles.filter(\.leadership).map(\.key)
            let reviews = try await connection.query(CycleSQL.review, cycleID, reviewKey, PostgresArray(leadership))
            let ref = taskRef(program: slug, key: reviewKey, system: nil, instance: "c\(number)")
            guard !reviews.isEmpty else { throw AccordError(.conflict, "cycle \(number) has no '\(reviewKey)' task to close it on") }
            for review in reviews {
                let state = review.state
                guard state == TaskState.done.rawValue, review.leadershipSigned else {
                    throw AccordError(
                        .conflict,
                        "cycle \(number) of '\(slug)' cannot close: its management review \(ref) is \(state), not signed by top management"
                    )
                }
            }
            let kpis = try await Self.kpis(programID: program.id, from: latest.startsOn, to: latest.endsOn, asOf: .today(now: now), on: connection)
            try await connection.execute(CycleSQL.close, cycleID, acting.handle, try PostgresJSON(encoding: kpis))
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
            try await connection.execute(
                DeadlineSQL.emit,
                "cycle.closed",
                program.id,
                try PostgresJSON(encoding: ["program": slug, "number": String(number)])
            )
            try await Self.mailCycle(
                number: number,
                opened: false,
                detail: "\(acting.name) closed cycle \(number) after its management review was signed; its figures are kept as they stand.",
                workflow: workflow,
                program: program,
                on: connection
            )
            return number
        }
        return try await cycle(program: slug, number: number, actor: actor, now: now).cycle
    }

    /// The KPIs of a program over the due dates from `start` to `end`, as of `today`.
    static func kpis(
        programID: Int64,
        from start: CalendarDate,
        to end: CalendarDate,
        asOf today: CalendarDate,
        on connection: PostgresConnection
    ) async throws -> CycleKPIs {
        try await connection.queryOne(CycleSQL.kpis, programID, start.description, end.description, today.description)
    }

    /// The program's cycles, oldest first, with their KPIs.
    public func cycles(program slug: String, actor: String?, now: Date = Date()) async throws -> [CycleSummary] {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            var cycles: [CycleSummary] = []
            for row in try await connection.query(CycleSQL.forProgram, program.id) {
                cycles.append(try await Self.cycleSummary(row, programID: program.id, asOf: .today(now: now), on: connection))
            }
            return cycles
        }
    }

    /// One cycle (the latest when `number` is nil) with its tasks.
    public func cycle(program slug: String, number: Int?, actor: String?, now: Date = Date()) async throws -> CycleDetail {
        try await reading(program: slug, actor: actor) { connection, acting, program in
            let found =
                if let number { try await connection.queryFirst(CycleSQL.one, program.id, number) } else {
                    try await connection.queryFirst(CycleSQL.latestOfProgram, program.id)
                }
            guard let row = found else {
                throw AccordError(
                    .notFound,
                    number.map { "'\(slug)' has no cycle \($0)" } ?? "'\(slug)' has no cycles yet",
                    remedy: number == nil ? .openCycle(program: slug) : nil
                )
            }
            let summary = try await Self.cycleSummary(row, programID: program.id, asOf: .today(now: now), on: connection)
            let tasks = try await connection.query(CycleSQL.tasks, row.id)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            return CycleDetail(cycle: summary, tasks: tasks, review: tasks.filter { $0.key == workflow.cycle?.review })
        }
    }

    /// A cycle's summary, with its snapshotted KPIs, or, while it is open, its KPIs as of `today`.
    private static func cycleSummary(
        _ row: CycleRow,
        programID: Int64,
        asOf today: CalendarDate,
        on connection: PostgresConnection
    ) async throws -> CycleSummary {
        var kpis = try row.kpis?.decode(CycleKPIs.self)
        if kpis == nil { kpis = try await Self.kpis(programID: programID, from: row.startsOn, to: row.endsOn, asOf: today, on: connection) }
        return CycleSummary(
            program: row.program,
            number: row.number,
            period: row.period,
            startsOn: row.startsOn.description,
            endsOn: row.endsOn.description,
            openedAt: row.openedAt,
            openedBy: row.openedBy,
            closedAt: row.closedAt,
            closedBy: row.closedBy,
            kpis: kpis!
        )
    }
}
