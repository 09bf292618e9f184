public import Logging
import NIOConcurrencyHelpers
import NIOPosix
public import ServiceLifecycle

/// A pool of libpq connections with its own threads for their blocking calls.
///
/// Connections are lent only for the length of a closure (`withConnection`, `withTransaction`).
/// When all are lent, a caller waits up to `acquireTimeout` and then fails with `.poolTimeout`.
/// A connection that broke (server restart, network) is dropped and replaced on the next lease.
/// Run it as a `Service` so that graceful shutdown closes it.
public final class PostgresPool: Sendable, Service {
    /// How a pool connects and how large it grows.
    public struct Configuration: Sendable {
        /// A libpq conninfo string or URL; empty for libpq's `PG*` environment variables.
        public var conninfo: String
        /// The most connections open at once.
        public var maxConnections: Int
        /// How long a caller waits for a free connection before `.poolTimeout`.
        public var acquireTimeout: Duration
        /// How many times `withTransaction` runs a body that hit a serialization failure or deadlock.
        public var maxTransactionAttempts: Int
        /// A role every connection switches to (`SET ROLE`) right after connecting, e.g. a role with
        /// fewer rights than the login role.
        public var sessionRole: String?
        /// Settings every connection makes right after connecting (`set_config(name, value, false)`),
        /// e.g. `accord.origin`, which the audit log records.
        public var sessionSettings: [String: String]

        /// Creates a configuration.
        public init(
            conninfo: String,
            maxConnections: Int = 10,
            acquireTimeout: Duration = .seconds(10),
            maxTransactionAttempts: Int = 8,
            sessionRole: String? = nil,
            sessionSettings: [String: String] = [:]
        ) {
            self.sessionRole = sessionRole
            self.sessionSettings = sessionSettings
            self.conninfo = conninfo
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
            self.maxTransactionAttempts = max(1, maxTransactionAttempts)
        }
    }

    /// A transaction's isolation level.
    public enum IsolationLevel: Sendable {
        case readCommitted, repeatableRead, serializable

        var begin: String {
            switch self {
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            }
        }
    }

    private enum Grant: Sendable {
        case connection(PostgresConnection)
        /// Permission to open a new connection in a slot already counted as open.
        case slot
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Grant, any Error>
        var timeout: Task<Void, Never>?
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [Int: Waiter] = [:]
        var waitOrder: [Int] = []
        var nextWaiterID = 0
        var closed = false

        mutating func popWaiter() -> Waiter? {
            while !waitOrder.isEmpty {
                let id = waitOrder.removeFirst()
                if let waiter = waiters.removeValue(forKey: id) { return waiter }
            }
            return nil
        }
    }

    /// The pool's settings.
    public let configuration: Configuration
    private let threadPool: NIOThreadPool
    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    /// Creates a pool; no connection is opened until the first lease.
    public init(configuration: Configuration, logger: Logger = Logger(label: "accord.postgres")) {
        self.configuration = configuration
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maxConnections)
        threadPool.start()
    }

    deinit {
        threadPool.shutdownGracefully { _ in }
    }

    /// Lends a connection for the length of `body`.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Settings the transactions a task starts make for themselves (`set_config(name, value, true)`), over
    /// the pool's `sessionSettings`: e.g. `accord.origin` for the calls of one channel in a shared process.
    @TaskLocal public static var transactionSettings: [String: String] = [:]

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// The whole body runs again, a bounded number of times, after a serialization failure (40001) or
    /// deadlock (40P01), and after a connection lost before COMMIT was sent (nothing was committed then).
    /// So the body must do nothing outside the database that cannot be repeated.
    /// A connection lost during COMMIT is not retried: the outcome is unknown and the error says so.
    public func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ level: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        var attempt = 0
        while true {
            attempt += 1
            var commitSent = false
            do {
                return try await withConnection { connection in
                    // BEGIN travels with the body's first statement, and deferred writes with the COMMIT.
                    connection.enqueue(level.begin)
                    connection.inTransactionBlock.withLockedValue { $0 = true }
                    defer { connection.inTransactionBlock.withLockedValue { $0 = false } }
                    for (name, value) in Self.transactionSettings.sorted(by: { $0.key < $1.key }) {
                        try await connection.executeDeferred("SELECT set_config($1, $2, true)", [name, value])
                    }
                    let result: Result
                    do {
                        result = try await body(connection)
                    } catch {
                        connection.discardQueued()
                        if connection.canRollBack { _ = try? await connection.execute("ROLLBACK") }
                        throw error
                    }
                    commitSent = true
                    let tag: String
                    do {
                        tag = try await connection.query("COMMIT").commandTag
                    } catch let error as PostgresError where !error.isConnectionError {
                        // A deferred statement failed: the COMMIT was skipped and nothing was committed.
                        if connection.canRollBack { _ = try? await connection.execute("ROLLBACK") }
                        throw error
                    }
                    if tag == "ROLLBACK" {
                        throw PostgresError(.server, "the transaction was rolled back: a statement inside it failed", sqlState: "25P02")
                    }
                    return result
                }
            } catch let error as PostgresError {
                let retry = error.isTransientConflict || (error.isConnectionError && !commitSent)
                guard retry, attempt < configuration.maxTransactionAttempts else {
                    if error.isConnectionError && commitSent {
                        var unknown = error
                        unknown.outcomeUnknown = true
                        unknown.message =
                            "the connection was lost during COMMIT; the transaction may or may not have been committed: \(error.message)"
                        throw unknown
                    }
                    throw error
                }
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState ?? "-")"])
                // Jittered backoff so that conflicting transactions do not collide again in lockstep.
                try await Task.sleep(for: .microseconds(Int.random(in: 500...2_000) * attempt))
            }
        }
    }

    /// Connections open now (lent and idle).
    public var openConnections: Int { state.withLockedValue { $0.open } }

    /// Waits for graceful shutdown, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    /// Refuses new leases, fails waiting callers, closes idle connections and stops the pool's threads.
    /// Connections still lent are closed when they come back.
    public func close() async throws {
        let (waiters, idle) = state.withLockedValue { s -> ([Waiter], [PostgresConnection]) in
            s.closed = true
            var waiters: [Waiter] = []
            while let waiter = s.popWaiter() { waiters.append(waiter) }
            let idle = s.idle
            s.open -= idle.count
            s.idle = []
            return (waiters, idle)
        }
        for waiter in waiters {
            waiter.timeout?.cancel()
            waiter.continuation.resume(throwing: PostgresError(.poolClosed, "the connection pool is shut down"))
        }
        _ = idle  // closed by PQfinish as the last reference goes
        // Give lent connections a moment to come back before the threads stop under them.
        for _ in 0..<100 where openConnections > 0 {
            try? await Task.sleep(for: .milliseconds(50))
        }
        try await threadPool.shutdownGracefully()
    }

    // MARK: - Leasing

    private func acquire() async throws -> PostgresConnection {
        while true {
            let grant = try await nextGrant()
            switch grant {
            case .connection(let connection):
                if connection.isAlive() { return connection }
                // Broken while idle (e.g. the server restarted): replace it in the same slot.
                logger.debug("dropping a broken idle connection")
                return try await openInSlot()
            case .slot:
                return try await openInSlot()
            }
        }
    }

    private func openInSlot() async throws -> PostgresConnection {
        do {
            let connection = try await PostgresConnection.connect(configuration.conninfo, threadPool: threadPool)
            if let role = configuration.sessionRole {
                try await connection.execute("SET ROLE " + PostgresConnection.quoteIdentifier(role))
            }
            for (name, value) in configuration.sessionSettings.sorted(by: { $0.key < $1.key }) {
                _ = try await connection.query("SELECT set_config($1, $2, false)", [name, value])
            }
            return connection
        } catch {
            releaseSlot()
            throw error
        }
    }

    private func nextGrant() async throws -> Grant {
        // Fast path without a continuation.
        enum Decision {
            case grant(Grant)
            case wait, closed
        }
        let decision = state.withLockedValue { s -> Decision in
            if s.closed { return .closed }
            if let connection = s.idle.popLast() { return .grant(.connection(connection)) }
            if s.open < configuration.maxConnections {
                s.open += 1
                return .grant(.slot)
            }
            return .wait
        }
        switch decision {
        case .closed: throw PostgresError(.poolClosed, "the connection pool is shut down")
        case .grant(let grant): return grant
        case .wait: break
        }
        let id = state.withLockedValue { s -> Int in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let timeout = configuration.acquireTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                // Decide again under the lock: a connection may have come back since the fast path.
                let immediate = state.withLockedValue { s -> Result<Grant, any Error>? in
                    if s.closed { return .failure(PostgresError(.poolClosed, "the connection pool is shut down")) }
                    if let connection = s.idle.popLast() { return .success(.connection(connection)) }
                    if s.open < configuration.maxConnections {
                        s.open += 1
                        return .success(.slot)
                    }
                    s.waiters[id] = Waiter(continuation: continuation, timeout: nil)
                    s.waitOrder.append(id)
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    self?.failWaiter(
                        id,
                        PostgresError(
                            .poolTimeout,
                            "no database connection became free within \(timeout) (pool of \(self?.configuration.maxConnections ?? 0)); the database is overloaded or a caller holds connections too long"
                        )
                    )
                }
                let stored = state.withLockedValue { s -> Bool in
                    guard s.waiters[id] != nil else { return false }
                    s.waiters[id]?.timeout = timer
                    return true
                }
                if !stored { timer.cancel() }
            }
        } onCancel: {
            failWaiter(id, CancellationError())
        }
    }

    private func failWaiter(_ id: Int, _ error: any Error) {
        let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
        waiter?.timeout?.cancel()
        waiter?.continuation.resume(throwing: error)
    }

    private func release(_ connection: PostgresConnection) {
        let reusable = connection.isReusable
        let waiter = state.withLockedValue { s -> (Waiter, Grant)? in
            if reusable && !s.closed {
                if let waiter = s.popWaiter() { return (waiter, .connection(connection)) }
                s.idle.append(connection)
                return nil
            }
            if !s.closed, let waiter = s.popWaiter() { return (waiter, .slot) }
            s.open -= 1
            return nil
        }
        if let (waiter, grant) = waiter {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: grant)
        }
    }

    private func releaseSlot() {
        let waiter = state.withLockedValue { s -> Waiter? in
            if !s.closed, let waiter = s.popWaiter() { return waiter }
            s.open -= 1
            return nil
        }
        if let waiter {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: .slot)
        }
    }
}
