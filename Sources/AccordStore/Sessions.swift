public import AccordCore
import Crypto
public import Foundation
import HummingbirdBcrypt
import NIOPosix
import Postgres

/// A browser session, as the web front sees it.
public struct WebSession: Sendable, Equatable {
    /// The person logged in.
    public var person: Person
    /// The token every form of this session must carry.
    public var csrfToken: String
}

/// A new session: the cookie value (shown to the browser only) and the session.
public struct NewWebSession: Sendable {
    /// The session cookie's value; only its hash is kept.
    public var cookieToken: String
    /// The session it opens.
    public var session: WebSession
    /// When it ends at the latest, whatever happens.
    public var expiresAt: Date
}

/// How the person asking for an API token proves they may have it.
public enum TokenProof: Sendable {
    /// The token owner's password.
    case password(String)
    /// An administrator's explicit override, with the reason recorded in the audit log.
    case administratorOverride(reason: String)
}

/// An API token as listed (never the token itself).
public struct APIToken: Codable, Sendable, Equatable {
    /// Its number, for `accord token revoke`.
    public var id: Int64
    /// The handle of the person it acts for.
    public var person: String
    /// What its owner called it.
    public var name: String
    /// When it was created.
    public var createdAt: Date
    /// When it stops working; `nil` for never.
    public var expiresAt: Date?
    /// Whether it was revoked.
    public var revoked: Bool
    /// When it was last used (recorded at most once a minute).
    public var lastUsedAt: Date?
    /// Whether it only reads (GET and HEAD): every change made with it is refused.
    public var readOnly: Bool
}

/// How sessions and logins behave.
public struct SessionPolicy: Sendable {
    /// A session ends after this long without a request.
    public var idleTimeout: Duration = .seconds(30 * 60)
    /// A session ends this long after login, whatever happens.
    public var absoluteTimeout: Duration = .seconds(12 * 3600)
    /// Attempts at one account from one address: five, then a minute's block that doubles with each
    /// attempt after it. Keyed by account *and* address, so a stranger elsewhere cannot lock a real user out.
    public var login = ThrottlePolicy(limit: 5, block: .seconds(60), maxBlock: .seconds(30 * 60), quiet: .seconds(3600))
    /// Failed attempts from one address (an IPv6 /64) at any accounts: password spraying.
    public var address = ThrottlePolicy(limit: 30, block: .seconds(60), maxBlock: .seconds(30 * 60), quiet: .seconds(3600))
    /// Failed attempts at one account from anywhere: guesses spread over many addresses. A high limit and
    /// short blocks (a second, doubling to half a minute) slow such guessing to a crawl without letting a
    /// stranger lock the real user out for longer than that.
    public var account = ThrottlePolicy(limit: 50, block: .seconds(1), maxBlock: .seconds(30), quiet: .seconds(3600))
    /// The longest handle a login reads (handles have at most 63 characters).
    public static let maxHandleLength = 63
    /// The longest password a login or signature reads (bcrypt reads 72 bytes).
    public static let maxPasswordLength = 1024

    /// Attempts at one account from one address before the first block (`login.limit`).
    public var maxFailures: Int {
        get { login.limit }
        set { login.limit = newValue }
    }
    /// The first block (`login.block`).
    public var block: Duration {
        get { login.block }
        set {
            login.block = newValue
            login.maxBlock = max(login.maxBlock, newValue)
        }
    }
    /// The defaults described on each property.
    public init() {}
}

enum SessionSQL {
    static let create = PostgresQuery<[UInt8], Int64, String, String, String?, Date>(
        "session_create",
        """
        INSERT INTO accord.web_session (token_sha256, person_id, csrf_token, expires_at, address)
        VALUES ($1, $2, $3, now() + $4::interval, $5) RETURNING expires_at
        """
    ) { try $0.decode(Date.self, "expires_at") }
    /// Resolves a live session, saying whether its last-seen time is more than a minute old.
    static let touch = PostgresQuery<[UInt8], String, (person: Person, csrfToken: String, stale: Bool)>(
        "session_touch",
        """
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash IS NOT NULL AS can_sign, false AS disabled, p.time_zone, s.csrf_token,
               s.last_seen_at < now() - interval '1 minute' AS stale
        FROM accord.web_session s JOIN accord.person p ON p.id = s.person_id
        WHERE s.token_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now()
          AND s.last_seen_at > now() - $2::interval AND p.disabled_at IS NULL
        """
    ) { (person: try Person(row: $0), csrfToken: try $0.decode(String.self, "csrf_token"), stale: try $0.decode(Bool.self, "stale")) }
    static let markSeen = PostgresCommand<[UInt8]>("session_mark_seen", "UPDATE accord.web_session SET last_seen_at = now() WHERE token_sha256 = $1")
    static let end = PostgresCommand<[UInt8]>(
        "session_end",
        "UPDATE accord.web_session SET ended_at = now() WHERE token_sha256 = $1 AND ended_at IS NULL"
    )
    static let endAll = PostgresCommand<Int64>(
        "session_end_all",
        "UPDATE accord.web_session SET ended_at = now() WHERE person_id = $1 AND ended_at IS NULL"
    )
    /// The person logging in ($1), and whether a local password may log them in (passwords are on, or
    /// they are a break-glass administrator).
    static let loginPerson = PostgresQuery<String, (id: Int64, passwordHash: String?, disabled: Bool, passwordAllowed: Bool)>(
        "session_login_person",
        """
        SELECT id, password_hash, disabled_at IS NOT NULL AS disabled,
               (SELECT local_passwords FROM accord.sso_setting) OR (break_glass AND is_admin) AS password_allowed
        FROM accord.person WHERE handle = $1
        """
    ) {
        (
            id: try $0.decode(Int64.self, "id"), passwordHash: try $0.decode(String?.self, "password_hash"),
            disabled: try $0.decode(Bool.self, "disabled"), passwordAllowed: try $0.decode(Bool.self, "password_allowed")
        )
    }
    static let createToken = PostgresQuery<Int64, String, [UInt8], String?, String, Bool, Int64>(
        "token_create",
        """
        INSERT INTO accord.api_token (person_id, name, token_sha256, expires_at, kind, read_only) VALUES ($1, $2, $3, $4::date, $5, $6)
        RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let tokenPerson = PostgresQuery<[UInt8], (person: Person, stale: Bool, readOnly: Bool)>(
        "token_person",
        """
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash IS NOT NULL AS can_sign, false AS disabled, p.time_zone,
               t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stale, t.read_only
        FROM accord.api_token t JOIN accord.person p ON p.id = t.person_id
        WHERE t.token_sha256 = $1 AND t.kind = 'person' AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
          AND p.disabled_at IS NULL
        """
    ) { (person: try Person(row: $0), stale: try $0.decode(Bool.self, "stale"), readOnly: try $0.decode(Bool.self, "read_only")) }
    static let markUsed = PostgresCommand<[UInt8]>("token_mark_used", "UPDATE accord.api_token SET last_used_at = now() WHERE token_sha256 = $1")
    /// Every token ($1, for an administrator) or the person's ($2).
    static let tokens = PostgresQuery<Bool, Int64, APIToken>(
        "token_list",
        """
        SELECT t.id, p.handle, t.name, t.created_at, t.expires_at, t.revoked_at IS NOT NULL AS revoked, t.last_used_at, t.read_only
        FROM accord.api_token t JOIN accord.person p ON p.id = t.person_id WHERE ($1 OR t.person_id = $2) ORDER BY t.id
        """,
        row: APIToken.init(row:)
    )
    static let revokeToken = PostgresCommand<Int64, Bool, Int64>(
        "token_revoke",
        "UPDATE accord.api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL AND ($2 OR person_id = $3)"
    )

    static let catalogue: [any PostgresCheckable] = [
        create, touch, markSeen, end, endAll, loginPerson, createToken, tokenPerson, markUsed, tokens, revokeToken,
    ]
}

/// The part of an address a throttle keys on: an IPv4 address, or an IPv6 address's /64 (one host
/// commonly holds a whole /64, so keying on single IPv6 addresses would give it billions of tries).
func throttleNetwork(_ address: String) -> String {
    guard address.contains(":") else { return address }
    var bytes = [UInt8](repeating: 0, count: 16)
    guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
    let groups = stride(from: 0, to: 8, by: 2).map { String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) }
    return groups.joined(separator: ":") + "::/64"
}

/// A real bcrypt hash at the production cost, compared against when the handle does not exist.
let dummyPasswordHash = Bcrypt.hash("no such person", cost: defaultPasswordCost)

func interval(_ duration: Duration) -> String { "\(duration.components.seconds) seconds" }

/// A random token for cookies, forms and API clients: 32 bytes, URL-safe base64 without padding.
public func randomToken(prefix: String = "") -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    return prefix + base64URL(bytes)
}

/// Bytes as URL-safe base64 without padding (RFC 4648 §5): tokens, PKCE verifiers and challenges.
public func base64URL(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// Compares two secrets in time that depends on their length only, not on where they differ.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<x.count { difference |= x[i] ^ y[i] }
    return difference == 0
}

func sha256Bytes(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

extension Store {
    /// Logs a person in: checks the password with bcrypt and opens a new session (a new id every time).
    /// The attempt is counted before bcrypt runs, per account and address and per address (see
    /// `ThrottlePolicy`), so concurrent guesses cannot pass the limit; the error never says which of
    /// handle or password was wrong.
    public func login(handle: String, password: String, address: String?, policy: SessionPolicy = SessionPolicy()) async throws -> NewWebSession {
        guard handle.utf8.count <= SessionPolicy.maxHandleLength, password.utf8.count <= SessionPolicy.maxPasswordLength else {
            throw AccordError(.unauthenticated, "wrong handle or password")
        }
        let place = address.map(throttleNetwork) ?? "-"
        let account = "login:\(handle.lowercased())@\(place)"
        var keys = [ThrottleKey(key: account, policy: policy.login), ThrottleKey(key: "account:\(handle.lowercased())", policy: policy.account)]
        if address != nil { keys.append(ThrottleKey(key: "address:\(place)", policy: policy.address, shared: true)) }
        var found: (id: Int64, passwordHash: String?, disabled: Bool, passwordAllowed: Bool)?
        do {
            let (matches, _) = try await throttled(keys) {
                found = try await pool.withConnection { try await $0.queryFirst(SessionSQL.loginPerson, handle) }
                let hash = found?.passwordHash
                // Compare against a dummy hash when there is no such person, so timing does not reveal handles.
                let right = try await verifyPassword(password, hash: hash ?? dummyPasswordHash, purpose: .login)
                return right && hash != nil && !(found?.disabled ?? true)
            }
            guard matches else { throw AccordError(.unauthenticated, "wrong handle or password") }
        } catch let blocked as ThrottleBlocked {
            throw AccordError(.unauthenticated, "too many failed logins; try again in \(blocked.seconds) seconds")
        }
        guard let personID = found?.id else { throw AccordError(.unauthenticated, "wrong handle or password") }
        // Said only after the right password, so it reveals nothing to a guesser.
        guard found?.passwordAllowed == true else {
            throw AccordError(.forbidden, "local passwords are off; log in with your organisation's identity provider")
        }
        let token = randomToken()
        let csrf = randomToken()
        let expires: Date = try await pool.withTransaction { connection in
            let expires = try await connection.queryOne(
                SessionSQL.create,
                sha256Bytes(token),
                personID,
                csrf,
                interval(policy.absoluteTimeout),
                address
            )
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: handle, action: "session.login", objectType: "person", objectID: handle)
            )
            return expires
        }
        return NewWebSession(cookieToken: token, session: WebSession(person: try await person(handle), csrfToken: csrf), expiresAt: expires)
    }

    /// The live session for a cookie token, or `nil` (unknown, ended, idle too long, past its absolute end, or the person disabled).
    public func session(cookieToken: String, policy: SessionPolicy = SessionPolicy()) async throws -> WebSession? {
        try await pool.withConnection { connection in
            let key = sha256Bytes(cookieToken)
            guard let live = try await connection.queryFirst(SessionSQL.touch, key, interval(policy.idleTimeout)) else { return nil }
            // Marked seen at most once a minute, and best effort: every request writing the same row would
            // queue requests behind each other, and a read-only database must still serve reads.
            if live.stale { _ = try? await connection.execute(SessionSQL.markSeen, key) }
            return WebSession(person: live.person, csrfToken: live.csrfToken)
        }
    }

    /// Ends a session server-side.
    public func logout(cookieToken: String) async throws {
        try await pool.withConnection { _ = try await $0.execute(SessionSQL.end, sha256Bytes(cookieToken)) }
    }

    /// Creates an API token for a person; returns the token, shown once (only its hash is kept).
    ///
    /// A token acts as its person, so whoever asks for one proves it: with the person's password
    /// (checked and throttled as a signature's is), or, for an administrator, with an explicit override
    /// and its reason, recorded in the audit entry. Naming someone with `--as` is not proof: the CLI is an
    /// operator's tool, and anyone with the database credentials can say any name.
    public func createToken(
        for handle: String,
        name: String,
        expires: CalendarDate?,
        actor: String?,
        proof: TokenProof,
        provisioning: Bool = false,
        readOnly: Bool = false
    ) async throws -> (APIToken, String) {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            throw AccordError(.invalid, "a token needs a name of 1 to 100 characters, to tell it apart when revoking", field: "name")
        }
        if let expires, expires <= CalendarDate.today() {
            throw AccordError(.invalid, "the expiry date \(expires) is not in the future", field: "expires")
        }
        let overrideReason: String?
        switch proof {
        case .password(let password):
            // The owner's own password: the token is theirs, whoever types the command.
            _ = try await checkSigningPassword(actor: handle, password: password, refused: "no token was created")
            overrideReason = nil
        case .administratorOverride(let reason):
            let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !reason.isEmpty else { throw AccordError(.invalid, "an administrator override needs a reason", field: "admin-override") }
            overrideReason = reason
        }
        let token = randomToken(prefix: "acc_")
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let owner = try await Self.person(handle, on: connection)
            guard acting.id == owner.id || acting.isAdmin else {
                throw AccordError(.forbidden, "only \(handle) or an administrator creates tokens for \(handle)")
            }
            if overrideReason != nil, !acting.isAdmin {
                throw AccordError(.forbidden, "only an administrator may override the password check; '\(acting.handle)' is not one")
            }
            // A provisioning token reaches /scim/v2 only, as the administrator who holds it.
            if provisioning, !(owner.isAdmin && owner.id == acting.id) {
                throw AccordError(.forbidden, "a provisioning (SCIM) token is an administrator's own; \(acting.handle) makes it for themselves")
            }
            let kind = provisioning ? "scim" : "person"
            let id = try await connection.queryOne(SessionSQL.createToken, owner.id, name, sha256Bytes(token), expires?.description, kind, readOnly)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "token.create",
                    objectType: "api_token",
                    objectID: String(id),
                    after: auditJSON([
                        "person": handle, "name": name, "kind": kind, "proof": overrideReason == nil ? "password" : "administrator-override",
                        "access": readOnly ? "read-only" : "read-write",
                    ]),
                    reason: overrideReason
                )
            )
            let listed = try await connection.query(SessionSQL.tokens, true, owner.id).first { $0.id == id }!
            return (listed, token)
        }
    }

    /// The person a bearer token acts for, or `nil` when it is unknown, revoked or expired.
    public func person(bearerToken: String) async throws -> Person? {
        try await bearer(bearerToken)?.person
    }

    /// The person a bearer token acts for and whether the token is read-only; `nil` when it is unknown,
    /// revoked or expired.
    public func bearer(_ token: String) async throws -> (person: Person, readOnly: Bool)? {
        try await pool.withConnection { connection in
            let key = sha256Bytes(token)
            guard let holder = try await connection.queryFirst(SessionSQL.tokenPerson, key) else { return nil }
            // Last use is recorded at most once a minute, best effort (see `session(cookieToken:)`).
            if holder.stale { _ = try? await connection.execute(SessionSQL.markUsed, key) }
            return (holder.person, holder.readOnly)
        }
    }

    /// Tokens the actor may see: their own, or everyone's for an administrator unless `ownOnly`.
    public func tokens(actor: String?, ownOnly: Bool = false) async throws -> [APIToken] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(SessionSQL.tokens, acting.isAdmin && !ownOnly, acting.id)
        }
    }

    /// Revokes a token: its holder or an administrator (the holder only, when `ownOnly`).
    public func revokeToken(_ id: Int64, actor: String?, ownOnly: Bool = false) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard try await connection.execute(SessionSQL.revokeToken, id, acting.isAdmin && !ownOnly, acting.id) == 1 else {
                throw AccordError(.notFound, "no active token \(id) of yours")
            }
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: acting.handle, action: "token.revoke", objectType: "api_token", objectID: String(id))
            )
        }
    }
}

extension APIToken {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        person = try row.decode(String.self, "handle")
        name = try row.decode(String.self, "name")
        createdAt = try row.decode(Date.self, "created_at")
        expiresAt = try row.decode(Date?.self, "expires_at")
        revoked = try row.decode(Bool.self, "revoked")
        lastUsedAt = try row.decode(Date?.self, "last_used_at")
        readOnly = try row.decode(Bool.self, "read_only")
    }
}
