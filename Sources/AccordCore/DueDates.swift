/// Computes due dates from a workflow's rules.
public enum DueDates {
    /// The due date a rule gives, or `nil` when it is not known yet (due after a task not yet done) or there is no rule.
    /// - Parameters:
    ///   - programStart: the program's start date.
    ///   - systemAdded: for a per-system task, the day its system entered the inventory; start-relative
    ///     dates count from the later of the two.
    ///   - system: for a per-system task, its system's profile (chooses among per-system named dates).
    ///   - incidentClock: for incident tasks, the day the incident's notification clock runs out.
    ///   - completedOn: the completion day of another task of the same program (and system), when done.
    public static func due(
        _ rule: DueRule?,
        programStart: CalendarDate,
        systemAdded: CalendarDate? = nil,
        system: SystemProfile? = nil,
        dates: [String: NamedDate],
        incidentClock: CalendarDate? = nil,
        completedOn: (String) -> CalendarDate? = { _ in nil }
    ) -> CalendarDate? {
        switch rule {
        case nil:
            return nil
        case .afterStart(let duration):
            let base = max(programStart, systemAdded ?? programStart)
            return duration.after(base)
        case .afterTask(let task, let duration):
            return completedOn(task).map(duration.after)
        case .namedDate(let name, let before):
            guard let date = dates[name]?.date else { return nil }
            return before.map { $0.before(date) } ?? date
        case .namedDateBySystem(let choices, let before):
            let chosen = choices.first { choice in choice.when.map { condition in system.map(condition.matches) ?? false } ?? true }
            guard let name = chosen?.date, let date = dates[name]?.date else { return nil }
            return before.map { $0.before(date) } ?? date
        case .fixedDate(let date, let before):
            return before.map { $0.before(date) } ?? date
        case .incidentClock:
            return incidentClock
        }
    }
}
