public import Foundation
public import Postgres

enum SSOSQL {
    static let issuerColumns = """
        id, issuer, display_name, client_id, client_secret_sealed IS NOT NULL AS has_secret, link_by_email, groups_claim, created_at
        """
    static let issuers = PostgresQuery<SSOIssuer>(
        "sso_issuers",
        "SELECT \(issuerColumns) FROM accord.sso_issuer WHERE removed_at IS NULL ORDER BY display_name, id",
        row: SSOIssuer.init(row:)
    )
    static let issuer = PostgresQuery<Int64, (issuer: SSOIssuer, sealed: [UInt8]?)>(
        "sso_issuer",
        "SELECT \(issuerColumns), client_secret_sealed FROM accord.sso_issuer WHERE id = $1 AND removed_at IS NULL"
    ) { (try SSOIssuer(row: $0), try $0.decode([UInt8]?.self, "client_secret_sealed")) }
    static let issuerByURL = PostgresQuery<String, SSOIssuer>(
        "sso_issuer_by_url",
        "SELECT \(issuerColumns) FROM accord.sso_issuer WHERE issuer = $1 AND removed_at IS NULL",
        row: SSOIssuer.init(row:)
    )
    /// Adds an issuer, or brings a removed one back with new settings.
    static let addIssuer = PostgresQuery<String, String, String, [UInt8]?, Bool, String, SSOIssuer>(
        "sso_issuer_add",
        """
        INSERT INTO accord.sso_issuer (issuer, display_name, client_id, client_secret_sealed, link_by_email, groups_claim)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (issuer) DO UPDATE SET display_name = $2, client_id = $3, client_secret_sealed = $4, link_by_email = $5,
            groups_claim = $6, removed_at = NULL, created_at = now()
        WHERE accord.sso_issuer.removed_at IS NOT NULL
        RETURNING \(issuerColumns)
        """,
        row: SSOIssuer.init(row:)
    )
    static let removeIssuer = PostgresCommand<Int64>(
        "sso_issuer_remove",
        "UPDATE accord.sso_issuer SET removed_at = now(), client_secret_sealed = NULL WHERE id = $1 AND removed_at IS NULL"
    )
    /// Ends the sessions opened through an issuer ($1).
    static let endIssuerSessions = PostgresCommand<Int64>(
        "sso_issuer_end_sessions",
        """
        UPDATE accord.web_session SET ended_at = now() WHERE ended_at IS NULL
          AND sso_identity_id IN (SELECT id FROM accord.sso_identity WHERE issuer_id = $1)
        """
    )

    /// The person an identity ($1 issuer, $2 subject) is linked to.
    static let identityPerson = PostgresQuery<Int64, String, (identity: Int64, person: Person)>(
        "sso_identity_person",
        """
        SELECT i.id AS identity_id, p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash IS NOT NULL AS can_sign,
               p.disabled_at IS NOT NULL AS disabled, p.time_zone
        FROM accord.sso_identity i JOIN accord.person p ON p.id = i.person_id
        WHERE i.issuer_id = $1 AND i.subject = $2
        """
    ) { (try $0.decode(Int64.self, "identity_id"), try Person(row: $0)) }
    /// The people with an e-mail address ($1), compared without case.
    static let peopleByEmail = PostgresQuery<String, Person>(
        "sso_people_by_email",
        "SELECT \(PeopleSQL.personColumns) FROM accord.person WHERE lower(email) = lower($1) ORDER BY id LIMIT 2",
        row: Person.init(row:)
    )
    static let link = PostgresQuery<Int64, String, Int64, String, Int64>(
        "sso_identity_link",
        "INSERT INTO accord.sso_identity (issuer_id, subject, person_id, linked_by) VALUES ($1, $2, $3, $4) RETURNING id"
    ) { try $0.decode(Int64.self, "id") }
    /// Ends the sessions opened through an identity ($1 issuer, $2 person) and detaches them, so it can go.
    static let detachSessions = PostgresCommand<Int64, Int64>(
        "sso_identity_detach_sessions",
        """
        UPDATE accord.web_session SET ended_at = coalesce(ended_at, now()), sso_identity_id = NULL
        WHERE sso_identity_id IN (SELECT id FROM accord.sso_identity WHERE issuer_id = $1 AND person_id = $2)
        """
    )
    static let unlink = PostgresCommand<Int64, Int64>(
        "sso_identity_unlink",
        "DELETE FROM accord.sso_identity WHERE issuer_id = $1 AND person_id = $2"
    )
    static let touchIdentity = PostgresCommand<Int64>(
        "sso_identity_touch",
        "UPDATE accord.sso_identity SET last_login_at = now() WHERE id = $1"
    )
    /// A person's identities ($1), with their issuers.
    static let identities = PostgresQuery<Int64, SSOLinkedIdentity>(
        "sso_identities",
        """
        SELECT s.id AS issuer_id, s.issuer, s.display_name, i.subject, i.linked_at, i.last_login_at
        FROM accord.sso_identity i JOIN accord.sso_issuer s ON s.id = i.issuer_id
        WHERE i.person_id = $1 AND s.removed_at IS NULL ORDER BY s.display_name
        """,
        row: SSOLinkedIdentity.init(row:)
    )
    /// Whether a person ($1) is linked to an issuer ($2) under a subject ($3).
    static let identityOf = PostgresQuery<Int64, String, String, Bool>(
        "sso_identity_of",
        """
        SELECT EXISTS (SELECT 1 FROM accord.sso_identity i JOIN accord.sso_issuer s ON s.id = i.issuer_id
                       WHERE i.person_id = $1 AND s.issuer = $2 AND i.subject = $3 AND s.removed_at IS NULL) AS linked
        """
    ) { try $0.decode(Bool.self, "linked") }

    static let createRequest = PostgresQuery<[UInt8], Int64, String, [UInt8]?, Int64?, PostgresJSON?, String, (id: UUID, expiresAt: Date)>(
        "sso_request_create",
        """
        INSERT INTO accord.sso_request (state_sha256, issuer_id, purpose, browser_sha256, person_id, signing, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, now() + $7::interval) RETURNING id, expires_at
        """
    ) { (try $0.decode(UUID.self, "id"), try $0.decode(Date.self, "expires_at")) }
    /// Takes a request once ($1 its state's hash), if unused and unexpired, saying whether it came back to
    /// the browser ($2) it was bound to. Taken either way: an answer brought to another browser burns it.
    static let takeRequest = PostgresQuery<
        [UInt8], [UInt8]?, (id: UUID, issuerID: Int64, purpose: String, signer: String?, signing: String?, sameBrowser: Bool, createdAt: Date)
    >(
        "sso_request_take",
        """
        UPDATE accord.sso_request r SET used_at = now()
        WHERE r.state_sha256 = $1 AND r.used_at IS NULL AND r.expires_at > now()
        RETURNING r.id, r.issuer_id, r.purpose, (SELECT handle FROM accord.person WHERE id = r.person_id) AS signer, r.signing::text AS signing,
                  coalesce(r.browser_sha256 IS NULL OR r.browser_sha256 = $2, false) AS same_browser, r.created_at
        """
    ) {
        (
            try $0.decode(UUID.self, "id"), try $0.decode(Int64.self, "issuer_id"), try $0.decode(String.self, "purpose"),
            try $0.decode(String?.self, "signer"), try $0.decode(String?.self, "signing"), try $0.decode(Bool.self, "same_browser"),
            try $0.decode(Date.self, "created_at")
        )
    }
    static let recordOutcome = PostgresCommand<UUID, PostgresJSON>(
        "sso_request_outcome",
        "UPDATE accord.sso_request SET outcome = $2::jsonb WHERE id = $1"
    )
    /// A signing challenge ($1) of its signer ($2).
    static let challenge = PostgresQuery<UUID, Int64, (signing: String, outcome: String?, used: Bool, expiresAt: Date)>(
        "sso_challenge",
        """
        SELECT signing::text AS signing, outcome::text AS outcome, used_at IS NOT NULL AS used, expires_at
        FROM accord.sso_request WHERE id = $1 AND person_id = $2 AND purpose = 'sign'
        """
    ) {
        (
            try $0.decode(String.self, "signing"), try $0.decode(String?.self, "outcome"), try $0.decode(Bool.self, "used"),
            try $0.decode(Date.self, "expires_at")
        )
    }
    static let forgetOldRequests = PostgresQuery<Void>(
        "sso_request_forget",
        "DELETE FROM accord.sso_request WHERE expires_at < now() - interval '1 day'"
    )

    static let settings = PostgresQuery<(localPasswords: Bool, breakGlass: [String])>(
        "sso_settings",
        """
        SELECT local_passwords,
               coalesce((SELECT string_agg(handle, ',' ORDER BY handle) FROM accord.person WHERE break_glass), '') AS break_glass
        FROM accord.sso_setting
        """
    ) { (try $0.decode(Bool.self, "local_passwords"), try $0.decode(String.self, "break_glass").split(separator: ",").map(String.init)) }
    static let setLocalPasswords = PostgresCommand<Bool>("sso_set_local_passwords", "UPDATE accord.sso_setting SET local_passwords = $1")
    static let setBreakGlass = PostgresCommand<Int64, Bool>("sso_set_break_glass", "UPDATE accord.person SET break_glass = $2 WHERE id = $1")
    /// Whether a person ($1) may use a local password now: passwords are on, or they are a break-glass administrator.
    static let passwordAllowed = PostgresQuery<Int64, Bool>(
        "sso_password_allowed",
        """
        SELECT (SELECT local_passwords FROM accord.sso_setting)
            OR EXISTS (SELECT 1 FROM accord.person WHERE id = $1 AND break_glass AND is_admin) AS allowed
        """
    ) { try $0.decode(Bool.self, "allowed") }

    static let rules = PostgresQuery<SSOGroupRule>(
        "sso_rules",
        """
        SELECT r.id, r.group_name, p.slug, r.role FROM accord.sso_group_rule r JOIN accord.program p ON p.id = r.program_id
        ORDER BY r.group_name, p.slug, r.role
        """,
        row: SSOGroupRule.init(row:)
    )
    static let addRule = PostgresQuery<String, Int64, String, Int64>(
        "sso_rule_add",
        "INSERT INTO accord.sso_group_rule (group_name, program_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id"
    ) { try $0.decode(Int64.self, "id") }
    static let removeRule = PostgresQuery<Int64, (group: String, programID: Int64, role: String)>(
        "sso_rule_remove",
        "DELETE FROM accord.sso_group_rule WHERE id = $1 RETURNING group_name, program_id, role"
    ) { (try $0.decode(String.self, "group_name"), try $0.decode(Int64.self, "program_id"), try $0.decode(String.self, "role")) }
    /// For one person ($1), their groups ($2) from one source ($3, oidc or scim): each (program, role) a
    /// rule names or a grant of that source holds, whether a group grants it, whether they hold it, and
    /// whether this source's or the other's rules granted it.
    static let ruleState = PostgresQuery<Int64, PostgresArray<String>, String, SSORuleState>(
        "sso_rule_state",
        """
        WITH targets AS (
            SELECT r.program_id, r.role, r.group_name = ANY($2::text[]) AS granted FROM accord.sso_group_rule r
            UNION ALL
            SELECT g.program_id, g.role, false FROM accord.sso_rule_grant g WHERE g.person_id = $1 AND g.source = $3
        )
        SELECT t.program_id, p.slug, t.role, bool_or(t.granted) AS granted,
               EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = t.program_id AND b.role = t.role AND b.person_id = $1) AS held,
               EXISTS (SELECT 1 FROM accord.sso_rule_grant g WHERE g.program_id = t.program_id AND g.role = t.role AND g.person_id = $1
                         AND g.source = $3) AS by_rule,
               EXISTS (SELECT 1 FROM accord.sso_rule_grant g WHERE g.program_id = t.program_id AND g.role = t.role AND g.person_id = $1
                         AND g.source <> $3) AS by_other
        FROM targets t JOIN accord.program p ON p.id = t.program_id
        GROUP BY t.program_id, p.slug, t.role ORDER BY p.slug, t.role
        """,
        row: SSORuleState.init(row:)
    )
    static let grant = PostgresCommand<Int64, Int64, String, String>(
        "sso_rule_grant",
        "INSERT INTO accord.sso_rule_grant (person_id, program_id, role, source) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
    )
    static let ungrant = PostgresCommand<Int64, Int64, String, String>(
        "sso_rule_ungrant",
        "DELETE FROM accord.sso_rule_grant WHERE person_id = $1 AND program_id = $2 AND role = $3 AND source = $4"
    )
    static let createSession = PostgresQuery<[UInt8], Int64, String, String, String?, Int64, Date>(
        "sso_session_create",
        """
        INSERT INTO accord.web_session (token_sha256, person_id, csrf_token, expires_at, address, sso_identity_id)
        VALUES ($1, $2, $3, now() + $4::interval, $5, $6) RETURNING expires_at
        """
    ) { try $0.decode(Date.self, "expires_at") }
    /// The issuer a live session ($1) was opened through, for the provider's logout.
    static let sessionIssuer = PostgresQuery<[UInt8], Int64>(
        "sso_session_issuer",
        """
        SELECT i.issuer_id FROM accord.web_session s JOIN accord.sso_identity i ON i.id = s.sso_identity_id WHERE s.token_sha256 = $1
        """
    ) { try $0.decode(Int64.self, "issuer_id") }

    static let catalogue: [any PostgresCheckable] = [
        issuers, issuer, issuerByURL, addIssuer, removeIssuer, endIssuerSessions, identityPerson, peopleByEmail, link, detachSessions, unlink,
        touchIdentity, identities, identityOf, createRequest, takeRequest, recordOutcome, challenge, forgetOldRequests, settings,
        setLocalPasswords, setBreakGlass, passwordAllowed, rules, addRule, removeRule, ruleState, grant, ungrant, createSession,
        sessionIssuer,
    ]
}

/// An identity a person is linked to.
public struct SSOLinkedIdentity: Codable, Sendable, Equatable {
    /// The issuer's number.
    public var issuerID: Int64
    /// The issuer identifier.
    public var issuer: String
    /// Its display name.
    public var displayName: String
    /// The subject at that issuer.
    public var subject: String
    /// When it was linked.
    public var linkedAt: Date
    /// The last login through it.
    public var lastLoginAt: Date?

    init(row: PostgresRow) throws {
        issuerID = try row.decode(Int64.self, "issuer_id")
        issuer = try row.decode(String.self, "issuer")
        displayName = try row.decode(String.self, "display_name")
        subject = try row.decode(String.self, "subject")
        linkedAt = try row.decode(Date.self, "linked_at")
        lastLoginAt = try row.decode(Date?.self, "last_login_at")
    }
}

/// A group rule: the provider group whose members hold a role in a program.
public struct SSOGroupRule: Codable, Sendable, Equatable {
    /// Its number, for `accord sso rule remove`.
    public var id: Int64
    /// The group's name as the provider sends it.
    public var group: String
    /// The program.
    public var program: String
    /// The role.
    public var role: String

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        group = try row.decode(String.self, "group_name")
        program = try row.decode(String.self, "slug")
        role = try row.decode(String.self, "role")
    }
}

struct SSORuleState {
    var programID: Int64
    var program: String
    var role: String
    var granted: Bool
    var held: Bool
    var byRule: Bool
    var byOther: Bool

    init(row: PostgresRow) throws {
        programID = try row.decode(Int64.self, "program_id")
        program = try row.decode(String.self, "slug")
        role = try row.decode(String.self, "role")
        granted = try row.decode(Bool.self, "granted")
        held = try row.decode(Bool.self, "held")
        byRule = try row.decode(Bool.self, "by_rule")
        byOther = try row.decode(Bool.self, "by_other")
    }
}

extension SSOIssuer {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        issuer = try row.decode(String.self, "issuer")
        displayName = try row.decode(String.self, "display_name")
        clientID = try row.decode(String.self, "client_id")
        hasSecret = try row.decode(Bool.self, "has_secret")
        linkByEmail = try row.decode(Bool.self, "link_by_email")
        groupsClaim = try row.decode(String.self, "groups_claim")
        createdAt = try row.decode(Date.self, "created_at")
    }
}
