public import AccordCore
public import Foundation

/// Where a finding comes from.
public enum FindingSource: String, Codable, Sendable, CaseIterable {
    /// An internal or external audit, a serious incident, post-market monitoring, a management review, or anything else.
    case audit, incident, monitoring, review, other
}

/// How serious a finding is.
public enum FindingSeverity: String, Codable, Sendable, CaseIterable {
    /// A major or minor nonconformity, or an observation.
    case major, minor, observation
}

/// A nonconformity or observation (ISO/IEC 42001 cl. 10.2) with its corrective-action tasks.
public struct Finding: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The finding's number in the program, from 1.
    public var number: Int
    /// Where it comes from.
    public var source: FindingSource
    /// How serious it is.
    public var severity: FindingSeverity
    /// What was found, in one line.
    public var title: String
    /// The AI system it concerns, when it concerns one.
    public var system: String?
    /// The number of the incident it was opened for.
    public var incident: Int?
    /// The number of the cycle open when it was raised.
    public var cycle: Int?
    /// Its root cause, once recorded (cl. 10.2 b).
    public var rootCause: String?
    /// When it was raised.
    public var openedAt: Date
    /// Who raised it.
    public var openedBy: String
    /// When it closed: root cause recorded and corrective action finished.
    public var closedAt: Date?
    /// Its corrective-action tasks.
    public var tasks: [TaskSummary]
    /// Whether it is still open.
    public var isOpen: Bool { closedAt == nil }
}

/// A serious incident and its Art. 73 notification clock.
public struct Incident: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The incident's number in the program, from 1.
    public var number: Int
    /// The AI system involved.
    public var system: String
    /// Its kind, which sets the notification clock.
    public var kind: IncidentKind
    /// What happened.
    public var summary: String
    /// When the organisation became aware of it: the clock starts here.
    public var awareAt: Date
    /// When the authority must have been notified (awareness + the kind's clock).
    public var reportDueAt: Date
    /// "Art. 73(3), 2 days".
    public var clock: String
    /// Who reported it.
    public var reportedBy: String
    /// The finding opened for its root cause.
    public var finding: Int?
    /// Its report tasks.
    public var tasks: [TaskSummary]
    /// Whether the initial report is done (signed, when the workflow asks for a sign-off).
    public var notified: Bool
}

/// A finding's or incident's opening, as the audit log and the outbox carry it.
struct ImprovementRecord: Encodable {
    var program: String
    var number: Int
    var kind: String
    var title: String
    var system: String?
    var dueAt: String?
    var tasks: [String]
}
