/// An error from the `Postgres` layer: a server error with its SQLSTATE, a lost connection,
/// a pool that could not lend a connection in time, or a value that does not decode as asked.
///
/// `description` is safe to show and log: it never contains query parameters or passwords.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New kinds may be added; switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case server, connectionFailed, connectionLost, poolTimeout, poolClosed, connectionBusy, decoding, migration
        }
        let base: Base
        /// The server answered with an error (see `sqlState`).
        public static let server = Code(base: .server)
        /// A connection could not be opened.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// An open connection broke (server restart, network failure, administrator termination).
        public static let connectionLost = Code(base: .connectionLost)
        /// No connection became free within the pool's acquire timeout.
        public static let poolTimeout = Code(base: .poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(base: .poolClosed)
        /// A connection was used by two callers at once (a programming error).
        public static let connectionBusy = Code(base: .connectionBusy)
        /// A column's type or nullability does not match what the caller asked for.
        public static let decoding = Code(base: .decoding)
        /// The schema cannot be migrated safely (database ahead of the code, changed file, bad file name).
        public static let migration = Code(base: .migration)
        /// The kind's name, e.g. `connectionLost`.
        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The primary message, one line.
    public var message: String
    /// The server's detail line, if any.
    public var detail: String?
    /// The server's hint line, if any.
    public var hint: String?
    /// The violated constraint, for integrity errors.
    public var constraint: String?
    /// The table concerned, when the server names it.
    public var table: String?
    /// The column concerned, when the server names it.
    public var column: String?
    /// The SQL text that failed (never its parameters); only shown by `debugDescription`.
    public var query: String?
    /// Whether the connection was lost after COMMIT was sent, so the transaction may or may not have been
    /// committed (set by `PostgresPool.withTransaction`); a caller must not report that nothing changed.
    public var outcomeUnknown = false

    /// Creates an error of the given kind.
    public init(_ code: Code, _ message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// 23505: a unique constraint was violated.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// 23503: a foreign key was violated.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// 23514: a CHECK constraint was violated.
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// 40001: a serializable transaction could not be serialised; retrying it may succeed.
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// 40P01: the transaction was chosen as a deadlock victim; retrying it may succeed.
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// Whether running the whole transaction again may succeed.
    public var isTransientConflict: Bool { isSerializationFailure || isDeadlock }
    /// Whether the server cannot take the change now, through no fault of the request: the database is
    /// read-only (25006, e.g. a standby or `default_transaction_read_only`), out of disk, memory or
    /// connections (class 53), or shutting down. Worth retrying later; answered 503.
    public var isServerUnavailable: Bool {
        isConnectionError || sqlState.map { $0 == "25006" || $0.hasPrefix("53") || $0.hasPrefix("57P") } == true
    }
    /// Whether the connection is unusable: lost, or never opened.
    public var isConnectionError: Bool {
        code == .connectionLost || code == .connectionFailed
            || sqlState.map { $0.hasPrefix("08") || $0 == "57P01" || $0 == "57P02" || $0 == "57P03" } == true
    }

    /// The message, the server's detail in brackets and the SQLSTATE: for logs and operators.
    public var description: String {
        var text = message
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        return text
    }

    /// `description` with the kind, the hint, the constraint and the failing SQL text, for debugging.
    public var debugDescription: String {
        var text = "PostgresError(\(code)): \(description)"
        if let hint { text += "\nhint: \(hint)" }
        if let constraint { text += "\nconstraint: \(constraint)" }
        if let query { text += "\nquery: \(query)" }
        return text
    }
}
