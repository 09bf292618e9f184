import AccordCore
import Foundation
import Postgres

/// The remembered answer to a request.
public struct RememberedResponse: Sendable, Hashable {
    /// The HTTP status.
    public var status: Int
    /// The response body.
    public var body: String
    /// An answer to remember.
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

enum IdempotencySQL {
    /// Taken inside the transaction that does the work: a concurrent request with the same key waits on
    /// this row until that transaction ends; if it committed, the insert does nothing and the waiter
    /// replays its answer; if it rolled back (or its server died), the waiter goes ahead.
    static let claim = PostgresQuery<Int64, String, [UInt8], Int64>(
        "idempotency_claim",
        """
        INSERT INTO accord.idempotency_key (person_id, key, request_hmac) VALUES ($1, $2, $3)
        ON CONFLICT (person_id, key) DO NOTHING RETURNING person_id
        """
    ) { try $0.decode(Int64.self, "person_id") }
    static let read = PostgresQuery<Int64, String, (requestHMAC: [UInt8], status: Int, response: String?, refusalCode: String?)>(
        "idempotency_read",
        "SELECT request_hmac, status, response, refusal_code FROM accord.idempotency_key WHERE person_id = $1 AND key = $2"
    ) {
        (
            requestHMAC: try $0.decode([UInt8].self, "request_hmac"), status: try $0.decode(Int.self, "status"),
            response: try $0.decode(String?.self, "response"), refusalCode: try $0.decode(String?.self, "refusal_code")
        )
    }
    static let finish = PostgresCommand<Int64, String, Int, String>(
        "idempotency_finish",
        "UPDATE accord.idempotency_key SET status = $3, response = $4 WHERE person_id = $1 AND key = $2"
    )
    /// Answers remembered longer than a client retries.
    static let prune = PostgresCommand<String>(
        "idempotency_prune",
        "DELETE FROM accord.idempotency_key WHERE created_at < now() - $1::interval"
    )
    /// A refusal, remembered after its transaction rolled back (the claim went with it): its code and message.
    static let refusal = PostgresCommand<Int64, String, [UInt8], String, String>(
        "idempotency_refusal",
        """
        INSERT INTO accord.idempotency_key (person_id, key, request_hmac, refusal_code, response) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (person_id, key) DO NOTHING
        """
    )

    static let catalogue: [any PostgresCheckable] = [claim, read, finish, prune, refusal]
}

/// An `Idempotency-Key` to honour inside the transaction that does the work (see `Store.idempotent`).
public struct IdempotencyClaim: Sendable {
    /// The person whose key it is.
    public var personID: Int64
    /// The `Idempotency-Key` header's value.
    public var key: String
    /// The request's fingerprint (see `Store.requestFingerprint`).
    public var requestHMAC: [UInt8]

    /// The statement that claims the key: run it first in the caller's transaction (the sign path puts it
    /// in its first pipeline). No row back means a request with this key has already committed its answer
    /// (after waiting for one still running): throw `IdempotencyReplay` then.
    var statement: PostgresBoundQuery<Int64> {
        IdempotencySQL.claim.bind(personID, key, requestHMAC)
    }

    /// Records the answer in the caller's transaction: it commits with the work, or not at all.
    func finish(_ answer: RememberedResponse, on connection: PostgresConnection) async throws {
        try await connection.executeDeferred(IdempotencySQL.finish, personID, key, answer.status, answer.body)
    }
}

/// Thrown inside a transaction when the key's first request has committed: its answer is replayed.
struct IdempotencyReplay: Error {}

extension Store {
    /// The fingerprint of a request for its Idempotency-Key: HMAC-SHA256 with the audit key (which is not
    /// in the database), under its own `accord-idempotency-v1;` prefix, over the request's description. The description must
    /// leave out every secret (the sign body's password): a fingerprint is kept, and a fast hash of a
    /// password is a password an attacker with a backup can test at SHA-256 speed.
    public func requestFingerprint(_ description: [UInt8]) -> [UInt8] {
        auditKey.mac(Array("accord-idempotency-v1;".utf8) + description)
    }

    /// Runs `body` once per (person, key): a retry with the same request gets the first answer; the same key
    /// with a different request is refused; concurrent retries wait for the first to finish. A remembered
    /// refusal is thrown again as the `AccordError` it was.
    ///
    /// `body` must claim the key (`IdempotencyClaim.statement`) and record its answer (`finish`) inside the
    /// transaction that does the work, as `Store.sign` does: the key, the work and the answer commit
    /// together, so a server killed mid-request or a connection lost at COMMIT leaves either all three or
    /// none, and a retry resolves it without a duplicate. A refusal (`AccordError`) is remembered too.
    public func idempotent(
        person: Person,
        key: String,
        requestHMAC: [UInt8],
        _ body: (IdempotencyClaim) async throws -> RememberedResponse
    ) async throws -> RememberedResponse {
        guard (1...200).contains(key.count) else { throw AccordError(.invalid, "an Idempotency-Key has 1 to 200 characters") }
        let claim = IdempotencyClaim(personID: person.id, key: key, requestHMAC: requestHMAC)
        for _ in 0..<3 {
            if let remembered = try await rememberedAnswer(claim) { return try remembered.get() }
            do {
                return try await body(claim)
            } catch is IdempotencyReplay {
                continue
            } catch let error as AccordError where [.unauthenticated, .unavailable, .locked].contains(error.code) {
                // A wrong password, a throttle or a busy server is not an answer to the request: the client
                // retries with the same key once it has the right password or the block has passed.
                throw error
            } catch let error as AccordError {
                try await pool.withConnection {
                    _ = try await $0.execute(IdempotencySQL.refusal, person.id, key, requestHMAC, error.code.description, error.message)
                }
                // Another request with this key may have committed meanwhile: its answer stands.
                if let remembered = try await rememberedAnswer(claim), case .success(let answer) = remembered { return answer }
                throw error
            }
        }
        throw AccordError(.conflict, "a request with this Idempotency-Key is still running; retry later")
    }

    /// The answer or refusal remembered for a key, if any; a different request under the same key is refused.
    private func rememberedAnswer(_ claim: IdempotencyClaim) async throws -> Result<RememberedResponse, AccordError>? {
        guard let row = try await pool.withConnection({ try await $0.queryFirst(IdempotencySQL.read, claim.personID, claim.key) }) else {
            return nil
        }
        guard row.requestHMAC == claim.requestHMAC else {
            throw AccordError(.invalid, "this Idempotency-Key was used for a different request; use a new key for a new request")
        }
        let response = row.response ?? ""
        if let name = row.refusalCode {
            return .failure(AccordError(AccordError.Code(name: name) ?? .conflict, response))
        }
        let status = row.status
        // A row still at 0 was written by an earlier version that claimed keys outside the work's transaction.
        return status == 0 ? nil : .success(RememberedResponse(status: status, body: response))
    }
}
