public import AccordCore
public import Foundation
import Postgres

/// A task in lists.
public struct TaskSummary: Codable, Sendable, Equatable {
    /// The task's numeric id.
    public var id: Int64
    /// `PROGRAM/TASK` or `PROGRAM/TASK@SYSTEM`.
    public var ref: String
    /// The slug of the program the task belongs to.
    public var program: String
    /// The key of the workflow step the task is part of.
    public var step: String
    /// The key of the workflow template the task was made from.
    public var key: String
    /// The slug of the AI system a per-system task is for; `nil` for program-wide tasks.
    public var system: String?
    /// The task's title.
    public var title: String
    /// The role that works the task.
    public var ownerRole: String
    /// Where the task is in its life cycle.
    public var state: TaskState
    /// The handle of the person assigned to it, if anyone.
    public var assignee: String?
    /// The due date, `YYYY-MM-DD`, when it has one.
    public var dueOn: String?
    /// Days past the due date, for outstanding tasks that are late.
    public var overdueDays: Int?
}

/// A task in detail.
public struct TaskDetail: Codable, Sendable, Equatable {
    /// A reference (a clause or article) the task's template cites, with its title.
    public struct RefTitle: Codable, Sendable, Equatable {
        /// The reference's id in the catalogue.
        public var id: String
        /// Its title; empty when the catalogue does not know it.
        public var title: String
        /// Whether it is legal text only (no standard's clause).
        public var legalOnly: Bool
    }
    /// Another task this one depends on, or that depends on it.
    public struct Link: Codable, Sendable, Equatable {
        /// The other task's ref.
        public var ref: String
        /// The other task's state.
        public var state: TaskState
    }
    /// One audit entry about the task.
    public struct HistoryEntry: Codable, Sendable, Equatable {
        /// The entry's sequence number in its chain.
        public var seq: Int64
        /// When it was recorded.
        public var at: Date
        /// Who acted.
        public var actor: String
        /// What was done (`task.start`, `task.sign`…).
        public var action: String
        /// The reason given, if any.
        public var reason: String?
    }
    /// The task as lists show it.
    public var task: TaskSummary
    /// The title of the step the task is part of.
    public var stepTitle: String
    /// The template's description.
    public var description: String?
    /// The references the template cites.
    public var refs: [RefTitle]
    /// Whether the template rests on legal text only.
    public var legalOnly: Bool
    /// The evidence the template asks for.
    public var evidenceRequired: [String]
    /// The sign-off the task needs, if any.
    public var approval: ApprovalPolicy?
    /// Who is told when the task is late.
    public var escalation: Escalation?
    /// How often the task recurs, when it does.
    public var recurrence: String?
    /// The tasks this one waits for.
    public var dependsOn: [Link]
    /// The tasks that wait for this one.
    public var dependents: [Link]
    /// Who submitted the work last.
    public var submittedBy: String?
    /// Why the task does not apply, when it was marked so.
    public var notApplicableReason: String?
    /// Why the task was retired, when it was.
    public var retiredReason: String?
    /// When work started.
    public var startedAt: Date?
    /// When the work was last submitted.
    public var submittedAt: Date?
    /// When the task was finished.
    public var completedAt: Date?
    /// How many evidence uploads the task has had; signatures bind one of these versions.
    public var evidenceVersion: Int
    /// Every evidence version attached to the task.
    public var evidence: [EvidenceVersion]
    /// Every signature given on the task, oldest first.
    public var signatures: [SignatureRecord]
    /// Sign-offs still needed per role in the current review, when in review.
    public var signaturesNeeded: [String: Int]
    /// The task's audit entries, oldest first.
    public var history: [HistoryEntry]
    /// Reminders, overdue notices and escalations fired for the task.
    public var deadlines: [DeadlineEvent] = []
    /// For the cycle's review (the management review): the program's open findings, an input it must consider (cl. 9.3.2).
    public var openFindings: [OpenFinding] = []
}

/// An open finding, as the management review lists it.
public struct OpenFinding: Codable, Sendable, Equatable {
    /// The finding's number in its program.
    public var number: Int
    /// How severe it is.
    public var severity: String
    /// Where it came from (a `FindingSource`'s raw value).
    public var source: String
    /// The slug of the AI system it concerns, if one.
    public var system: String?
    /// Its title.
    public var title: String
    /// When it was opened.
    public var openedAt: Date
}

/// Filters for `tasks(...)`.
public struct TaskFilter: Sendable {
    /// Only this program's tasks (by slug).
    public var program: String?
    /// Only tasks assigned to this handle.
    public var assignee: String?
    /// Only tasks in this state; by default every state but retired.
    public var state: TaskState?
    /// Only outstanding tasks past their due date.
    public var overdueOnly = false
    /// Tasks assigned to the actor, or unassigned in a role the actor holds.
    public var mineOnly = false
    /// Only tasks of this step (its key).
    public var step: String?
    /// Only tasks owned by this role.
    public var ownerRole: String?
    /// Only tasks brought by this AI system (its slug).
    public var system: String?
    /// Only tasks nobody is assigned to.
    public var unassignedOnly = false
    /// A filter; with no arguments, every task the actor may see.
    public init(program: String? = nil, assignee: String? = nil, state: TaskState? = nil, overdueOnly: Bool = false, mineOnly: Bool = false) {
        self.program = program
        self.assignee = assignee
        self.state = state
        self.overdueOnly = overdueOnly
        self.mineOnly = mineOnly
    }
}

/// An AI system's row, as the engine works with it.
struct SystemRow {
    var id: Int64
    var slug: String
    var profile: SystemProfile
    var addedOn: CalendarDate
}

/// The task row a command works on, locked.
struct TaskRow {
    var id: Int64
    var programID: Int64
    var programSlug: String
    var templateKey: String
    var systemID: Int64?
    var systemSlug: String?
    var ownerRole: String
    var state: TaskState
    var assigneeID: Int64?
    var assigneeHandle: String?
    var instance: String
    var findingID: Int64?
    var incidentID: Int64?
    var ref: String { taskRef(program: programSlug, key: templateKey, system: systemSlug, instance: instance) }
}

/// `PROGRAM/TASK[@SYSTEM][+INSTANCE]`, as `accord.task_ref` writes it in SQL.
extension TaskRow {
    /// From a row with the columns of `TaskSQL.rowColumns`.
    init(lockedRow row: PostgresRow, id: Int64) throws {
        self.init(
            id: id,
            programID: try row.decode(Int64.self, "program_id"),
            programSlug: try row.decode(String.self, "program"),
            templateKey: try row.decode(String.self, "template_key"),
            systemID: try row.decode(Int64?.self, "system_id"),
            systemSlug: try row.decode(String?.self, "system"),
            ownerRole: try row.decode(String.self, "owner_role"),
            state: try row.decode(TaskState.self, "state"),
            assigneeID: try row.decode(Int64?.self, "assignee_id"),
            assigneeHandle: try row.decode(String?.self, "assignee"),
            instance: try row.decode(String.self, "instance"),
            findingID: try row.decode(Int64?.self, "finding_id"),
            incidentID: try row.decode(Int64?.self, "incident_id")
        )
    }

    /// From a row with the columns of `TaskSQL.rowColumns`, its id included.
    init(row: PostgresRow) throws {
        try self.init(lockedRow: row, id: row.decode(Int64.self, "id"))
    }
}

/// Which occasion a task is instantiated for: the roadmap, a cycle's occurrence, a finding or an incident.
struct TaskOccasion {
    /// The `instance` column: '' for the roadmap.
    var instance = ""
    var cycleID: Int64?
    var findingID: Int64?
    var incidentID: Int64?
    /// The day start-relative due dates count from, instead of the program start.
    var start: CalendarDate?
    var incidentClock: CalendarDate?
    /// A due date set by the occasion (a cycle's occurrence), overriding the template's rule.
    var dueOverride: CalendarDate?
    var titleSuffix = ""
    /// A finding's or incident's tasks all carry its AI system, so their dependencies are on the same system.
    var sharesSystem: Bool { findingID != nil || incidentID != nil }
    static let roadmap = TaskOccasion()
}

func taskRef(program: String, key: String, system: String?, instance: String = "") -> String {
    "\(program)/\(key)" + (system.map { "@\($0)" } ?? "") + (instance.isEmpty ? "" : "+\(instance)")
}

extension PostgresRow {
    /// The task ref from the columns `program`, `template_key`, `system` and `instance` of a row.
    func taskRef(program: String? = nil) throws -> String {
        AccordStore.taskRef(
            program: try program ?? decode(String.self, "program"),
            key: try decode(String.self, "template_key"),
            system: try decode(String?.self, "system"),
            instance: try decode(String.self, "instance")
        )
    }
}

extension TaskSummary {
    init(row: PostgresRow) throws {
        let program = try row.decode(String.self, "program")
        let key = try row.decode(String.self, "template_key")
        let system = try row.decode(String?.self, "system")
        id = try row.decode(Int64.self, "id")
        ref = try row.taskRef()
        self.program = program
        step = try row.decode(String.self, "step_key")
        self.key = key
        self.system = system
        title = try row.decode(String.self, "title")
        ownerRole = try row.decode(String.self, "owner_role")
        state = try row.decode(TaskState.self, "state")
        assignee = try row.decode(String?.self, "assignee")
        dueOn = try row.decode(String?.self, "due_on")
        overdueDays = try row.decode(Int?.self, "overdue_days")
    }
}
