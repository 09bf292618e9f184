/// What a deadline can fire: a reminder before the due date, the overdue notice, a hand-up along the chain.
public enum DeadlineKind: String, Codable, Sendable, CaseIterable {
    case reminder, overdue, escalation
}

/// One reminder, overdue notice or escalation level of a task's due date, and the day it falls due.
public struct DeadlineMark: Equatable, Sendable {
    /// Whether it is a reminder, the overdue notice or an escalation.
    public var kind: DeadlineKind
    /// Reminders: 1 for the earliest offset, counting up towards the due date. Overdue: 0. Escalations: chain position from 1.
    public var level: Int
    /// The day it falls due.
    public var day: CalendarDate
    /// For escalations: the role handed up to (`step-owner` unresolved).
    public var role: String?
    /// Creates the value from its fields.
    public init(kind: DeadlineKind, level: Int, day: CalendarDate, role: String? = nil) {
        self.kind = kind
        self.level = level
        self.day = day
        self.role = role
    }
}

/// The deadline rules, apart from any database: which marks are due on a day for a task due on another.
public enum DeadlineSchedule {
    /// Every mark the escalation defines for a task due on `due`, in the order they fall due.
    public static func marks(_ escalation: Escalation?, due: CalendarDate) -> [DeadlineMark] {
        var marks: [DeadlineMark] = []
        let reminders = (escalation?.remindBefore ?? []).map { $0.before(due) }.sorted()
        for (index, day) in reminders.enumerated() where day < due {
            marks.append(DeadlineMark(kind: .reminder, level: index + 1, day: day))
        }
        marks.append(DeadlineMark(kind: .overdue, level: 0, day: due.adding(days: 1)))
        for (index, level) in (escalation?.chain ?? []).enumerated() {
            marks.append(DeadlineMark(kind: .escalation, level: index + 1, day: level.day(forDue: due), role: level.to))
        }
        return marks.sorted(by: inFiringOrder)
    }

    private static func inFiringOrder(_ a: DeadlineMark, _ b: DeadlineMark) -> Bool {
        (a.day, a.kind.order, a.level) < (b.day, b.kind.order, b.level)
    }

    /// The marks that should have fired by `today`: of the reminders only the latest reached, and none once
    /// the task is late (a late first pass does not send a week-old reminder); the overdue notice once the
    /// due date has passed; every escalation level reached, since each goes to other people.
    public static func due(_ escalation: Escalation?, due: CalendarDate, today: CalendarDate) -> [DeadlineMark] {
        let reached = marks(escalation, due: due).filter { $0.day <= today }
        let latestReminder = today < due ? reached.last { $0.kind == .reminder } : nil
        return (reached.filter { $0.kind != .reminder } + (latestReminder.map { [$0] } ?? [])).sorted(by: inFiringOrder)
    }

    /// The furthest ahead of a due date anything fires, so a scheduler knows which tasks to look at.
    public static func horizon(_ escalation: Escalation?) -> Int {
        guard let escalation else { return 0 }
        let probe = CalendarDate(year: 2000, month: 1, day: 1)!
        let days =
            escalation.remindBefore.map { $0.before(probe).days(until: probe) }
            + escalation.chain.filter(\.beforeDue).map { $0.after.before(probe).days(until: probe) }
        return days.max() ?? 0
    }
}

extension DeadlineKind {
    fileprivate var order: Int {
        switch self {
        case .reminder: 0
        case .overdue: 1
        case .escalation: 2
        }
    }
}

/// A serious incident's kind; its AI Act Art. 73 notification clock, counted from awareness, is data in
/// `reference/regulation.yaml` (`incident_clocks`).
public enum IncidentKind: String, Codable, Sendable, CaseIterable {
    /// The death of a person.
    case death
    /// A serious and irreversible disruption of the management or operation of critical infrastructure (Art. 3(49)(b)).
    case criticalInfrastructure = "critical-infrastructure"
    /// A widespread infringement (Art. 3(61)).
    case widespread
    /// Any other serious incident (Art. 3(49)).
    case other

    /// Days from awareness to the latest notification, from the reference's `incident_clocks`.
    public var clockDays: Int { ReferenceCatalogue.builtIn.requiredClock(self).days }

    /// The paragraph that sets the clock, e.g. "Art. 73(2)".
    public var paragraph: String { ReferenceCatalogue.builtIn.requiredClock(self).paragraph }
}
