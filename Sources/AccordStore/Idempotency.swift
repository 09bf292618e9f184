import Foundation
import Postgres

/// The remembered answer to a request.
public struct RememberedResponse: Sendable, Hashable {
    public var status: Int
    public var body: String
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

enum IdempotencySQL {
    static let claim = """
        INSERT INTO accord.idempotency_key (person_id, key, request_sha256) VALUES ($1, $2, $3)
        ON CONFLICT (person_id, key) DO NOTHING RETURNING person_id
        """
    static let read = "SELECT request_sha256, status, response FROM accord.idempotency_key WHERE person_id = $1 AND key = $2"
    static let finish = "UPDATE accord.idempotency_key SET status = $3, response = $4 WHERE person_id = $1 AND key = $2"
    static let release = "DELETE FROM accord.idempotency_key WHERE person_id = $1 AND key = $2 AND status = 0"
}

extension Store {
    /// Runs `body` once per (person, key): a retry with the same request gets the first answer; the same key
    /// with a different request is refused; concurrent retries wait for the first to finish.
    /// `body` returns the answer to remember, or throws: an `AccordError` (a refusal) is remembered too,
    /// any other error releases the key so a retry can try again.
    public func idempotent(person: Person, key: String, requestSHA256: [UInt8], timeout: Duration = .seconds(30),
                           _ body: () async throws -> RememberedResponse) async throws -> RememberedResponse {
        guard (1...200).contains(key.count) else { throw AccordError(.invalid, "an Idempotency-Key has 1 to 200 characters") }
        let claimed = try await pool.withConnection { try await $0.query(IdempotencySQL.claim, [person.id, key, requestSHA256]).firstRow != nil }
        if !claimed {
            let deadline = ContinuousClock.now + timeout
            while true {
                guard let row = try await pool.withConnection({ try await $0.query(IdempotencySQL.read, [person.id, key]).firstRow }) else {
                    // The first request failed and released the key: take it over.
                    return try await idempotent(person: person, key: key, requestSHA256: requestSHA256, timeout: timeout, body)
                }
                guard try row.decode([UInt8].self, "request_sha256") == requestSHA256 else {
                    throw AccordError(.invalid, "this Idempotency-Key was used for a different request; use a new key for a new request")
                }
                let status = try row.decode(Int.self, "status")
                if status != 0 { return RememberedResponse(status: status, body: try row.decode(String?.self, "response") ?? "") }
                guard ContinuousClock.now < deadline else { throw AccordError(.conflict, "a request with this Idempotency-Key is still running; retry later") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        do {
            let answer = try await body()
            try await pool.withConnection { _ = try await $0.execute(IdempotencySQL.finish, [person.id, key, answer.status, answer.body]) }
            return answer
        } catch let error as AccordError {
            let remembered = RememberedResponse(status: -1, body: error.code.description + "\n" + error.message)
            try await pool.withConnection { _ = try await $0.execute(IdempotencySQL.finish, [person.id, key, remembered.status, remembered.body]) }
            throw error
        } catch {
            _ = try? await pool.withConnection { try await $0.execute(IdempotencySQL.release, [person.id, key]) }
            throw error
        }
    }
}
