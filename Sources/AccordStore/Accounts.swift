public import Foundation
import HummingbirdBcrypt
import NIOPosix
import Postgres

/// One of a person's own browser sessions, as their account page and the API list it (never its token).
public struct OwnSession: Codable, Sendable, Equatable {
    /// Its number, for ending it.
    public var id: Int64
    /// When it began (the login).
    public var createdAt: Date
    /// When it was last used (recorded at most once a minute).
    public var lastSeenAt: Date
    /// When it ends at the latest.
    public var expiresAt: Date
    /// The client's address at login, if recorded.
    public var address: String?
    /// Whether it is the session the request came with.
    public var current: Bool
}

/// What a password link is now, for the page that opens it.
public enum PasswordLinkState: Sendable, Equatable {
    /// It works: it sets the password of this person (handle, name).
    case live(handle: String, name: String, purpose: PasswordLink.Purpose)
    /// It worked once, or a newer link or disabling the person replaced it.
    case used
    /// Its 72 hours are over.
    case expired
    /// No such link.
    case unknown
}

enum AccountSQL {
    /// The person's ($1) live sessions, newest first, the one whose token hash is $2 marked; idle ones ($3) left out.
    static let sessions = PostgresQuery<Int64, [UInt8]?, String, OwnSession>(
        "session_list_own",
        """
        SELECT id, created_at, last_seen_at, expires_at, address, (token_sha256 = $2) IS TRUE AS current FROM accord.web_session
        WHERE person_id = $1 AND ended_at IS NULL AND expires_at > now() AND last_seen_at > now() - $3::interval
        ORDER BY created_at DESC, id DESC LIMIT 200
        """,
        row: OwnSession.init(row:)
    )
    static let endOwn = PostgresCommand<Int64, Int64>(
        "session_end_own",
        "UPDATE accord.web_session SET ended_at = now() WHERE id = $1 AND person_id = $2 AND ended_at IS NULL"
    )
    /// Ends the person's ($1) sessions but the one whose token hash is $2 (all of them when $2 is NULL).
    static let endOthers = PostgresCommand<Int64, [UInt8]?>(
        "session_end_others",
        """
        UPDATE accord.web_session SET ended_at = now()
        WHERE person_id = $1 AND ended_at IS NULL AND ($2::bytea IS NULL OR token_sha256 <> $2)
        """
    )
    static let link = PostgresQuery<[UInt8], (handle: String, name: String, purpose: String, used: Bool, expired: Bool)>(
        "password_link_find",
        """
        SELECT p.handle, p.name, l.purpose, l.used_at IS NOT NULL OR l.withdrawn_at IS NOT NULL OR p.disabled_at IS NOT NULL AS used,
               l.expires_at <= now() AS expired
        FROM accord.password_link l JOIN accord.person p ON p.id = l.person_id WHERE l.token_sha256 = $1
        """
    ) {
        (
            handle: try $0.decode(String.self, "handle"), name: try $0.decode(String.self, "name"),
            purpose: try $0.decode(String.self, "purpose"), used: try $0.decode(Bool.self, "used"), expired: try $0.decode(Bool.self, "expired")
        )
    }
    /// Uses a live link once: the row is claimed by this update, so two requests cannot both use it.
    static let useLink = PostgresQuery<[UInt8], Int64>(
        "password_link_use",
        """
        UPDATE accord.password_link l SET used_at = now() FROM accord.person p
        WHERE l.token_sha256 = $1 AND p.id = l.person_id AND l.used_at IS NULL AND l.withdrawn_at IS NULL AND l.expires_at > now()
          AND p.disabled_at IS NULL
        RETURNING l.person_id
        """
    ) { try $0.decode(Int64.self, "person_id") }

    static let catalogue: [any PostgresCheckable] = [sessions, endOwn, endOthers, link, useLink]
}

extension OwnSession {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        createdAt = try row.decode(Date.self, "created_at")
        lastSeenAt = try row.decode(Date.self, "last_seen_at")
        expiresAt = try row.decode(Date.self, "expires_at")
        address = try row.decode(String?.self, "address")
        current = try row.decode(Bool.self, "current")
    }
}

extension Store {
    /// The actor's own live sessions, newest first; `currentCookie` (the request's session cookie) marks its session.
    public func ownSessions(actor: String?, currentCookie: String?, policy: SessionPolicy = SessionPolicy()) async throws -> [OwnSession] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(AccountSQL.sessions, acting.id, currentCookie.map(sha256Bytes), interval(policy.idleTimeout))
        }
    }

    /// Ends one of the actor's own sessions (another person's is not found).
    public func endOwnSession(_ id: Int64, actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard try await connection.execute(AccountSQL.endOwn, id, acting.id) == 1 else {
                throw AccordError(.notFound, "no session \(id) of yours in force")
            }
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: acting.handle, action: "session.end", objectType: "web_session", objectID: String(id))
            )
        }
    }

    /// Changes the actor's password: the current one is checked (throttled as signing is, the same
    /// secret), the new one must follow the policy; every other session of theirs ends, the one named by
    /// `keepingCookie` (the request's) stays.
    public func changePassword(actor: String?, current: String, new: String, keepingCookie: String?) async throws {
        try Self.checkNewPassword(new, field: "new_password")
        _ = try await checkSigningPassword(actor: actor, password: current, refused: "the password is unchanged")
        guard current != new else { throw AccordError(.invalid, "the new password is the current one", field: "new_password") }
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(new, cost: self.passwordCost) }
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            _ = try await connection.execute(PeopleAdminSQL.setPassword, acting.id, hash)
            let ended = try await connection.execute(AccountSQL.endOthers, acting.id, keepingCookie.map(sha256Bytes))
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "person.password-change",
                    objectType: "person",
                    objectID: acting.handle,
                    after: auditJSON(["sessions_ended": String(ended)])
                )
            )
        }
    }

    /// What the password link with this token is now.
    public func passwordLink(token: String) async throws -> PasswordLinkState {
        guard token.utf8.count <= 100 else { return .unknown }
        guard let link = try await pool.withConnection({ try await $0.queryFirst(AccountSQL.link, sha256Bytes(token)) }) else { return .unknown }
        if link.used { return .used }
        if link.expired { return .expired }
        return .live(handle: link.handle, name: link.name, purpose: PasswordLink.Purpose(rawValue: link.purpose) ?? .reset)
    }

    /// Sets a password with a one-time link: the link is used up, the person's sessions end. Returns the
    /// person. An unknown link is not found; a used, withdrawn or expired one is a conflict on `token`.
    public func setPassword(linkToken token: String, password: String) async throws -> Person {
        switch try await passwordLink(token: token) {
        case .unknown: throw AccordError(.notFound, "no such password link; ask an administrator for a new one")
        case .used:
            throw AccordError(.conflict, "this password link was already used or replaced; ask an administrator for a new one", field: "token")
        case .expired:
            throw AccordError(.conflict, "this password link has expired (after 72 hours); ask an administrator for a new one", field: "token")
        case .live: break
        }
        try Self.checkNewPassword(password)
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: self.passwordCost) }
        return try await pool.withTransaction { connection in
            guard let personID = try await connection.queryFirst(AccountSQL.useLink, sha256Bytes(token)) else {
                throw AccordError(.conflict, "this password link was already used or replaced; ask an administrator for a new one", field: "token")
            }
            _ = try await connection.execute(PeopleAdminSQL.setPassword, personID, hash)
            _ = try await connection.execute(SessionSQL.endAll, personID)
            let person = try await connection.queryOne(PeopleAdminSQL.byID, personID)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: person.handle,
                    action: "person.password-set",
                    objectType: "person",
                    objectID: person.handle
                )
            )
            return person
        }
    }
}
