import AccordCore
import Foundation
import Postgres

/// Five wrong passwords in a row lock signing for fifteen minutes.
public let signingLockThreshold = 5
let signingLockDuration = "15 minutes"

extension Store {
    /// Re-checks a signer's password. The attempt is counted before bcrypt runs (`ThrottlePolicy.signing`,
    /// the same mechanism as logins), so concurrent guesses cannot pass the limit: after
    /// `signingLockThreshold` wrong ones in a row signing is locked for that person, longer each time.
    /// Returns the signer.
    /// - Parameter refused: what a wrong password leaves undone, for its message.
    func checkSigningPassword(actor: String?, password: String, refused: String = "nothing was signed") async throws -> Person {
        guard let handle = actor, !handle.isEmpty else { throw AccordError(.unauthenticated, "say who is signing", remedy: .identifyActor) }
        let signer = try await pool.withConnection { connection in
            guard let signer = try await connection.queryFirst(SignatureSQL.signer, handle) else {
                throw AccordError(.unauthenticated, "the acting user '\(handle)' does not exist")
            }
            return signer
        }
        let person = signer.person
        guard !person.disabled else { throw AccordError(.forbidden, "'\(handle)' is disabled") }
        guard let hash = signer.passwordHash else {
            throw AccordError(.forbidden, "\(handle) has no password, so cannot sign; an administrator sets one")
        }
        guard password.utf8.count <= SessionPolicy.maxPasswordLength else {
            throw AccordError(.invalid, "a password has at most \(SessionPolicy.maxPasswordLength) bytes")
        }
        let policy = ThrottlePolicy.signing
        let matches: Bool
        let failures: Int
        do {
            (matches, failures) = try await throttled([ThrottleKey(key: "sign:\(person.id)", policy: policy)]) {
                try await verifyPassword(password, hash: hash, purpose: .signing)
            }
        } catch let blocked as ThrottleBlocked {
            throw AccordError(
                .locked,
                "signing is locked for \(handle) until \(ISO8601DateFormatter().string(from: blocked.until)) after \(signingLockThreshold) wrong passwords"
            )
        }
        guard matches else {
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
        return person
    }
}
