import AccordCore
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
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash IS NOT NULL AS can_sign, p.disabled_at IS NOT NULL AS disabled
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

    /// The feed for a token: the person's dated outstanding tasks and the sign-offs they can give, as
    /// iCalendar; `nil` for an unknown token.
    public func calendar(token: String, now: Date = Date()) async throws -> String? {
        guard
            let person = try await pool.withConnection({ connection in
                try await connection.queryFirst(CalendarSQL.person, sha256Bytes(token))
            })
        else { return nil }
        let inbox = try await inbox(actor: person.handle)
        var events: [CalendarEvent] = []
        for task in inbox.tasks { if let due = task.dueOn.flatMap(CalendarDate.init) { events.append(.init(task: task, due: due, kind: "Due")) } }
        for task in inbox.signOffs {
            if let due = task.dueOn.flatMap(CalendarDate.init) { events.append(.init(task: task, due: due, kind: "Sign off")) }
        }
        return iCalendar(name: "Accord: \(person.name)", events: events, now: now)
    }
}

struct CalendarEvent {
    var task: TaskSummary
    var due: CalendarDate
    var kind: String
}

/// RFC 5545 text: all-day events, escaped, folded at 75 octets, CRLF line ends.
func iCalendar(name: String, events: [CalendarEvent], now: Date) -> String {
    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;").replacingOccurrences(of: ",", with: "\\,")
            .replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
    }
    func fold(_ line: String) -> String {
        var out = ""
        var current = 0
        for character in line {
            let size = String(character).utf8.count
            if current + size > 75 {
                out += "\r\n "
                current = 1
            }
            out.append(character)
            current += size
        }
        return out + "\r\n"
    }
    func day(_ date: CalendarDate) -> String { date.description.replacingOccurrences(of: "-", with: "") }
    let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    var lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Accord//Deadlines//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:\(escape(name))",
    ]
    for event in events {
        let late = event.task.overdueDays.map { " (\($0) days late)" } ?? ""
        lines += [
            "BEGIN:VEVENT",
            "UID:\(event.kind == "Due" ? "due" : "signoff")-\(event.task.id)@accord",
            "DTSTAMP:\(stamp)",
            "DTSTART;VALUE=DATE:\(day(event.due))",
            "DTEND;VALUE=DATE:\(day(event.due.adding(days: 1)))",
            "SUMMARY:\(escape("\(event.kind): \(event.task.title)\(late)"))",
            "DESCRIPTION:\(escape("\(event.task.ref) · \(event.task.state) · owner \(event.task.ownerRole)"))",
            "CATEGORIES:\(escape(event.task.program))",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    }
    lines.append("END:VCALENDAR")
    return lines.map(fold).joined()
}
