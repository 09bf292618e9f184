public import AccordCore
public import Foundation
import Postgres

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
        try await connection.execute(CycleSQL.lockProgram, program.id)
        let latest = try await connection.queryFirst(CycleSQL.latest, program.id)
        var start = startsOn ?? today
        var number = 1
        if let latest {
            number = latest.number + 1
            if latest.closedAt == nil {
                throw AccordError(
                    .conflict,
                    "cycle \(number - 1) of '\(program.slug)' is open; close it first, which needs its management review signed",
                    remedy: .closeCycle(program: program.slug)
                )
            }
            let previousEnd = latest.endsOn
            if startsOn == nil, previousEnd >= start { start = previousEnd.adding(days: 1) }
            if start <= previousEnd {
                throw AccordError(.conflict, "cycle \(number) cannot start on \(start): cycle \(number - 1) runs until \(previousEnd)")
            }
        }
        let end = period.after(start).adding(days: -1)
        guard end > start else { throw AccordError(.invalid, "a cycle of \(period) is too short") }
        let cycleID = try await connection.queryOne(
            CycleSQL.insert,
            program.id,
            number,
            period.description,
            start.description,
            end.description,
            actor
        )
        let systems = try await connection.query(SystemSQL.rows, program.id)
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
        try await connection.execute(
            DeadlineSQL.emit,
            "cycle.opened",
            program.id,
            try PostgresJSON(encoding: record.merging(["program": program.slug]) { a, _ in a })
        )
        try await mailCycle(
            number: number,
            opened: true,
            detail: "Cycle \(number) runs from \(start) to \(end); \(created) recurring task\(created == 1 ? "" : "s") are due in it.",
            workflow: workflow,
            program: program,
            on: connection
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
        let previous = try await connection.queryOne(CycleSQL.previousDue, program.id, template.key, system?.id)
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

    /// Opens the next cycle of every program whose latest cycle is closed and whose period is over.
    func openDueCycles(today: CalendarDate, workflows: [String: Workflow]) async throws -> [String] {
        let due = try await pool.withConnection { connection in
            try await connection.query(CycleSQL.dueForOpening).compactMap { cycle -> (Int64, Int, String)? in
                guard cycle.closedAt != nil, cycle.endsOn < today else { return nil }
                return (cycle.programID, cycle.number, cycle.period)
            }
        }
        var opened: [String] = []
        for (programID, previous, period) in due {
            do {
                let label = try await pool.withTransaction { connection -> String? in
                    let program = try await Self.programRow(programID, on: connection)
                    guard let workflow = workflows["\(program.workflowID)@\(program.workflowVersion)"] else { return nil }
                    try await connection.execute(CycleSQL.lockProgram, program.id)
                    // Another scheduler may have opened it since the read above.
                    guard try await connection.queryFirst(CycleSQL.latest, program.id)?.number == previous else {
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
