public import Foundation
import Postgres

/// A message leased for sending.
public struct OutgoingMail: Sendable {
    /// The message's id: the left part of its `Message-ID`, the same on every attempt.
    public var id: UUID
    /// The recipient's address.
    public var address: String
    /// The recipient's name, for the `To` header.
    public var name: String
    /// What it is about.
    public var kind: MailKind
    /// The thread's key, when it belongs to one (a task's messages).
    public var thread: String?
    /// The subject.
    public var subject: String
    /// What it says.
    public var body: MailBody
    /// A one-time token it carries (a set-password link).
    public var secret: String?
    /// This attempt's number, from 1.
    public var attempt: Int
    /// The lease: only the sender still holding it records the outcome.
    public var leaseToken: UUID
    /// When its cause wrote it.
    public var createdAt: Date
    /// The recipient's time zone, for the times it shows.
    public var timeZone: String
}

/// How a send went, as the SMTP server answered.
public enum MailOutcome: Sendable, Equatable {
    /// Accepted (2xx), with the server's answer.
    case sent(String)
    /// Not now (4xx, or the server could not be reached): tried again later.
    case temporary(String)
    /// Refused for good (5xx): given up and shown to administrators.
    case permanent(String)
}

/// A message given up, as administrators see it.
public struct FailedMail: Codable, Sendable, Equatable {
    /// The message's id.
    public var id: UUID
    /// The recipient's handle.
    public var person: String
    /// The address it was for.
    public var address: String
    /// What it was about.
    public var kind: String
    /// Its subject.
    public var subject: String
    /// How many times it was tried.
    public var attempts: Int
    /// When it was given up.
    public var failedAt: Date
    /// What the server last answered.
    public var lastReply: String
}

/// The outbox at a glance.
public struct MailCounts: Codable, Sendable, Equatable {
    /// Messages sent.
    public var sent: Int
    /// Messages waiting to be sent (or retried).
    public var waiting: Int
    /// Messages waiting for their recipient's digest.
    public var inDigest: Int
    /// Messages given up.
    public var failed: Int
}

/// A message is tried this many times, the wait doubling from `mailFirstRetry` up to an hour, then given up.
public let mailMaximumAttempts = 12
/// The first wait before a retry, in seconds.
public let mailFirstRetry: TimeInterval = 30
/// A message never tried and older than this when a sender first sees it was written while mail was off: not sent.
public let mailStaleAfter: TimeInterval = 3 * 86_400

extension OutgoingMail {
    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        address = try row.decode(String.self, "address")
        name = try row.decode(String.self, "name")
        kind = MailKind(rawValue: try row.decode(String.self, "kind")) ?? .digest
        thread = try row.decode(String?.self, "thread")
        subject = try row.decode(String.self, "subject")
        secret = try row.decode(String?.self, "secret")
        attempt = try row.decode(Int.self, "attempts")
        leaseToken = try row.decode(UUID.self, "lease_token")
        createdAt = try row.decode(Date.self, "created_at")
        timeZone = try row.decode(String.self, "time_zone")
        // Last: a catalogue probe's placeholder is no JSON.
        body = try PostgresJSON(text: try row.decode(String.self, "body")).decode(MailBody.self)
    }
}

extension FailedMail {
    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        person = try row.decode(String.self, "handle")
        address = try row.decode(String.self, "address")
        kind = try row.decode(String.self, "kind")
        subject = try row.decode(String.self, "subject")
        attempts = try row.decode(Int.self, "attempts")
        failedAt = try row.decode(Date.self, "failed_at")
        lastReply = try row.decode(String.self, "last_reply")
    }
}

extension Store {
    /// Leases up to `limit` messages due at `now` for one sender; messages written while mail was off and
    /// now stale are given up first, so turning mail on does not send last month's reminders.
    public func claimMail(now: Date = Date(), limit: Int = 32) async throws -> [OutgoingMail] {
        try await pool.withTransaction { connection in
            try await connection.execute(MailSQL.expire, now.addingTimeInterval(-mailStaleAfter))
            return try await connection.query(MailSQL.claim, now, limit)
        }
    }

    /// Records how a send went: sent; retried after a doubling wait (given up after the last attempt); or
    /// given up at once. The one-time token a message carried is erased once it is sent or given up.
    public func recordMailOutcome(_ mail: OutgoingMail, _ outcome: MailOutcome, now: Date = Date()) async throws {
        try await pool.withConnection { connection in
            switch outcome {
            case .sent(let reply):
                try await connection.execute(MailSQL.sent, mail.id, String(reply.prefix(500)), mail.leaseToken)
            case .temporary(let reply):
                let wait = min(mailFirstRetry * pow(2, Double(mail.attempt - 1)), 3600)
                try await connection.execute(
                    MailSQL.retry,
                    mail.id,
                    String(reply.prefix(500)),
                    now.addingTimeInterval(wait),
                    mailMaximumAttempts,
                    mail.leaseToken
                )
            case .permanent(let reply):
                try await connection.execute(MailSQL.giveUp, mail.id, String(reply.prefix(500)), mail.leaseToken)
            }
        }
    }

    /// Makes the digests due at `now`: for each person whose digest hour has come in their time zone and
    /// whose messages wait for it, one message listing them most late first, once per local day however
    /// many schedulers run (the day's row is claimed in the same transaction). Returns how many were made.
    @discardableResult
    public func makeDigests(now: Date = Date()) async throws -> Int {
        let due = try await pool.withConnection { try await $0.query(MailSQL.digestsDue, now) }
        var made = 0
        for (personID, day) in due {
            made += try await pool.withTransaction { connection in
                guard try await connection.queryFirst(MailSQL.claimDigest, personID, day) != nil else { return 0 }
                let waiting = try await connection.query(MailSQL.digestItems, personID)
                guard !waiting.isEmpty else { return 0 }
                let items = waiting.map {
                    MailDigestItem(subject: $0.subject, path: $0.body.path, late: $0.body.late, summary: $0.body.lines.first ?? "", at: $0.at)
                }
                .sorted { ($0.late ?? Int.min, $1.at) > ($1.late ?? Int.min, $0.at) }
                let latest = items.compactMap(\.late).max().map { $0 > 0 ? ", the latest \(lateness($0))" : "" } ?? ""
                let body = MailBody(
                    lines: ["What waits for you in Accord, most late first."],
                    path: "/inbox",
                    linkLabel: "Open your inbox",
                    reason: "you chose a daily digest for these messages",
                    items: items
                )
                let subject = "Accord digest for \(day): \(items.count) item\(items.count == 1 ? "" : "s")\(latest)"
                let id = try await connection.queryOne(MailSQL.insertDigest, personID, subject, try PostgresJSON(encoding: body))
                try await connection.execute(MailSQL.carried, id, PostgresArray(waiting.map(\.id.uuidString)), personID, day)
                return 1
            }
        }
        return made
    }

    /// The messages given up, newest first (at most `limit`). Administrators only.
    public func failedMail(limit: Int = 50, actor: String?) async throws -> [FailedMail] {
        try await pool.withConnection { connection in
            _ = try await Self.requireAdministrator(actor, to: "sees the mail given up", on: connection)
            return try await connection.query(MailSQL.failed, limit)
        }
    }

    /// How many messages were sent, wait, wait for a digest and were given up. Administrators only.
    public func mailCounts(actor: String?) async throws -> MailCounts {
        try await pool.withConnection { connection in
            _ = try await Self.requireAdministrator(actor, to: "sees the mail outbox", on: connection)
            return try await connection.queryOne(MailSQL.counts)
        }
    }
}
