import AccordCore
public import Foundation
import Postgres

/// What a message is about: each kind is one line of a person's notification preferences.
public enum MailKind: String, Codable, Sendable, CaseIterable {
    /// A task entered review and the person is a signer it still needs.
    case signoff
    /// A signer rejected the person's task, with the comment.
    case rejection
    /// A task was assigned to the person.
    case assignment
    /// A reminder before a due date.
    case reminder
    /// A task is overdue.
    case overdue
    /// Late work handed up, level by level, to leadership.
    case escalation
    /// A comment on a task the person works, submitted or is asked to sign.
    case comment
    /// A delegation made to the person, or ending.
    case delegation
    /// A serious incident reported, with its Art. 73 deadline.
    case incident
    /// A plan-do-check-act cycle opened or closed.
    case cycle
    /// A finding that needs the person's work.
    case finding
    /// The one-time set-password link of an invitation or a reset: always sent at once, no preference.
    case account
    /// The daily digest itself.
    case digest

    /// The kinds a person chooses for, in the order the preferences page lists them.
    public static let choosable: [MailKind] = [
        .signoff, .rejection, .assignment, .reminder, .overdue, .escalation, .comment, .delegation, .incident, .cycle, .finding,
    ]

    /// Escalations and incidents are addressed to the people accountable: they may move to the digest,
    /// never be switched off.
    public var canBeSwitchedOff: Bool { self != .escalation && self != .incident }

    /// How the preferences page names the kind.
    public var label: String {
        switch self {
        case .signoff: "Sign-off requested"
        case .rejection: "Your task rejected"
        case .assignment: "Task assigned to you"
        case .reminder: "Reminders before a due date"
        case .overdue: "Overdue notices"
        case .escalation: "Escalations of late work"
        case .comment: "Comments on your tasks"
        case .delegation: "Delegations to you, made and ending"
        case .incident: "Serious incidents"
        case .cycle: "Cycles opened and closed"
        case .finding: "Findings that need you"
        case .account: "Account links"
        case .digest: "Daily digest"
        }
    }
}

/// How a person receives one kind of message.
public enum MailMode: String, Codable, Sendable, CaseIterable {
    /// A message of its own, as soon as the cause commits.
    case now
    /// A line in the daily digest.
    case digest
    /// Nothing (the inbox still shows what concerns the person).
    case off
}

/// What a message says, as the outbox keeps it; the sender words it in the recipient's time zone.
public struct MailBody: Codable, Sendable, Equatable {
    /// The paragraphs, in order.
    public var lines: [String]
    /// The page the message links to, from the site's root (`/tasks/12`).
    public var path: String?
    /// The link's words.
    public var linkLabel: String?
    /// Why this person receives it ("you hold top-management in acme").
    public var reason: String
    /// Days past the due date (negative: days left), for the subject and the digest's order.
    public var late: Int?
    /// A moment the message names (an incident's Art. 73 deadline), shown in the recipient's time zone.
    public var deadline: Date?
    /// The digest's lines, most late first; only in a digest.
    public var items: [MailDigestItem]?

    /// A body from its parts.
    public init(
        lines: [String],
        path: String? = nil,
        linkLabel: String? = nil,
        reason: String = "",
        late: Int? = nil,
        deadline: Date? = nil,
        items: [MailDigestItem]? = nil
    ) {
        self.lines = lines
        self.path = path
        self.linkLabel = linkLabel
        self.reason = reason
        self.late = late
        self.deadline = deadline
        self.items = items
    }
}

/// One line of a digest: a message the person moved to the digest.
public struct MailDigestItem: Codable, Sendable, Equatable {
    /// The message's subject.
    public var subject: String
    /// The page it links to.
    public var path: String?
    /// Days late, when it is about a due date.
    public var late: Int?
    /// Its first paragraph.
    public var summary: String
    /// When it was written.
    public var at: Date
}

/// A message written by a cause, for one or more people; `Store.queueMail` stores one row per recipient.
struct MailNotice {
    var kind: MailKind
    var subject: String
    var body: MailBody
    /// The thread's key (`task-12`): a task's messages thread together.
    var thread: String?
    /// A one-time token the message carries (a set-password link), erased once sent.
    var secret: String?

    /// A message about one task, linking to its page and threaded with the task's other messages.
    static func task(
        _ kind: MailKind,
        id: Int64,
        program: String,
        title: String,
        headline: String,
        lines: [String],
        late: Int? = nil
    ) -> MailNotice {
        MailNotice(
            kind: kind,
            subject: "[\(program)] \(headline): \(title)",
            body: MailBody(lines: lines, path: "/tasks/\(id)", linkLabel: "Open the task", late: late),
            thread: "task-\(id)"
        )
    }
}

/// A recipient of a notice, with the reason they receive it.
struct MailRecipient: Hashable {
    var personID: Int64
    var reason: String
}

extension Store {
    /// Writes a notice to the mail outbox for each recipient with an address, in the caller's transaction,
    /// as each one's preference for the kind says: at once, into the digest, or not at all (account links
    /// always at once; escalations and incidents never off). A recipient listed twice receives it once.
    static func queueMail(_ notice: MailNotice, to recipients: [MailRecipient], on connection: PostgresConnection) async throws {
        var seen: Set<Int64> = []
        for recipient in recipients where seen.insert(recipient.personID).inserted {
            var body = notice.body
            body.reason = recipient.reason
            try await connection.execute(
                MailSQL.queue,
                recipient.personID,
                notice.kind.rawValue,
                notice.thread,
                notice.subject,
                try PostgresJSON(encoding: body),
                notice.secret,
                notice.kind == .account
            )
        }
    }

    /// The enabled holders of `roles` in a program, each with the reason "you hold ROLE in PROGRAM".
    static func roleRecipients(
        _ roles: [String],
        program: ProgramRow,
        except: Int64? = nil,
        on connection: PostgresConnection
    ) async throws
        -> [MailRecipient]
    {
        guard !roles.isEmpty else { return [] }
        return try await connection.query(MailSQL.holders, program.id, PostgresArray(roles))
            .filter { $0.personID != except }
            .map { MailRecipient(personID: $0.personID, reason: "you hold \($0.role) in \(program.slug)") }
    }
}

/// "3 days late", "due today", "due in 2 days".
func lateness(_ late: Int) -> String {
    if late > 0 { return "\(late) day\(late == 1 ? "" : "s") late" }
    if late == 0 { return "due today" }
    return "due in \(-late) day\(late == -1 ? "" : "s")"
}

extension MailKind {
    /// The kind of a fired deadline.
    init(deadline: DeadlineKind) {
        switch deadline {
        case .reminder: self = .reminder
        case .overdue: self = .overdue
        case .escalation: self = .escalation
        }
    }
}
