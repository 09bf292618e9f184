public import Foundation
import Postgres

/// How a person receives Accord's messages: per kind, and when their digest comes.
public struct MailPreferences: Codable, Sendable, Equatable {
    /// The mode of every choosable kind (at once when never chosen), by the kind's name.
    public var modes: [String: MailMode]
    /// The person's IANA time zone; their messages and pages show times in it.
    public var timeZone: String
    /// The hour of the day (0–23, in `timeZone`) from which the digest is sent.
    public var digestHour: Int
    /// The address messages go to; without one, nothing is sent.
    public var email: String?

    /// The mode of one kind.
    public func mode(_ kind: MailKind) -> MailMode { modes[kind.rawValue] ?? .now }
}

extension Store {
    /// The acting person's notification preferences.
    public func mailPreferences(actor: String?) async throws -> MailPreferences {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await Self.mailPreferences(of: acting, on: connection)
        }
    }

    /// Changes the acting person's preferences, all or nothing, audited. Refused: switching off what is
    /// addressed to the people accountable (escalations, incidents), an unknown time zone, an hour outside 0–23.
    public func setMailPreferences(
        _ modes: [MailKind: MailMode],
        timeZone: String?,
        digestHour: Int?,
        actor: String?
    ) async throws -> MailPreferences {
        for (kind, mode) in modes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard MailKind.choosable.contains(kind) else {
                throw AccordError(.invalid, "'\(kind.rawValue)' is not a kind of message one chooses for", field: kind.rawValue)
            }
            if mode == .off, !kind.canBeSwitchedOff {
                throw AccordError(
                    .invalid,
                    "\(kind.label.lowercased()) cannot be switched off: they are addressed to the people accountable for the work; choose at once or the daily digest",
                    field: kind.rawValue
                )
            }
        }
        if let digestHour, !(0...23).contains(digestHour) {
            throw AccordError(.invalid, "the digest hour is 0 to 23, not \(digestHour)", field: "digest_hour")
        }
        let zone = timeZone?.trimmingCharacters(in: .whitespaces)
        if modes.isEmpty && zone == nil && digestHour == nil { return try await mailPreferences(actor: actor) }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let before = try await Self.mailPreferences(of: acting, on: connection)
            if let zone, try await !connection.queryOne(MailSQL.knownZone, zone) || TimeZone(identifier: zone) == nil {
                throw AccordError(.invalid, "'\(zone)' is not a time zone; use an IANA name such as Europe/Paris or UTC", field: "time_zone")
            }
            for (kind, mode) in modes { try await connection.execute(MailSQL.setPreference, acting.id, kind.rawValue, mode) }
            try await connection.execute(MailSQL.setSchedule, acting.id, zone ?? before.timeZone, digestHour ?? before.digestHour)
            let after = try await Self.mailPreferences(of: acting, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "person.mail-preferences",
                    objectType: "person",
                    objectID: acting.handle,
                    before: auditJSON(before.auditFields),
                    after: auditJSON(after.auditFields)
                )
            )
            return after
        }
    }

    static func mailPreferences(of person: Person, on connection: PostgresConnection) async throws -> MailPreferences {
        let chosen = Dictionary(try await connection.query(MailSQL.preferences, person.id).map { ($0.kind, $0.mode) }) { $1 }
        let (zone, hour) = try await connection.queryOne(MailSQL.schedule, person.id)
        let modes = Dictionary(uniqueKeysWithValues: MailKind.choosable.map { ($0.rawValue, chosen[$0.rawValue] ?? .now) })
        return MailPreferences(modes: modes, timeZone: zone, digestHour: hour, email: person.email)
    }
}

extension MailPreferences {
    var auditFields: [String: String] {
        var fields = modes.mapValues(\.rawValue)
        fields["time_zone"] = timeZone
        fields["digest_hour"] = String(digestHour)
        return fields
    }
}
