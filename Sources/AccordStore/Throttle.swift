import Foundation
import NIOConcurrencyHelpers
import Postgres

/// How many attempts at a secret one throttle key allows, and how long it then waits.
///
/// An attempt is *claimed* before the secret is checked, in its own committed statement, and settled
/// after: failures plus attempts in flight never pass `limit`, so concurrent guesses queue on the key's
/// row and at most `limit` of them reach bcrypt. The failure that reaches the limit starts a block; after
/// it one attempt at a time is let through, and each failure doubles the block (up to `maxBlock`). A
/// block that ends does not reset the count: only a success does, or `quiet` without any attempt.
public struct ThrottlePolicy: Sendable, Equatable {
    /// Failures (and attempts in flight) allowed before the first block.
    public var limit: Int
    /// The first block; the next ones double.
    public var block: Duration
    /// The longest block.
    public var maxBlock: Duration
    /// A key with no attempt (and no block) for this long is forgotten.
    public var quiet: Duration

    /// Creates a policy.
    public init(limit: Int, block: Duration, maxBlock: Duration, quiet: Duration) {
        self.limit = max(1, limit)
        self.block = block
        self.maxBlock = max(block, maxBlock)
        self.quiet = quiet
    }

    /// Signing: five wrong passwords in a row lock signing for fifteen minutes, then thirty, an hour…
    public static let signing = ThrottlePolicy(
        limit: signingLockThreshold,
        block: .seconds(15 * 60),
        maxBlock: .seconds(8 * 3600),
        quiet: .seconds(24 * 3600)
    )

    /// The block that the `failures`-th failure starts (none below the limit).
    func block(after failures: Int) -> Duration? {
        guard failures >= limit else { return nil }
        return min(maxBlock, block * (1 << min(failures - limit, 24)))
    }
}

/// A throttle key refused an attempt: it is blocked until `until`.
struct ThrottleBlocked: Error {
    var key: String
    var until: Date

    /// Whole seconds left, at least one.
    var seconds: Int { max(1, Int(until.timeIntervalSinceNow.rounded(.up))) }
}

/// A key an attempt at a secret is counted on.
struct ThrottleKey {
    var key: String
    var policy: ThrottlePolicy
    /// A key many people share (an address): a success gives back only its claim, or one good account
    /// would launder guesses at others.
    var shared = false
}

/// How an attempt ended, for `Store.settleAttempt`.
enum AttemptOutcome: String {
    /// The secret was right: the key's failures are forgotten.
    case success
    /// The secret was right, but the key is shared (an address): only the claim is released.
    case release
    /// The secret was wrong: one more failure, and a block at the limit.
    case failure
}

enum ThrottleSQL {
    /// Claims one attempt unless the key is blocked or as many attempts are in flight as failures leave
    /// room for; then no row comes back. $1 key, $2 limit, $3 quiet period.
    static let claim = PostgresQuery<String, Int, String, Int>(
        "throttle_claim",
        """
        INSERT INTO accord.auth_throttle AS t (key, failures, in_flight, last_attempt) VALUES ($1, 0, 1, now())
        ON CONFLICT (key) DO UPDATE SET
            failures = \(failuresNow),
            in_flight = \(inFlightNow) + 1,
            last_attempt = now(),
            blocked_until = CASE WHEN \(forgotten) THEN NULL ELSE t.blocked_until END
        WHERE (t.blocked_until IS NULL OR t.blocked_until <= now())
          AND \(inFlightNow) < greatest($2 - \(failuresNow), 1)
        RETURNING t.failures
        """
    ) { try $0.decode(Int.self, "failures") }
    /// A key quiet for the whole period starts again.
    private static let forgotten = "(coalesce(t.blocked_until, t.last_attempt) < now() - $3::interval)"
    private static let failuresNow = "(CASE WHEN \(forgotten) THEN 0 ELSE t.failures END)"
    /// Claims older than 30 seconds belong to a process that stopped mid-check.
    private static let inFlightNow = "(CASE WHEN t.last_attempt < now() - interval '30 seconds' THEN 0 ELSE t.in_flight END)"
    static let state = PostgresQuery<String, (until: Date?, blocked: Bool?)>(
        "throttle_state",
        "SELECT blocked_until, blocked_until > now() AS blocked FROM accord.auth_throttle WHERE key = $1"
    ) { (until: try $0.decode(Date?.self, "blocked_until"), blocked: try $0.decode(Bool?.self, "blocked")) }
    /// Settles a claim. $2 the outcome, $3 the block this failure starts (NULL below the limit).
    static let settle = PostgresQuery<String, String, String?, Int>(
        "throttle_settle",
        """
        UPDATE accord.auth_throttle SET
            in_flight = greatest(in_flight - 1, 0),
            failures = CASE $2 WHEN 'success' THEN 0 WHEN 'failure' THEN failures + 1 ELSE failures END,
            blocked_until = CASE $2 WHEN 'success' THEN NULL WHEN 'failure' THEN coalesce(now() + $3::interval, blocked_until) ELSE blocked_until END
        WHERE key = $1
        RETURNING failures
        """
    ) { try $0.decode(Int.self, "failures") }
    /// Settles a right secret's claim: `$2` true forgets the key's failures and block (a success), false
    /// gives back only the claim (a shared key). The row stays, at rest, for the key's next attempt (an
    /// update in place, where deleting and inserting it again on every signature bloated the table the
    /// hot path reads); `prune` forgets it after the quiet period. One statement, so it can travel with
    /// the COMMIT of the change the secret was for.
    static let settleRight = PostgresCommand<String, Bool>(
        "throttle_settle_right",
        """
        UPDATE accord.auth_throttle SET
            in_flight = greatest(in_flight - 1, 0),
            failures = CASE WHEN $2 THEN 0 ELSE failures END,
            blocked_until = CASE WHEN $2 THEN NULL ELSE blocked_until END
        WHERE key = $1
        """
    )
    /// The failure count the next settle would leave, to choose its block.
    static let failures = PostgresQuery<String, Int>("throttle_failures", "SELECT failures FROM accord.auth_throttle WHERE key = $1 FOR UPDATE") {
        try $0.decode(Int.self, "failures")
    }
    /// Keys whose last attempt and block are older than the longest quiet period in use (a claim that old is
    /// a dead process's, whatever `in_flight` says).
    static let prune = PostgresCommand<String>(
        "throttle_prune",
        "DELETE FROM accord.auth_throttle WHERE greatest(blocked_until, last_attempt) < now() - $1::interval"
    )
    /// A counter, not a record: its transactions do not wait for the WAL flush. A function rather than
    /// `SET LOCAL`, so it also holds in the implicit transaction of a pipeline sent outside BEGIN (which
    /// commits at the pipeline's end, in the same round trip).
    static let asynchronousCommit = PostgresQuery<Void>(
        "throttle_asynchronous_commit",
        "SELECT set_config('synchronous_commit', 'off', true)"
    )

    static let catalogue: [any PostgresCheckable] = [claim, state, settle, settleRight, failures, prune, asynchronousCommit]
}

extension Store {
    /// Checks a secret under the throttle, the one mechanism for logins and signatures: claims an attempt
    /// on every key before `check` runs (bcrypt inside it), then settles each key by the outcome: a
    /// success clears it (or releases a shared one), a wrong secret counts, an error releases.
    /// - Returns: whether the secret was right, and the first key's failures afterwards.
    /// - Throws: `ThrottleBlocked` when a key is blocked (nothing is checked then), or what `check` threw.
    func throttled(_ keys: [ThrottleKey], _ check: () async throws -> Bool) async throws -> (matches: Bool, failures: Int) {
        let (held, failures) = try await throttledHolding(keys, check)
        guard let held else { return (false, failures) }
        try await settle(held)
        return (true, 0)
    }

    /// Checks a secret under the throttle as `throttled` does, but a right secret's claims stay held: the
    /// caller settles them with the COMMIT of the change the secret was checked for, through
    /// `withTransaction(settling:)`, which saves the hot path (a signature) a transaction of its own.
    /// A wrong secret, or an error, settles at once as `throttled` would.
    /// - Returns: the held claims when the secret was right, else nil; and the first key's failures.
    func throttledHolding(_ keys: [ThrottleKey], _ check: () async throws -> Bool) async throws -> (held: HeldClaims?, failures: Int) {
        try await claimAttempt(keys)
        let matches: Bool
        do {
            matches = try await check()
        } catch {
            _ = try? await settleAttempts(keys.map { ($0, .release) })
            throw error
        }
        if matches { return (HeldClaims(keys: keys), 0) }
        return (nil, try await settleAttempts(keys.map { ($0, .failure) }).first ?? 0)
    }

    /// Runs `body` in a transaction whose COMMIT also settles `held` (a right secret's claims); when the
    /// transaction fails they are settled on their own, except when the COMMIT's outcome is unknown (the
    /// claims then lapse after thirty seconds, rather than risk giving one back twice).
    func withTransaction<Result>(
        settling held: HeldClaims?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        guard let held else { return try await pool.withTransaction { try await body($0) } }
        let result: Result
        do {
            result = try await pool.withTransaction { connection in
                let result = try await body(connection)
                for key in held.keys {
                    try await connection.executeDeferred(ThrottleSQL.settleRight, key.key, !key.shared)
                }
                return result
            }
        } catch {
            if (error as? PostgresError)?.outcomeUnknown == true {
                for key in held.keys { attemptGate.leave(key.key) }
            } else {
                try? await settle(held)
            }
            throw error
        }
        for key in held.keys { attemptGate.leave(key.key) }
        return result
    }

    /// Settles a right secret's held claims on their own, when no transaction of the caller carries them.
    func settle(_ held: HeldClaims) async throws {
        _ = try await settleAttempts(held.keys.map { ($0, $0.shared ? .release : .success) })
    }

    /// Claims one attempt on each key, in one transaction that commits before the secret is checked;
    /// while a key is busy (its room taken by attempts in flight) it waits up to thirty seconds.
    /// - Throws: `ThrottleBlocked` for the first key that is blocked now (then nothing is claimed), or
    ///   `.unavailable` when a key stayed busy.
    private func claimAttempt(_ keys: [ThrottleKey]) async throws {
        // In this process, attempts on a key wait their turn without touching the database; only as many
        // go to it as the key has room for, so concurrent requests of one person queue here rather than
        // poll the key's row (other instances' attempts are what the database arbitrates).
        var entered: [String] = []
        do {
            for key in keys.sorted(by: { $0.key < $1.key }) {
                try await attemptGate.enter(key.key, permits: key.policy.limit, within: .seconds(30))
                entered.append(key.key)
            }
        } catch {
            for key in entered { attemptGate.leave(key) }
            throw AccordError(.unavailable, "too many attempts at once for this account; try again in a few seconds")
        }
        do {
            try await claimInDatabase(keys)
        } catch {
            for key in keys { attemptGate.leave(key.key) }
            throw error
        }
    }

    private func claimInDatabase(_ keys: [ThrottleKey]) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var pause = 20
        while true {
            do {
                // One round trip: outside BEGIN a pipeline is one implicit transaction, committed at its end.
                // Several keys need an explicit one, since a refused key must undo the others' claims.
                let claims = keys.map { ThrottleSQL.claim.bind($0.key, $0.policy.limit, interval($0.policy.quiet)) }
                if keys.count == 1 {
                    try await pool.withConnection { connection in
                        let (_, claimed) = try await connection.pipeline(ThrottleSQL.asynchronousCommit.bind(), claims[0])
                        // A refused claim changed nothing, so its implicit transaction committed nothing.
                        if claimed.isEmpty { try await Self.refuse(keys[0].key, on: connection) }
                    }
                } else {
                    try await pool.withTransaction { connection in
                        try await connection.executeDeferred(ThrottleSQL.asynchronousCommit)
                        let claimed = try await connection.pipeline(claims)
                        if let refused = claimed.firstIndex(where: \.isEmpty) { try await Self.refuse(keys[refused].key, on: connection) }
                    }
                }
                return
            } catch is BusyKey {}
            guard ContinuousClock.now < deadline else {
                throw AccordError(.unavailable, "too many attempts at once for this account; try again in a few seconds")
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: pause...(2 * pause))))
            pause = min(pause * 2, 500)
        }
    }

    /// Why a key refused its claim: `ThrottleBlocked` when it is blocked now, else `BusyKey`.
    private static func refuse(_ key: String, on connection: PostgresConnection) async throws -> Never {
        let state = try await connection.queryFirst(ThrottleSQL.state, key)
        if state?.blocked == true, let until = state?.until {
            throw ThrottleBlocked(key: key, until: until)
        }
        throw BusyKey()
    }

    /// Settles every claimed key, even when one fails (each releases its place in the gate), then throws
    /// the first error.
    /// - Returns: each key's failures afterwards.
    private func settleAttempts(_ keys: [(key: ThrottleKey, outcome: AttemptOutcome)]) async throws -> [Int] {
        var first: (any Error)?
        var failures: [Int] = []
        for (key, outcome) in keys {
            do { failures.append(try await settleAttempt(key.key, policy: key.policy, outcome)) } catch { first = first ?? error }
        }
        if let first { throw first }
        return failures
    }

    /// Settles a claimed attempt, in its own transaction (whatever the request does next): a right
    /// secret's in one round trip (`settleRight`), a wrong one's with the block it may start.
    /// - Returns: the key's failures afterwards (0 after a right secret; a shared key's are not read).
    private func settleAttempt(_ key: String, policy: ThrottlePolicy, _ outcome: AttemptOutcome) async throws -> Int {
        defer { attemptGate.leave(key) }
        guard outcome == .failure else {
            return try await pool.withConnection { connection in
                let bound = ThrottleSQL.settleRight.bind(key, outcome == .success)
                _ = try await connection.pipeline(ThrottleSQL.asynchronousCommit.bind(), bound)
                return 0
            }
        }
        return try await pool.withTransaction { connection in
            try await connection.executeDeferred(ThrottleSQL.asynchronousCommit)
            var block: String?
            if let failures = try await connection.queryFirst(ThrottleSQL.failures, key) {
                block = policy.block(after: failures + 1).map(interval)
            }
            return try await connection.queryFirst(ThrottleSQL.settle, key, outcome.rawValue, block) ?? 0
        }
    }

    /// Deletes throttle keys and remembered Idempotency-Key answers past their use (the scheduler calls it).
    /// - Returns: the rows deleted.
    @discardableResult
    public func pruneSecurityRows(idempotencyRetention: Duration = .seconds(7 * 24 * 3600)) async throws -> Int {
        try await pool.withConnection { connection in
            let policy = SessionPolicy()
            let quiet = [ThrottlePolicy.signing, policy.login, policy.address, policy.account].map(\.quiet).max()!
            let throttles = try await connection.execute(ThrottleSQL.prune, interval(quiet))
            let answers = try await connection.execute(IdempotencySQL.prune, interval(idempotencyRetention))
            return throttles + answers
        }
    }

    /// Checks a password with bcrypt, counted in `passwordChecks`.
    func verifyPassword(_ password: String, hash: String, purpose: PasswordCheck.Purpose) async throws -> Bool {
        try await passwordCheck.verify(password, hash: hash, purpose: purpose)
    }

    /// How many bcrypt comparisons this store has run (logins and signatures), for tests and metrics.
    public var passwordChecks: Int { passwordCheck.count.withLockedValue { $0 } }
}

/// A right secret's claims, still in flight until `Store.withTransaction(settling:)` settles them.
struct HeldClaims: Sendable {
    var keys: [ThrottleKey]
}

/// A key whose room is taken by attempts in flight.
private struct BusyKey: Error {}
