public import AccordCore
public import Foundation
import Postgres

/// Five wrong passwords in a row lock signing for fifteen minutes.
public let signingLockThreshold = 5
let signingLockDuration = "15 minutes"

/// How a signer proves, at the moment of signing, that they are who they say.
public enum SigningProof: Sendable {
    /// The signer's local password, checked again (and throttled).
    case password(String)
    /// A fresh authentication at the signer's identity provider (`prompt=login`, `max_age=0`), whose ID
    /// token the caller verified; its `auth_time` must be within `ssoSigningWindow` of the signature.
    case sso(SSOAuthentication)
}

extension Store {
    /// Signs or rejects with the signer's password: `sign(_:decision:meaning:comment:proof:actor:idempotency:)`.
    public func sign(
        _ ref: String,
        decision: SigningDecision,
        meaning: SignatureMeaning?,
        comment: String?,
        password: String,
        actor: String?,
        idempotency: IdempotencyClaim? = nil
    ) async throws -> SigningOutcome {
        try await sign(
            ref,
            decision: decision,
            meaning: meaning,
            comment: comment,
            proof: .password(password),
            actor: actor,
            idempotency: idempotency
        )
    }

    /// Checks a signer's proof and returns the signer with the authentication method the signature records:
    /// `password`, or `oidc iss=ISSUER auth_time=WHEN` for a fresh SSO authentication. A right password's
    /// throttle claim comes back held: the signature's transaction settles it (`withTransaction(settling:)`).
    func checkSigner(
        actor: String?,
        proof: SigningProof,
        refused: String = "nothing was signed"
    ) async throws -> (signer: Person, method: String, held: HeldClaims?) {
        switch proof {
        case .password(let password):
            let (person, held) = try await checkSigningPasswordHolding(actor: actor, password: password, refused: refused)
            return (person, "password", held)
        case .sso(let authentication):
            guard let handle = actor, !handle.isEmpty else { throw AccordError(.unauthenticated, "say who is signing", remedy: .identifyActor) }
            let person = try await pool.withConnection { connection in
                let person = try await Self.person(handle, on: connection)
                guard try await connection.queryOne(SSOSQL.identityOf, person.id, authentication.issuer, authentication.subject) else {
                    throw AccordError(.forbidden, "the identity that authenticated is not \(handle)'s; \(refused)")
                }
                return person
            }
            guard !person.disabled else { throw AccordError(.forbidden, "'\(handle)' is disabled") }
            guard let authTime = authentication.authTime else {
                throw AccordError(.unauthenticated, "the identity provider did not say when \(handle) authenticated; \(refused)")
            }
            let age = Date().timeIntervalSince(authTime)
            guard age <= ssoSigningWindow, age >= -60 else {
                throw AccordError(
                    .unauthenticated,
                    "the authentication is not fresh (\(Int(age)) seconds old, at most \(Int(ssoSigningWindow)) for a signature); \(refused)"
                )
            }
            let format = ISO8601DateFormatter()
            return (person, "oidc iss=\(authentication.issuer) auth_time=\(format.string(from: authTime))", nil)
        }
    }

    /// Re-checks a signer's password. The attempt is counted before bcrypt runs (`ThrottlePolicy.signing`,
    /// the same mechanism as logins), so concurrent guesses cannot pass the limit: after
    /// `signingLockThreshold` wrong ones in a row signing is locked for that person, longer each time.
    /// Returns the signer.
    /// - Parameter refused: what a wrong password leaves undone, for its message.
    func checkSigningPassword(actor: String?, password: String, refused: String = "nothing was signed") async throws -> Person {
        let (person, held) = try await checkSigningPasswordHolding(actor: actor, password: password, refused: refused)
        try await settle(held)
        return person
    }

    /// `checkSigningPassword`, with the right password's throttle claim still held, for the caller's
    /// transaction to settle (`withTransaction(settling:)`).
    private func checkSigningPasswordHolding(
        actor: String?,
        password: String,
        refused: String
    ) async throws -> (Person, HeldClaims) {
        guard let handle = actor, !handle.isEmpty else { throw AccordError(.unauthenticated, "say who is signing", remedy: .identifyActor) }
        let signer = try await pool.withConnection { connection in
            guard let signer = try await connection.queryFirst(SignatureSQL.signer, handle) else {
                throw AccordError(.unauthenticated, "the acting user '\(handle)' does not exist")
            }
            return signer
        }
        let person = signer.person
        guard !person.disabled else { throw AccordError(.forbidden, "'\(handle)' is disabled") }
        guard signer.passwordAllowed else {
            throw AccordError(.forbidden, "local passwords are off; \(handle) signs through single sign-on")
        }
        guard let hash = signer.passwordHash else {
            throw AccordError(.forbidden, "\(handle) has no password, so cannot sign; an administrator sets one")
        }
        guard password.utf8.count <= SessionPolicy.maxPasswordLength else {
            throw AccordError(.invalid, "a password has at most \(SessionPolicy.maxPasswordLength) bytes")
        }
        let policy = ThrottlePolicy.signing
        let held: HeldClaims?
        let failures: Int
        do {
            (held, failures) = try await throttledHolding([ThrottleKey(key: "sign:\(person.id)", policy: policy)]) {
                try await verifyPassword(password, hash: hash, purpose: .signing)
            }
        } catch let blocked as ThrottleBlocked {
            throw AccordError(
                .locked,
                "signing is locked for \(handle) until \(ISO8601DateFormatter().string(from: blocked.until)) after \(signingLockThreshold) wrong passwords"
            )
        }
        guard let held else {
            try await pool.withTransaction { connection in
                try await connection.appendAudit(
                    AuditRecord(
                        chain: organisationChain,
                        actor: handle,
                        action: "sign.password-refused",
                        objectType: "person",
                        objectID: handle
                    )
                )
            }
            if let block = policy.block(after: failures) {
                throw AccordError(
                    .unauthenticated,
                    "wrong password; signing is now locked for \(handle) for \(block.components.seconds / 60) minutes"
                )
            }
            throw AccordError(
                .unauthenticated,
                "wrong password; \(refused) (\(failures) of \(policy.limit) before signing locks for \(signingLockDuration))"
            )
        }
        return (person, held)
    }
}
