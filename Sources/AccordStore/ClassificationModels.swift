public import AccordCore

/// Why a system is (re)classified: the first walk, a new walk, or an Art. 25(1) change.
public enum ClassificationReason: String, Codable, Sendable, CaseIterable {
    /// The first walk of the questionnaire for the system.
    case initial
    /// A new walk: the questionnaire or the law changed, or the answers were wrong.
    case rerun
    /// The system was substantially modified (Art. 25(1)(b)).
    case substantialModification = "substantial-modification"
    /// Its intended purpose changed (Art. 25(1)(c)).
    case intendedPurposeChange = "intended-purpose-change"
    /// The organisation put its name or trademark on it (Art. 25(1)(a)).
    case ownNameOrTrademark = "own-name-or-trademark"
}

/// What a classification did or, in a dry run, would do.
public struct ClassificationResult: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The system's slug.
    public var system: String
    /// `questionnaire@version`.
    public var questionnaire: String
    /// The version of the law it follows.
    public var lawVersion: String
    /// Why it was classified.
    public var reason: ClassificationReason
    /// The walk: answered questions with their refs, the outcomes reached.
    public var walk: ClassificationWalk
    /// The profile before.
    public var previous: SystemProfile
    /// The profile now.
    public var profile: SystemProfile
    /// Tasks created for obligations that now apply.
    public var added: [String]
    /// Outstanding tasks closed as not applicable ("reclassified on DATE").
    public var closed: [String]
    /// Tasks closed by an earlier reclassification that apply again.
    public var reinstated: [String]
    /// Finished tasks that no longer apply: their work and signatures stay on record.
    public var kept: [String]
    /// The task whose evidence the answers became, awaiting its sign-off.
    public var task: String?
    /// False for a dry run.
    public var recorded: Bool
}

/// One stored classification of a system, for its history.
public struct ClassificationRecord: Codable, Sendable, Equatable {
    /// `questionnaire@version`.
    public var questionnaire: String
    /// The version of the law it followed.
    public var lawVersion: String
    /// Why it was made.
    public var reason: ClassificationReason
    /// A note given with it.
    public var note: String?
    /// The resulting profile.
    public var profile: SystemProfile
    /// The walk (questions, refs, answers, outcomes).
    public var walk: ClassificationWalk
    /// The task changes it made.
    public var changes: ClassificationChanges
    /// Who recorded it.
    public var recordedBy: String
    /// When, ISO 8601.
    public var recordedAt: String
}

/// The task changes of one classification.
public struct ClassificationChanges: Codable, Sendable, Equatable {
    /// Tasks created for obligations that now apply.
    public var added: [String]
    /// Outstanding tasks closed as not applicable.
    public var closed: [String]
    /// Tasks an earlier reclassification closed that apply again.
    public var reinstated: [String]
    /// Finished tasks that no longer apply, kept on record.
    public var kept: [String]
}
