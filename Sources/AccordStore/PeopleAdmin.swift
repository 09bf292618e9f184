public import Foundation
import Postgres

/// Which people a list shows: a search over handle, name and e-mail, and whether active or disabled.
public struct PersonFilter: Sendable, Equatable {
    /// Whether an account is in force.
    public enum Status: String, Sendable, CaseIterable {
        /// May log in, sign and be assigned work.
        case active
        /// Disabled: no login, no token, no signature.
        case disabled
    }
    /// Text that the handle, the name or the e-mail address contains (any case); `nil` for everyone.
    public var search: String?
    /// Only active or only disabled people; `nil` for both.
    public var status: Status?

    /// A filter; blank search text means no search.
    public init(search: String? = nil, status: Status? = nil) {
        let text = search?.trimmingCharacters(in: .whitespaces) ?? ""
        self.search = text.isEmpty ? nil : text
        self.status = status
    }

    /// The search as an `ILIKE` pattern, its own `%`, `_` and `\` taken literally.
    var pattern: String? {
        search.map {
            "%"
                + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
        }
    }
}

/// A one-time link to set a password, as the administrator who made it sees it, once.
public struct PasswordLink: Sendable, Equatable {
    /// Why the link was made.
    public enum Purpose: String, Sendable, Codable {
        /// A new person's first password.
        case welcome
        /// A password an administrator reset.
        case reset
    }
    /// The secret in the link (`/set-password/TOKEN`); only its SHA-256 is kept.
    public var token: String
    /// The handle of the person whose password it sets.
    public var person: String
    /// Why it was made.
    public var purpose: Purpose
    /// When it stops working.
    public var expiresAt: Date
}

/// How long a password link works: 72 hours.
public let passwordLinkLifetime: Duration = .seconds(72 * 3600)

enum PeopleAdminSQL {
    static let page = PostgresQuery<String?, Bool?, Int64, Int64, Counted<Person>>(
        "person_page",
        """
        SELECT count(*) OVER () AS total, \(PeopleSQL.personColumns) FROM accord.person
        WHERE ($1::text IS NULL OR handle ILIKE $1 ESCAPE '\\' OR name ILIKE $1 ESCAPE '\\' OR coalesce(email, '') ILIKE $1 ESCAPE '\\')
          AND ($2::boolean IS NULL OR (disabled_at IS NOT NULL) = $2)
        ORDER BY handle LIMIT $3 OFFSET $4
        """,
        planning: .perCall,
        row: { try Counted(row: $0, Person.init(row:)) }
    )
    /// The active administrators, locked: two administrators disabling each other at once queue here,
    /// so the second sees the first's change and one active administrator always remains.
    static let lockActiveAdmins = PostgresQuery<Int64>(
        "person_lock_active_admins",
        "SELECT id FROM accord.person WHERE is_admin AND disabled_at IS NULL ORDER BY id FOR UPDATE"
    ) { try $0.decode(Int64.self, "id") }
    static let disable = PostgresCommand<Int64>(
        "person_disable",
        "UPDATE accord.person SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL"
    )
    static let enable = PostgresCommand<Int64>(
        "person_enable",
        "UPDATE accord.person SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL"
    )
    static let byID = PostgresQuery<Int64, Person>(
        "person_by_id",
        "SELECT \(PeopleSQL.personColumns) FROM accord.person WHERE id = $1",
        row: Person.init(row:)
    )
    static let clearPassword = PostgresCommand<Int64>("person_clear_password", "UPDATE accord.person SET password_hash = NULL WHERE id = $1")
    static let setPassword = PostgresCommand<Int64, String>("person_set_password", "UPDATE accord.person SET password_hash = $2 WHERE id = $1")
    static let revokeTokens = PostgresCommand<Int64>(
        "token_revoke_all",
        "UPDATE accord.api_token SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL"
    )
    static let withdrawLinks = PostgresCommand<Int64>(
        "password_link_withdraw_all",
        "UPDATE accord.password_link SET withdrawn_at = now() WHERE person_id = $1 AND used_at IS NULL AND withdrawn_at IS NULL"
    )
    static let createLink = PostgresQuery<[UInt8], Int64, String, Int64, String, Date>(
        "password_link_create",
        """
        INSERT INTO accord.password_link (token_sha256, person_id, purpose, created_by, expires_at)
        VALUES ($1, $2, $3, $4, now() + $5::interval) RETURNING expires_at
        """
    ) { try $0.decode(Date.self, "expires_at") }

    static let catalogue: [any PostgresCheckable] = [
        page, lockActiveAdmins, byID, disable, enable, clearPassword, setPassword, revokeTokens, withdrawLinks, createLink,
    ]
}

extension Store {
    /// One page of people, filtered and cut in SQL: administrators only.
    public func people(_ filter: PersonFilter, paging: Paging, actor: String?) async throws -> Paged<Person> {
        try await pool.withConnection { connection in
            _ = try await Self.requireAdministrator(actor, to: "lists people", on: connection)
            return try await Self.paged(paging) { limit, offset in
                try await connection.query(PeopleAdminSQL.page, filter.pattern, filter.status.map { $0 == .disabled }, limit, offset)
            }
        }
    }

    /// One person, for an administrator.
    public func person(_ handle: String, actor: String?) async throws -> Person {
        try await pool.withConnection { connection in
            _ = try await Self.requireAdministrator(actor, to: "looks people up", on: connection)
            return try await Self.person(handle, on: connection)
        }
    }

    /// Adds a person without a password and makes the one-time link that sets it (72 hours, single use),
    /// in one transaction with its audit entry. Administrators only; the link is returned once.
    public func invitePerson(handle: String, name: String, email: String?, admin: Bool, actor: String?) async throws -> (Person, PasswordLink) {
        let name = name.trimmingCharacters(in: .whitespaces)
        let email = email.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        let token = randomToken()
        return try await pool.withTransaction { connection in
            // Who may comes before what is valid: someone else learns nothing from validation messages.
            let acting = try await Self.requireAdministrator(actor, to: "adds people", on: connection)
            try Self.checkPersonFields(handle: handle, name: name, email: email)
            do {
                let person = try await connection.queryOne(PeopleSQL.insert, handle, name, email, admin, nil)
                let link = try await Self.makeLink(token, for: person, purpose: .welcome, by: acting, on: connection)
                try await Self.mailPasswordLink(link, for: person, by: acting, on: connection)
                try await connection.appendAudit(
                    AuditRecord(
                        chain: organisationChain,
                        actor: acting.handle,
                        action: "person.add",
                        objectType: "person",
                        objectID: handle,
                        after: auditJSON([
                            "handle": handle, "name": name, "email": email ?? "", "admin": admin ? "yes" : "no", "password": "link",
                            "link_expires": ISO8601DateFormatter().string(from: link.expiresAt),
                        ])
                    )
                )
                return (person, link)
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccordError(.conflict, "a person with handle '\(handle)' already exists", field: "handle")
            }
        }
    }

    /// Disables a person: no login, no token, no signature from now on; their sessions end, their API
    /// tokens are revoked and any password link stops working, at once; their delegations end and each
    /// program's managers are told what to reassign (`settleLeaver`). An administrator may not disable
    /// themselves, nor the last active administrator.
    public func disablePerson(_ handle: String, actor: String?) async throws -> Person {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "disables people", on: connection)
            try await Self.disable(try await Self.person(handle, on: connection), by: acting, on: connection)
            return try await Self.person(handle, on: connection)
        }
    }

    /// `disablePerson` inside a caller's transaction (SCIM writes and deactivates in one).
    static func disable(_ target: Person, by acting: Person, on connection: PostgresConnection) async throws {
        let admins = try await connection.query(PeopleAdminSQL.lockActiveAdmins)
        guard target.id != acting.id else { throw AccordError(.conflict, "you cannot disable yourself; another administrator can") }
        guard !target.disabled else { throw AccordError(.conflict, "\(target.handle) is already disabled") }
        if target.isAdmin, admins == [target.id] {
            throw AccordError(.conflict, "\(target.handle) is the last active administrator; make someone else an administrator first")
        }
        _ = try await connection.execute(PeopleAdminSQL.disable, target.id)
        let sessions = try await connection.execute(SessionSQL.endAll, target.id)
        let tokens = try await connection.execute(PeopleAdminSQL.revokeTokens, target.id)
        _ = try await connection.execute(PeopleAdminSQL.withdrawLinks, target.id)
        try await settleLeaver(target, by: acting, on: connection)
        try await connection.appendAudit(
            AuditRecord(
                chain: organisationChain,
                actor: acting.handle,
                action: "person.disable",
                objectType: "person",
                objectID: target.handle,
                after: auditJSON(["sessions_ended": String(sessions), "tokens_revoked": String(tokens)])
            )
        )
    }

    /// Enables a disabled person again. Their old sessions and tokens stay ended: they log in afresh.
    public func enablePerson(_ handle: String, actor: String?) async throws -> Person {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "enables people", on: connection)
            try await Self.enable(try await Self.person(handle, on: connection), by: acting, on: connection)
            return try await Self.person(handle, on: connection)
        }
    }

    /// `enablePerson` inside a caller's transaction.
    static func enable(_ target: Person, by acting: Person, on connection: PostgresConnection) async throws {
        guard try await connection.execute(PeopleAdminSQL.enable, target.id) == 1 else {
            throw AccordError(.conflict, "\(target.handle) is not disabled")
        }
        try await connection.appendAudit(
            AuditRecord(chain: organisationChain, actor: acting.handle, action: "person.enable", objectType: "person", objectID: target.handle)
        )
    }

    /// Resets a person's password: the old one stops working, their sessions end, any earlier link stops
    /// working, and a new one-time link (72 hours, single use) is returned once. Administrators only, for
    /// someone else who is active (one's own password is changed on the account page).
    public func resetPassword(_ handle: String, actor: String?) async throws -> PasswordLink {
        let token = randomToken()
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "resets passwords", on: connection)
            let target = try await Self.person(handle, on: connection)
            guard target.id != acting.id else {
                throw AccordError(.conflict, "change your own password on your account page, with your current one")
            }
            guard !target.disabled else { throw AccordError(.conflict, "\(handle) is disabled; enable them first") }
            _ = try await connection.execute(PeopleAdminSQL.clearPassword, target.id)
            let sessions = try await connection.execute(SessionSQL.endAll, target.id)
            _ = try await connection.execute(PeopleAdminSQL.withdrawLinks, target.id)
            let link = try await Self.makeLink(token, for: target, purpose: .reset, by: acting, on: connection)
            try await Self.mailPasswordLink(link, for: target, by: acting, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "person.password-reset",
                    objectType: "person",
                    objectID: handle,
                    after: auditJSON(["sessions_ended": String(sessions), "link_expires": ISO8601DateFormatter().string(from: link.expiresAt)])
                )
            )
            return link
        }
    }

    private static func makeLink(
        _ token: String,
        for person: Person,
        purpose: PasswordLink.Purpose,
        by acting: Person,
        on connection: PostgresConnection
    ) async throws -> PasswordLink {
        let expires = try await connection.queryOne(
            PeopleAdminSQL.createLink,
            sha256Bytes(token),
            person.id,
            purpose.rawValue,
            acting.id,
            interval(passwordLinkLifetime)
        )
        return PasswordLink(token: token, person: person.handle, purpose: purpose, expiresAt: expires)
    }

    /// The acting person, who must be an active administrator; `doing` words the refusal.
    static func requireAdministrator(_ actor: String?, to doing: String, on connection: PostgresConnection) async throws -> Person {
        let acting = try await requireActor(actor, on: connection)
        guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator \(doing); '\(acting.handle)' is not one") }
        return acting
    }

    /// A new password must have at least 12 characters and at most the longest a login reads.
    static func checkNewPassword(_ password: String, field: String = "password") throws {
        guard password.count >= 12 else { throw AccordError(.invalid, "the password must have at least 12 characters", field: field) }
        guard password.utf8.count <= SessionPolicy.maxPasswordLength else {
            throw AccordError(.invalid, "a password has at most \(SessionPolicy.maxPasswordLength) bytes", field: field)
        }
    }
}
