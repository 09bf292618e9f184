/// A versioned roadmap definition: roles, steps and task templates, as written in `workflows/*.yaml`.
public struct Workflow: Codable, Sendable, Equatable {
    /// A stable identifier, e.g. `eu-ai-act-iso42001`.
    public var id: String
    /// A positive version number; a loaded version is immutable.
    public var version: Int
    /// A title for people.
    public var title: String
    /// What the roadmap is for.
    public var description: String?
    /// Named dates (the AI Act's application dates change by amendment, so they are data).
    public var dates: [String: NamedDate]
    /// The roles tasks and approvals refer to, in the order written.
    public var roles: [Role]
    /// The steps, in order, each with its tasks.
    public var steps: [Step]
    /// How continual-improvement cycles run, when the workflow has them.
    public var cycle: CyclePolicy?
    /// How its AI systems are classified: the questionnaire walked and the per-system task whose evidence
    /// the answers become (signed as that task's policy says).
    public var classification: ClassificationPolicy?

    /// Every task template with its step, in order.
    public var tasks: [(step: Step, task: TaskTemplate)] {
        steps.flatMap { step in step.tasks.map { (step, $0) } }
    }

    /// The templates a program instantiates when it starts (or a system is added): those without a trigger.
    public var roadmapTasks: [(step: Step, task: TaskTemplate)] { tasks.filter { $0.task.trigger == nil } }

    /// The templates instantiated for each finding, or for each incident.
    public func triggered(by trigger: TaskTrigger) -> [(step: Step, task: TaskTemplate)] { tasks.filter { $0.task.trigger == trigger } }

    /// The templates a continual-improvement cycle instantiates: recurring ones, and the cycle's review.
    public var recurringTasks: [(step: Step, task: TaskTemplate)] {
        tasks.filter { $0.task.trigger == nil && ($0.task.recurrence != nil || $0.task.key == cycle?.review) }
    }

    /// The role with this key.
    public func role(_ key: String) -> Role? { roles.first { $0.key == key } }

    /// Whether any of these roles manages programs of this workflow.
    public func isManager(holding roles: Set<String>) -> Bool {
        self.roles.contains { $0.manager && roles.contains($0.key) }
    }

    /// The task template with this key.
    public func task(_ key: String) -> TaskTemplate? { steps.lazy.flatMap(\.tasks).first { $0.key == key } }

    /// Creates a workflow from its parts as given, unchecked; `WorkflowLoader.load` is what validates one.
    public init(
        id: String,
        version: Int,
        title: String,
        description: String? = nil,
        dates: [String: NamedDate] = [:],
        roles: [Role],
        steps: [Step],
        cycle: CyclePolicy? = nil,
        classification: ClassificationPolicy? = nil
    ) {
        self.id = id
        self.version = version
        self.title = title
        self.description = description
        self.dates = dates
        self.roles = roles
        self.steps = steps
        self.cycle = cycle
        self.classification = classification
    }
}

/// Which questionnaire classifies a program's AI systems, and which per-system task records each result.
public struct ClassificationPolicy: Codable, Sendable, Equatable {
    /// The questionnaire's id (`workflows/ai-act-classification.yaml`).
    public var questionnaire: String
    /// The per-system task that takes the answers as its evidence and is signed off.
    public var task: String
    /// Creates the value from its fields.
    public init(questionnaire: String, task: String) {
        self.questionnaire = questionnaire
        self.task = task
    }
}

/// How a program's continual-improvement (plan-do-check-act) cycles run (ISO/IEC 42001 cl. 9.3, 10.1).
public struct CyclePolicy: Codable, Sendable, Equatable {
    /// How long a cycle lasts unless `cycle open --period` says otherwise, e.g. `P1Y`.
    public var period: ISODuration
    /// The recurring task whose sign-off closes a cycle (the management review).
    public var review: String
    /// Creates the value from its fields.
    public init(period: ISODuration, review: String) {
        self.period = period
        self.review = review
    }
}

/// What instantiates a task template other than the program itself.
public enum TaskTrigger: String, Codable, Sendable, CaseIterable {
    /// Once per finding (clause 10.2): corrective action, effectiveness check.
    case finding
    /// Once per serious incident (AI Act Art. 73): the reports to the authority.
    case incident
}

/// A date a workflow names, with where it comes from.
public struct NamedDate: Codable, Sendable, Equatable {
    /// The day.
    public var date: CalendarDate
    /// Why this date, e.g. "AI Act Art. 113, as amended by …".
    public var note: String?
    /// Creates the value from its fields.
    public init(date: CalendarDate, note: String? = nil) {
        self.date = date
        self.note = note
    }
}

/// A role of a workflow, bound to people per program.
public struct Role: Codable, Sendable, Equatable {
    /// The key tasks refer to, e.g. `top-management`.
    public var key: String
    /// The title people read, e.g. "Top management".
    public var title: String
    /// Whether members are leadership (ISO/IEC 42001 cl. 5): their sign-offs are reported as such.
    public var leadership: Bool
    /// Whether members manage the program: bind roles, assign tasks, add AI systems, mark tasks not applicable.
    public var manager: Bool
    /// What the role is responsible for.
    public var description: String?
    /// The most people that may hold the role in one program, when limited.
    public var maxMembers: Int?

    /// Creates the value from its fields; a role is neither leadership nor manager unless said.
    public init(key: String, title: String, leadership: Bool = false, manager: Bool = false, description: String? = nil, maxMembers: Int? = nil) {
        self.key = key
        self.title = title
        self.leadership = leadership
        self.manager = manager
        self.description = description
        self.maxMembers = maxMembers
    }
}

/// A stage of the roadmap, grouping tasks.
public struct Step: Codable, Sendable, Equatable {
    /// The step's identifier within the workflow, e.g. `scope`.
    public var key: String
    /// The title people read.
    public var title: String
    /// What the step covers, if written.
    public var description: String?
    /// The role accountable for the step (the first escalation target, `step-owner`).
    public var owner: String?
    /// The step's task templates, in the order written.
    public var tasks: [TaskTemplate]

    /// Creates the value from its fields.
    public init(key: String, title: String, description: String? = nil, owner: String? = nil, tasks: [TaskTemplate]) {
        self.key = key
        self.title = title
        self.description = description
        self.owner = owner
        self.tasks = tasks
    }
}

/// A unit of work as the workflow defines it; a program instantiates it once, or once per matching AI system.
public struct TaskTemplate: Codable, Sendable, Equatable {
    /// The template's identifier, unique in the workflow (`ai-inventory`); task refs and `dependsOn` use it.
    public var key: String
    /// The title people read.
    public var title: String
    /// What the task asks for, if written.
    public var description: String?
    /// The role that does the work.
    public var owner: String
    /// Keys of tasks that must be done (or not applicable) before this one can start.
    public var dependsOn: [String]
    /// When it is due.
    public var due: DueRule?
    /// The evidence the task must carry, in words.
    public var evidence: [String]
    /// Who must sign it off; `nil` means submitting completes it.
    public var approval: ApprovalPolicy?
    /// Reminders and hand-ups when the due date passes.
    public var escalation: Escalation?
    /// How often it recurs in continual-improvement cycles, e.g. `P1Y`.
    public var recurrence: ISODuration?
    /// When set, the task is instantiated once per AI system matching these conditions.
    public var appliesTo: Applicability?
    /// Pointers into the regulation and the standard, e.g. `iso42001:6.1.2`, `ai-act:art-73`.
    public var refs: [String]
    /// An obligation of the law that ISO/IEC 42001 does not cover (CE marking, registration…).
    public var legalOnly: Bool
    /// When set, the task is not part of the roadmap: it is instantiated once per finding or incident.
    public var trigger: TaskTrigger?

    /// Creates the value from its fields; only the key, title and owner are needed.
    public init(
        key: String,
        title: String,
        description: String? = nil,
        owner: String,
        dependsOn: [String] = [],
        due: DueRule? = nil,
        evidence: [String] = [],
        approval: ApprovalPolicy? = nil,
        escalation: Escalation? = nil,
        recurrence: ISODuration? = nil,
        appliesTo: Applicability? = nil,
        refs: [String] = [],
        legalOnly: Bool = false,
        trigger: TaskTrigger? = nil
    ) {
        self.key = key
        self.title = title
        self.description = description
        self.owner = owner
        self.dependsOn = dependsOn
        self.due = due
        self.evidence = evidence
        self.approval = approval
        self.escalation = escalation
        self.recurrence = recurrence
        self.appliesTo = appliesTo
        self.refs = refs
        self.legalOnly = legalOnly
        self.trigger = trigger
    }

    /// Whether the task is instantiated per AI system.
    public var isPerSystem: Bool { appliesTo != nil }
}

/// When a task is due.
public enum DueRule: Codable, Sendable, Equatable {
    /// This long after the program starts (for per-system tasks: after the later of the start and the day the system was added).
    case afterStart(ISODuration)
    /// This long after another task is completed; unknown until then.
    case afterTask(String, ISODuration)
    /// On a named date of the workflow, optionally this long before it.
    case namedDate(String, before: ISODuration?)
    /// On the named date of the first choice whose condition the task's AI system meets (a choice without
    /// one always does), optionally this long before it: e.g. the Annex I or the Annex III date.
    case namedDateBySystem([DateChoice], before: ISODuration?)
    /// On a fixed day, optionally this long before it.
    case fixedDate(CalendarDate, before: ISODuration?)
    /// For incident tasks: when the AI Act's notification clock for the incident's kind runs out (Art. 73).
    case incidentClock
}

/// One alternative of a per-system named date.
public struct DateChoice: Codable, Sendable, Equatable {
    /// The systems it is for; `nil` for every system (the fallback).
    public var when: Applicability?
    /// The workflow's named date.
    public var date: String
    /// Creates the choice.
    public init(when: Applicability?, date: String) {
        self.when = when
        self.date = date
    }
}

/// Who must sign a task off.
public struct ApprovalPolicy: Codable, Sendable, Equatable {
    /// One requirement per role: how many distinct members of it must sign.
    public struct Requirement: Codable, Sendable, Equatable {
        /// The key of the workflow role whose members sign.
        public var role: String
        /// How many distinct members of it must approve (at most `WorkflowLoader.maximumQuorum`).
        public var quorum: Int
        /// Creates a requirement; one signature unless said.
        public init(role: String, quorum: Int = 1) {
            self.role = role
            self.quorum = quorum
        }
    }

    /// Whether requirements may be met in any order, or only one after the other as listed.
    public enum Order: String, Codable, Sendable {
        case parallel, sequential
    }

    /// The requirements, one per role, in the order written (the signing order when sequential).
    public var signers: [Requirement]
    /// Whether the requirements are met in any order or one after the other.
    public var order: Order

    /// Who signs, in words: "1 of legal, then 1 of top-management" (sequential) or "… and …" (parallel).
    public var signersSummary: String {
        signers.map { "\($0.quorum) of \($0.role)" }.joined(separator: order == .sequential ? ", then " : " and ")
    }

    /// Signatures still needed, in words: "1 of board, 2 of legal".
    public static func neededSummary(_ needed: [String: Int]) -> String {
        needed.sorted { $0.key < $1.key }.map { "\($0.value) of \($0.key)" }.joined(separator: ", ")
    }
    /// The assignee, the submitter and the owner may not sign, and one person fills one slot. On by default.
    public var separationOfDuties: Bool

    /// Creates a policy; parallel, with separation of duties, unless said.
    public init(signers: [Requirement], order: Order = .parallel, separationOfDuties: Bool = true) {
        self.signers = signers
        self.order = order
        self.separationOfDuties = separationOfDuties
    }
}

/// Reminders before the due date, and the chain of hand-ups after it.
public struct Escalation: Codable, Sendable, Equatable {
    /// One hand-up: this long after the due date (or, with `beforeDue`, before it), to this role
    /// (`step-owner` for the step's owner role).
    public struct Level: Codable, Sendable, Equatable {
        /// How long after the due date (or before it, with `beforeDue`) the hand-up comes.
        public var after: ISODuration
        /// The role handed up to, or `step-owner` for the owner role of the task's step.
        public var to: String
        /// The hand-up comes `after` *before* the due date: for clocks that must not run out (Art. 73).
        public var beforeDue: Bool
        /// Creates a level; after the due date unless `beforeDue`.
        public init(after: ISODuration, to: String, beforeDue: Bool = false) {
            self.after = after
            self.to = to
            self.beforeDue = beforeDue
        }
        /// Decodes a level as stored; a definition without `beforeDue` (written before it existed) means after the due date.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            after = try c.decode(ISODuration.self, forKey: .after)
            to = try c.decode(String.self, forKey: .to)
            beforeDue = try c.decodeIfPresent(Bool.self, forKey: .beforeDue) ?? false
        }
        /// The day the hand-up falls due for a task due on `due`.
        public func day(forDue due: CalendarDate) -> CalendarDate { beforeDue ? after.before(due) : after.after(due) }
        /// "3 days late" or "1 day before the due date", in words.
        public var summary: String { beforeDue ? "\(after) before due" : "\(after) late" }
    }

    /// How long before the due date each reminder fires (one that falls on or after the due date never does).
    public var remindBefore: [ISODuration]
    /// The hand-ups, in the order written; every level reached fires.
    public var chain: [Level]

    /// Creates the value from its fields; no reminders and no hand-ups unless given.
    public init(remindBefore: [ISODuration] = [], chain: [Level] = []) {
        self.remindBefore = remindBefore
        self.chain = chain
    }
}

extension Workflow {
    /// Whether holding the role gives authority: it leads (top management) or signs some task off.
    /// Managers do not bind themselves into such roles, nor upgrade into a version that makes theirs one.
    public func grantsAuthority(role: String) -> Bool {
        self.role(role)?.leadership == true || tasks.contains { $0.task.approval?.signers.contains { $0.role == role } == true }
    }
}
