public import AccordCore
public import Foundation
import Postgres

enum CalendarSQL {
    static let replace = PostgresCommand<Int64, [UInt8]>(
        "calendar_replace",
        """
        INSERT INTO accord.calendar_feed (person_id, token_sha256) VALUES ($1, $2)
        ON CONFLICT (person_id) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = now()
        """
    )
    static let remove = PostgresCommand<Int64>("calendar_remove", "DELETE FROM accord.calendar_feed WHERE person_id = $1")
    static let person = PostgresQuery<[UInt8], Person>(
        "calendar_person",
        """
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash IS NOT NULL AS can_sign, p.disabled_at IS NOT NULL AS disabled,
               p.time_zone
        FROM accord.calendar_feed f JOIN accord.person p ON p.id = f.person_id WHERE f.token_sha256 = $1 AND p.disabled_at IS NULL
        """,
        row: Person.init(row:)
    )
    static let exists = PostgresQuery<Int64, Date>("calendar_exists", "SELECT created_at FROM accord.calendar_feed WHERE person_id = $1") {
        try $0.decode(Date.self, "created_at")
    }

    static let catalogue: [any PostgresCheckable] = [replace, remove, person, exists]
}

extension Store {
    /// Creates (or replaces) the actor's calendar token; the old feed URL stops working. Returned once.
    public func newCalendarToken(actor: String?) async throws -> String {
        let token = randomToken(prefix: "cal_")
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            try await connection.execute(CalendarSQL.replace, acting.id, sha256Bytes(token))
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: acting.handle, action: "calendar.token", objectType: "person", objectID: acting.handle)
            )
        }
        return token
    }

    /// When the actor's calendar feed was created, if they have one.
    public func calendarFeedCreated(actor: String?) async throws -> Date? {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.queryFirst(CalendarSQL.exists, acting.id)
        }
    }

    /// Turns the actor's feed off.
    public func removeCalendarToken(actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            try await connection.execute(CalendarSQL.remove, acting.id)
        }
    }

    /// The feed for a token: whose it is, their dated outstanding tasks and the sign-offs they can give;
    /// `nil` for an unknown token. The server words it as iCalendar.
    public func calendar(token: String) async throws -> CalendarFeed? {
        guard
            let person = try await pool.withConnection({ connection in
                try await connection.queryFirst(CalendarSQL.person, sha256Bytes(token))
            })
        else { return nil }
        let inbox = try await inbox(actor: person.handle)
        var events: [CalendarFeed.Event] = []
        for task in inbox.tasks { if let due = task.dueOn.flatMap(CalendarDate.init) { events.append(.init(task: task, due: due, kind: .due)) } }
        for task in inbox.signOffs {
            if let due = task.dueOn.flatMap(CalendarDate.init) { events.append(.init(task: task, due: due, kind: .signOff)) }
        }
        return CalendarFeed(personName: person.name, events: events)
    }
}

/// A person's calendar feed: one all-day event per dated task they owe or sign-off they can give.
public struct CalendarFeed: Sendable {
    /// One event.
    public struct Event: Sendable {
        /// What falls due that day.
        public enum Kind: Sendable {
            /// A task of theirs is due.
            case due
            /// A sign-off they can give is due.
            case signOff
        }
        /// The task.
        public var task: TaskSummary
        /// Its due date.
        public var due: CalendarDate
        /// Whether they owe the task or a sign-off on it.
        public var kind: Kind
    }

    /// The person's name.
    public var personName: String
    /// The events, tasks first.
    public var events: [Event]
}
