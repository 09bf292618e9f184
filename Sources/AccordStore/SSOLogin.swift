import AccordCore
public import Foundation
import Postgres

extension Store {
    /// Starts an authorization request to a provider: records it (so that the answer may reach any
    /// instance) and returns what goes in the provider's URL. A signing request names the signer, who
    /// must be linked to that provider, and the decision the fresh authentication will sign.
    /// - Parameter browser: a random value the caller sets as a cookie; the answer must come back with it.
    public func beginSSO(issuer id: Int64, purpose: SSOPurpose, browser: String?, actor: String? = nil) async throws -> SSOTicket {
        let state = randomToken()
        return try await pool.withTransaction { connection in
            guard let found = try await connection.queryFirst(SSOSQL.issuer, id) else { throw AccordError(.notFound, "no identity provider \(id)") }
            var signer: Int64?
            var signing: PostgresJSON?
            if case .sign(let intent) = purpose {
                let acting = try await Self.requireActor(actor, on: connection)
                guard !acting.disabled else { throw AccordError(.forbidden, "'\(acting.handle)' is disabled") }
                let linked = try await connection.query(SSOSQL.identities, acting.id).contains { $0.issuerID == id }
                guard linked else {
                    throw AccordError(.forbidden, "\(acting.handle) is not linked to \(found.issuer.displayName), so cannot sign through it")
                }
                if intent.decision == .reject, intent.comment?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true {
                    throw AccordError(.invalid, "a rejection needs a comment saying why", field: "comment")
                }
                signer = acting.id
                signing = try PostgresJSON(encoding: intent)
            }
            let purposeName = signing == nil ? "login" : "sign"
            let created = try await connection.queryOne(
                SSOSQL.createRequest,
                sha256Bytes(state),
                id,
                purposeName,
                browser.map(sha256Bytes),
                signer,
                signing,
                ssoRequestLifetime
            )
            _ = try await connection.execute(SSOSQL.forgetOldRequests)
            return SSOTicket(
                id: created.id,
                issuer: found.issuer,
                state: state,
                nonce: ssoDerived("nonce", state: state),
                codeVerifier: ssoDerived("pkce", state: state),
                freshAuthentication: signing != nil,
                expiresAt: created.expiresAt
            )
        }
    }

    /// Takes the request a provider's answer refers to, once: unused, unexpired, and from the browser
    /// that started it. Everything after this (the code exchange, the token's checks) is the caller's.
    public func takeSSORequest(state: String, browser: String?) async throws -> SSOPendingRequest {
        let refusal = "this answer from the identity provider is unknown, used or expired, or came to another browser; start again"
        // Taken in its own committed statement, so that a refused answer still burns the request.
        let found = try await pool.withConnection { connection in
            state.count <= 200 ? try await connection.queryFirst(SSOSQL.takeRequest, sha256Bytes(state), browser.map(sha256Bytes)) : nil
        }
        guard let taken = found, taken.sameBrowser else { throw AccordError(.unauthenticated, refusal) }
        return try await pool.withConnection { connection in
            guard let row = try await connection.queryFirst(SSOSQL.issuer, taken.issuerID) else {
                throw AccordError(.notFound, "that identity provider was removed")
            }
            let secret = try row.sealed.map { try openClientSecret($0, issuer: row.issuer.issuer) }
            var purpose = SSOPurpose.login
            if taken.purpose == "sign", let json = taken.signing {
                purpose = .sign(try JSONDecoder().decode(SigningIntent.self, from: Data(json.utf8)))
            }
            return SSOPendingRequest(
                id: taken.id,
                issuer: row.issuer,
                clientSecret: secret,
                nonce: ssoDerived("nonce", state: state),
                codeVerifier: ssoDerived("pkce", state: state),
                purpose: purpose,
                signer: taken.signer,
                requestedAt: taken.createdAt
            )
        }
    }

    /// Logs a person in with a verified provider identity. The identity must be linked to a person, or
    /// be linkable by a verified e-mail address when the provider allows it (never to an administrator:
    /// a first SSO login grants no administrator rights). The group rules are applied and audited.
    public func ssoLogin(_ authentication: SSOAuthentication, address: String?, policy: SessionPolicy = SessionPolicy()) async throws -> NewWebSession
    {
        let token = randomToken()
        let csrf = randomToken()
        let (handle, expires) = try await pool.withTransaction { connection -> (String, Date) in
            guard let issuer = try await connection.queryFirst(SSOSQL.issuerByURL, authentication.issuer) else {
                throw AccordError(.unauthenticated, "\(authentication.issuer) is not an identity provider of this Accord")
            }
            let (identity, person) = try await Self.linkedPerson(authentication, issuer: issuer, on: connection)
            guard !person.disabled else { throw AccordError(.unauthenticated, "\(person.handle) is disabled; an administrator enables the account") }
            _ = try await connection.execute(SSOSQL.touchIdentity, identity)
            if let groups = authentication.groups {
                try await Self.applyGroupRules(to: person, groups: groups, source: "oidc", from: issuer.displayName, on: connection)
            }
            let expires = try await connection.queryOne(
                SSOSQL.createSession,
                sha256Bytes(token),
                person.id,
                csrf,
                interval(policy.absoluteTimeout),
                address,
                identity
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: person.handle,
                    action: "session.login",
                    objectType: "person",
                    objectID: person.handle,
                    after: auditJSON(["method": "oidc", "issuer": issuer.issuer])
                )
            )
            return (person.handle, expires)
        }
        return NewWebSession(cookieToken: token, session: WebSession(person: try await person(handle), csrfToken: csrf), expiresAt: expires)
    }

    /// The person an identity is linked to, linking it by a verified e-mail address first when allowed.
    private static func linkedPerson(
        _ authentication: SSOAuthentication,
        issuer: SSOIssuer,
        on connection: PostgresConnection
    ) async throws -> (identity: Int64, person: Person) {
        if let linked = try await connection.queryFirst(SSOSQL.identityPerson, issuer.id, authentication.subject) { return linked }
        let refusal = "no Accord account is linked to this \(issuer.displayName) identity; an administrator links it"
        guard issuer.linkByEmail, authentication.emailVerified, let email = authentication.email else {
            throw AccordError(.unauthenticated, refusal)
        }
        let people = try await connection.query(SSOSQL.peopleByEmail, email)
        guard people.count == 1, let person = people.first else { throw AccordError(.unauthenticated, refusal) }
        guard !person.isAdmin else {
            throw AccordError(.unauthenticated, "\(person.handle) is an administrator, whose identity an administrator links by hand; \(refusal)")
        }
        let identity: Int64
        do {
            identity = try await connection.queryOne(SSOSQL.link, issuer.id, authentication.subject, person.id, "email")
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw AccordError(.unauthenticated, "\(person.handle) is already linked to another \(issuer.displayName) identity; \(refusal)")
        }
        try await connection.appendAudit(
            AuditRecord(
                chain: organisationChain,
                actor: person.handle,
                action: "sso.link",
                objectType: "person",
                objectID: person.handle,
                after: auditJSON(["issuer": String(issuer.id), "subject": authentication.subject, "by": "verified e-mail"])
            )
        )
        return (identity, person)
    }

    /// Applies the group rules to a person for one source of groups (`oidc`: a login's groups claim;
    /// `scim`: their SCIM groups): binds the roles their groups grant, and removes those this source's rules
    /// granted that no group (or no rule) grants any more, unless the other source still grants them.
    /// Bindings made by hand are left alone. Each change is audited in its program's chain.
    static func applyGroupRules(
        to person: Person,
        groups: [String],
        source: String,
        from origin: String,
        on connection: PostgresConnection
    ) async throws {
        for state in try await connection.query(SSOSQL.ruleState, person.id, PostgresArray(groups), source) {
            var change: String?
            if state.granted, !state.byRule {
                if !state.held {
                    _ = try await connection.execute(ProgramSQL.bind, state.programID, state.role, person.id, person.id)
                    change = "role.bind"
                }
                // Held by hand: nothing is recorded, so that leaving the group never removes it.
                if !state.held || state.byOther { _ = try await connection.execute(SSOSQL.grant, person.id, state.programID, state.role, source) }
            } else if !state.granted, state.byRule {
                _ = try await connection.execute(SSOSQL.ungrant, person.id, state.programID, state.role, source)
                if !state.byOther {
                    _ = try await connection.execute(ProgramSQL.unbind, state.programID, state.role, person.id)
                    change = "role.unbind"
                }
            }
            guard let change else { continue }
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(state.program),
                    actor: person.handle,
                    action: change,
                    objectType: "role",
                    objectID: state.role,
                    after: auditJSON(["person": person.handle, "role": state.role, "by": "group rule"]),
                    reason: "groups from \(origin)"
                )
            )
        }
    }

    /// Records what became of a signing challenge, for the client polling it.
    public func recordSigningOutcome(_ id: UUID, signature: Int64?, refusal: String?) async throws {
        let outcome = ChallengeOutcome(signature: signature, reason: refusal)
        try await pool.withConnection { _ = try await $0.execute(SSOSQL.recordOutcome, id, try PostgresJSON(encoding: outcome)) }
    }

    /// A signing challenge of the actor's: pending until the provider's answer comes back, then signed or refused.
    public func signingChallenge(_ id: UUID, actor: String?) async throws -> SigningChallenge {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard let row = try await connection.queryFirst(SSOSQL.challenge, id, acting.id) else {
                throw AccordError(.notFound, "no signing challenge \(id) of yours")
            }
            let intent = try JSONDecoder().decode(SigningIntent.self, from: Data(row.signing.utf8))
            let outcome = try row.outcome.map { try JSONDecoder().decode(ChallengeOutcome.self, from: Data($0.utf8)) }
            let status =
                if let outcome { outcome.signature != nil ? "signed" : "refused" } else if row.used || row.expiresAt < Date() {
                    "refused"
                } else { "pending" }
            let reason = outcome?.reason ?? (status == "refused" ? "the challenge expired before the provider answered" : nil)
            return SigningChallenge(
                id: id,
                task: intent.task,
                status: status,
                reason: reason,
                signature: outcome?.signature,
                expiresAt: row.expiresAt
            )
        }
    }

    /// The provider a browser session was opened through, for its logout.
    public func ssoIssuer(ofSession cookieToken: String) async throws -> SSOIssuer? {
        try await pool.withConnection { connection in
            guard let id = try await connection.queryFirst(SSOSQL.sessionIssuer, sha256Bytes(cookieToken)) else { return nil }
            return try await connection.queryFirst(SSOSQL.issuer, id)?.issuer
        }
    }

    /// The provider with this number, if it was not removed.
    public func ssoIssuer(_ id: Int64) async throws -> SSOIssuer? {
        try await pool.withConnection { try await $0.queryFirst(SSOSQL.issuer, id)?.issuer }
    }
}

private struct ChallengeOutcome: Codable {
    var signature: Int64?
    var reason: String?
}
