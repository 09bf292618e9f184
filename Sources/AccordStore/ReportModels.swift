public import AccordCore
public import Foundation

/// The reports an auditor and leadership read, each over one program. Their titles, tables and prose
/// are the fronts' (AccordReports); the engine gathers their data (`reportData`).
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    case status, accountability, soa, crosswalk, overdue, cycles
}

/// One report's data over one program, as of a moment: what each front renders (the CLI's tables, the
/// report page, the CSV, the evidence pack).
public struct ReportData: Sendable {
    /// The figures, by kind of report.
    public enum Content: Sendable {
        /// Per step and task: state, owner, due date, lateness, signatures.
        case status(StatusReport)
        /// Per person: what they owe and sign; RACI per step.
        case accountability(AccountabilityReport)
        /// Per Annex A control: applicability, justification, status.
        case soa(SoAReport)
        /// Per ref: tasks and progress, through the standard or legal-only.
        case crosswalk(CrosswalkReport)
        /// The outstanding tasks past their due date on `today`.
        case overdue(OverdueReport, today: CalendarDate)
        /// One line per plan-do-check-act cycle.
        case cycles([CycleSummary])
    }

    /// Which report.
    public var kind: ReportKind
    /// The program's slug.
    public var program: String
    /// The program's title.
    public var programTitle: String
    /// When the figures were read.
    public var generatedAt: Date
    /// The figures.
    public var content: Content
}

// MARK: - The reports' data

/// Per step and task: state, owner, due date, lateness, signatures.
public struct StatusReport: Codable, Sendable, Equatable {
    /// One task of the program, with where it stands and who has signed it.
    public struct Row: Codable, Sendable, Equatable {
        /// The key of the workflow step the task belongs to.
        public var step: String
        /// The task's ref: `PROGRAM/TASK`, or `PROGRAM/TASK@SYSTEM` for a per-system task.
        public var ref: String
        /// The task's title.
        public var title: String
        /// Where the task is in its life cycle.
        public var state: TaskState
        /// The role that owns and works the task.
        public var ownerRole: String
        /// The handle of the person assigned to the task, if anyone.
        public var assignee: String?
        /// The due date, `YYYY-MM-DD`, when the task has one.
        public var dueOn: String?
        /// Days past the due date as of today, for outstanding tasks that are late; otherwise `nil`.
        public var overdueDays: Int?
        /// The current review's signatures: "grace approved", …
        public var signatures: [String]
    }
    /// Every task of the program except retired ones, in workflow order.
    public var rows: [Row]
}

/// Who is accountable for what: leadership and owners, and each step's RACI from the workflow.
public struct AccountabilityReport: Codable, Sendable, Equatable {
    /// One line for a person as a leader or as an owner; someone who is both has two lines.
    public struct Person: Codable, Sendable, Equatable {
        /// The person's handle.
        public var handle: String
        /// The person's name.
        public var name: String
        /// `leader` (holds a leadership role) or `owner` (assigned work).
        public var kind: String
        /// The roles the person holds in the program.
        public var roles: [String]
        /// Leaders: sign-offs they can give now. Owners: their outstanding tasks.
        public var pending: Int
        /// Leaders: waiting sign-offs whose task is past its due date. Owners: outstanding tasks past their due date.
        public var overdue: Int
        /// Leaders: signatures given. Owners: tasks done.
        public var done: Int
        /// Leaders: median hours from a task's latest submission to their signature; `nil` for owners or without signatures.
        public var medianHoursToSign: Double?
        /// Leaders: 90th-percentile hours from a task's latest submission to their signature; `nil` for owners or without signatures.
        public var p90HoursToSign: Double?
        /// How many escalations in the program named the person among their recipients.
        public var escalationsReceived: Int
    }
    /// Who is responsible, accountable, consulted and informed for one workflow step.
    public struct RACI: Codable, Sendable, Equatable {
        /// The workflow step's key.
        public var step: String
        /// The workflow step's title.
        public var title: String
        /// The owner roles of the step's tasks.
        public var responsible: [String]
        /// Leadership roles that sign the step's tasks off (the step's owner role when none do).
        public var accountable: [String]
        /// Other signer roles: reviewers.
        public var consulted: [String]
        /// Roles that receive the step's escalations.
        public var informed: [String]
    }
    /// Everyone with a role in the program who leads or has tasks assigned, by handle.
    public var people: [Person]
    /// One line per workflow step, in workflow order.
    public var raci: [RACI]
}

/// The statement of applicability: every Annex A control.
public struct SoAReport: Codable, Sendable, Equatable {
    /// One ISO/IEC 42001 Annex A control and how the program's tasks implement it.
    public struct Control: Codable, Sendable, Equatable {
        /// The control's id in the reference catalogue, e.g. `iso42001:A.6.2.8`.
        public var id: String
        /// The control's official title.
        public var title: String
        /// `applicable`, `not applicable` (every implementing task was marked so), `not addressed` (no task refers to it).
        public var applicability: String
        /// The reasons recorded when tasks were marked not applicable.
        public var justification: String?
        /// `implemented` (every applicable task done), `in progress`, `not started`, or `-`.
        public var status: String
        /// The refs of the program's tasks whose templates cite the control, not-applicable ones included.
        public var tasks: [String]
        /// How many of the applicable implementing tasks are done.
        public var tasksDone: Int
        /// How many implementing tasks are not marked not applicable.
        public var tasksApplicable: Int
        /// Evidence versions on the implementing tasks.
        public var evidence: Int
    }
    /// Every Annex A control in the reference catalogue, in catalogue order.
    public var controls: [Control]
}

/// The crosswalk between the AI Act and ISO/IEC 42001 over a program: the catalogue's explicit pairs
/// (article or paragraph ↔ clause or control, with coverage and rationale) rolled up both ways with the
/// program's progress, the legal-only obligations apart, and the obligations its systems are subject to
/// that no task addresses.
public struct CrosswalkReport: Codable, Sendable, Equatable {
    /// How far the program's tasks citing something are done.
    public struct Progress: Codable, Sendable, Equatable {
        /// Tasks citing it, not counting those marked not applicable.
        public var tasks: Int
        /// How many of those are done.
        public var done: Int
        /// `done` as a whole percentage of `tasks`, rounded down (0 when there are no tasks).
        public var percentDone: Int
    }
    /// One pair of the catalogue's crosswalk.
    public struct Pair: Codable, Sendable, Equatable {
        /// The AI Act article or paragraph, e.g. `ai-act:art-26(5)`.
        public var article: String
        /// The ISO/IEC 42001 clause or control, e.g. `iso42001:A.6.2.6`.
        public var iso: String
        /// The other side's title (the control's for an article row, the article's for a control row).
        public var title: String
        /// `full` or `partial`.
        public var coverage: String
        /// Why, in one line.
        public var rationale: String
        /// The program's progress on tasks citing the other side.
        public var progress: Progress
    }
    /// One AI Act article (its paragraphs rolled in).
    public struct Article: Codable, Sendable, Equatable {
        /// The article's id, e.g. `ai-act:art-26`.
        public var id: String
        /// Its official title.
        public var title: String
        /// `full` (some control covers it fully), `partial`, `legal only` (no ISO counterpart) or `not mapped`.
        public var coverage: String
        /// For a legal-only obligation: what the standard does not cover.
        public var gap: String?
        /// The controls that support it.
        public var controls: [Pair]
        /// The program's progress on tasks citing the article or its paragraphs.
        public var progress: Progress
    }
    /// One ISO/IEC 42001 clause or control.
    public struct Control: Codable, Sendable, Equatable {
        /// The clause's or control's id.
        public var id: String
        /// `clause` or `control`.
        public var kind: String
        /// Its official title.
        public var title: String
        /// The AI Act articles and paragraphs it serves.
        public var articles: [Pair]
        /// The program's progress on tasks citing it.
        public var progress: Progress
    }
    /// An obligation a system of the program is subject to that no task of the program addresses.
    public struct Unaddressed: Codable, Sendable, Equatable {
        /// The article or paragraph.
        public var id: String
        /// Its title.
        public var title: String
        /// The systems subject to it, by slug.
        public var systems: [String]
    }
    /// Every AI Act article the workflow cites or the crosswalk maps, in catalogue order.
    public var articles: [Article]
    /// Every ISO/IEC 42001 clause and control the workflow cites or the crosswalk maps, in catalogue order.
    public var controls: [Control]
    /// A mapping from an imported mapping library, seen from one requirement.
    public struct Mapping: Codable, Sendable, Equatable {
        /// The other side's ref (built-in or imported).
        public var ref: String
        /// Its title.
        public var title: String
        /// How the requirement relates to it: `equal`, `subset`, `superset` or `intersect`.
        public var relationship: String
        /// The mapping library's name.
        public var library: String
        /// The program's progress on tasks citing the other side.
        public var progress: Progress
    }
    /// One requirement of an imported framework.
    public struct Requirement: Codable, Sendable, Equatable {
        /// Its id, e.g. `iso27001-2022:A.5.1`.
        public var id: String
        /// Its title.
        public var title: String
        /// The program's progress on tasks citing it.
        public var progress: Progress
        /// What the imported mapping libraries tie it to.
        public var mappings: [Mapping]
    }
    /// A framework imported with `accord catalogue import`.
    public struct Framework: Codable, Sendable, Equatable {
        /// Its id, e.g. `iso27001-2022`.
        public var id: String
        /// Its name.
        public var name: String
        /// The library version in use.
        public var version: Int
        /// The library's copyright line.
        public var copyright: String?
        /// Its requirements the workflow cites or a mapping ties to a cited or built-in ref, in library order.
        public var requirements: [Requirement]
    }
    /// Obligations the program's systems are subject to that no task addresses.
    public var unaddressed: [Unaddressed]
    /// The imported frameworks with requirements in play (empty when none is imported).
    public var frameworks: [Framework]
    /// What ISO/IEC 42001 certification does not give.
    public var notice: String

    /// The statement every crosswalk carries.
    public static let presumptionNotice =
        "ISO/IEC 42001 certification gives no presumption of conformity with the AI Act: that comes from harmonised standards published for the Act (such as the CEN-CENELEC JTC 21 quality-management work, prEN 18286). The pairs below say where the management system supports a legal duty, not that it meets it."
}

/// What is late, whose it is, since when, and who it was escalated to.
public struct OverdueReport: Codable, Sendable, Equatable {
    /// One outstanding task past its due date.
    public struct Row: Codable, Sendable, Equatable {
        /// The task's ref: `PROGRAM/TASK`, or `PROGRAM/TASK@SYSTEM` for a per-system task.
        public var ref: String
        /// The task's title.
        public var title: String
        /// The task's state: blocked, open, in progress or in review.
        public var state: TaskState
        /// The assignee's handle, or `unassigned (ROLE)` naming the owner role when no one is assigned.
        public var owner: String
        /// The due date the task missed, `YYYY-MM-DD`.
        public var dueOn: String
        /// Days from the due date to the report's day.
        public var daysLate: Int
        /// The highest escalation level fired for the current due date: "level 2 to top-management (grace, kat) on 2027-01-18".
        public var escalatedTo: String?
    }
    /// The late tasks, earliest due date first.
    public var rows: [Row]
}
