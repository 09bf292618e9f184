import CLibPQ
import Foundation
import NIOConcurrencyHelpers
public import NIOPosix

/// One libpq connection. It owns its `PGconn*` and closes it in `deinit`.
///
/// libpq blocks, so every call runs on a thread of the `NIOThreadPool` it was opened with, never on
/// Swift's cooperative pool; and only one call is in flight at a time (a second concurrent caller gets
/// `.connectionBusy` rather than corrupting the protocol). Lease connections from a `PostgresPool`.
public final class PostgresConnection: @unchecked Sendable {
    // Safety: `handle` is only touched by the one thread that holds `busy`, or in deinit.
    private let handle: OpaquePointer
    private let threadPool: NIOThreadPool
    private let busy = NIOLockedValueBox(false)
    /// Statements whose results nobody reads, held back to travel with the next statement in one round
    /// trip (libpq pipeline mode): the transaction's BEGIN, audit appends, state updates. See `executeDeferred`.
    private let queued = NIOLockedValueBox<[(statement: PostgresStatement, binds: [PostgresBind])]>([])
    /// Set when a pipeline left the connection in a state it cannot be lent again from.
    let broken = NIOLockedValueBox(false)
    /// Statements prepared on this connection: "parameter types|SQL" → statement name.
    let prepared = NIOLockedValueBox<[String: String]>([:])

    /// The server's version as an integer, e.g. 150010 for 15.10.
    public let serverVersion: Int

    /// Opens a connection.
    /// - Parameters:
    ///   - conninfo: a libpq conninfo string (`host=/run/x dbname=accord`) or URL (`postgres://…`);
    ///     empty to use libpq's `PG*` environment variables, `.pgpass` and service files, as `psql` does.
    ///   - threadPool: the threads that run this connection's blocking calls.
    public static func connect(_ conninfo: String, threadPool: NIOThreadPool) async throws -> PostgresConnection {
        try await threadPool.runIfActive { try connectBlocking(conninfo, threadPool: threadPool) }
    }

    static func connectBlocking(_ conninfo: String, threadPool: NIOThreadPool) throws -> PostgresConnection {
        PostgresConnection(handle: try openHandle(conninfo, applicationName: "accord"), threadPool: threadPool)
    }

    /// Opens a libpq connection set up as Accord needs it: UTF-8, UTC, notices silenced.
    static func openHandle(_ conninfo: String, applicationName: String) throws -> OpaquePointer {
        // Later keywords win, so the caller's conninfo (expanded from "dbname") can override our defaults,
        // and fallback_application_name only applies when the caller names none.
        let keywords = ["connect_timeout", "dbname", "fallback_application_name", "client_encoding"]
        let values = ["10", conninfo, applicationName, "UTF8"]
        let handle: OpaquePointer? = withCStringArray(keywords) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let handle else { throw PostgresError(.connectionFailed, "out of memory opening a connection") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = lastError(handle)
            PQfinish(handle)
            throw PostgresError(.connectionFailed, "cannot connect to PostgreSQL: \(message)")
        }
        // Notices (e.g. "relation already exists, skipping", or the server's goodbye before a restart)
        // are not errors; libpq's default prints them to stderr.
        PQsetNoticeReceiver(handle, { _, _ in }, nil)
        // Accord keeps time in UTC: current_date and date casts must not depend on the server's zone.
        let zone = PQexec(handle, "SET TIME ZONE 'UTC'")
        let zoneSet = PQresultStatus(zone) == PGRES_COMMAND_OK
        PQclear(zone)
        guard zoneSet else {
            let message = lastError(handle)
            PQfinish(handle)
            throw PostgresError(.connectionFailed, "cannot set the session time zone: \(message)")
        }
        return handle
    }

    private init(handle: OpaquePointer, threadPool: NIOThreadPool) {
        self.handle = handle
        self.threadPool = threadPool
        self.serverVersion = Int(PQserverVersion(handle))
    }

    deinit {
        PQfinish(handle)
    }

    /// Runs one parameterised statement and returns its rows.
    ///
    /// Parameters travel apart from the SQL text (`PQexecParams`), so no value is ever spliced into SQL.
    /// Results come back in binary form and are decoded by type with `PostgresRow.decode`.
    /// - Parameters:
    ///   - sql: one statement, with `$1`, `$2`… placeholders.
    ///   - parameters: the values, `nil` for NULL.
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresResult {
        try await query(PostgresStatement(nil, sql), parameters)
    }

    /// Runs one parameterised statement, prepared under its name and planned as it says, and returns its rows.
    public func query(_ statement: PostgresStatement, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresResult {
        // Deferred statements, if any, travel first in the same round trip.
        let statements = takeQueued() + [(statement, Self.binds(parameters))]
        return try await run { handle in try Self.execPipeline(handle, statements, connection: self) }.last!
    }

    /// Runs one statement with values already in wire form (a typed query's).
    func query(_ statement: PostgresStatement, binds: [PostgresBind]) async throws -> PostgresResult {
        let statements = takeQueued() + [(statement, binds)]
        return try await run { handle in try Self.execPipeline(handle, statements, connection: self) }.last!
    }

    /// Queues a statement with values in wire form (see `executeDeferred`).
    func executeDeferred(_ statement: PostgresStatement, binds: [PostgresBind]) async throws {
        guard inTransactionBlock.withLockedValue({ $0 }) else {
            _ = try await query(statement, binds: binds)
            return
        }
        queued.withLockedValue { $0.append((statement, binds)) }
    }

    /// Runs statements with values in wire form in one round trip (see `pipeline`).
    func pipelineBound(_ statements: [(statement: PostgresStatement, binds: [PostgresBind])]) async throws -> [PostgresResult] {
        let pending = takeQueued()
        let results = try await run { handle in try Self.execPipeline(handle, pending + statements, connection: self) }
        return Array(results.dropFirst(pending.count))
    }

    /// What the server makes of a statement without running it: its parameters' types (those given, and
    /// those it inferred) and its result columns. Prepared unnamed, so nothing stays behind.
    public func describe(_ sql: String, parameterTypes: [UInt32]) async throws -> (parameters: [UInt32], columns: [PostgresColumn]) {
        if !queued.withLockedValue({ $0.isEmpty }) { _ = try await query("SELECT 1") }
        return try await run { handle in
            _ = try Self.consume(PQprepare(handle, "", sql, Int32(parameterTypes.count), parameterTypes), handle: handle, sql: sql)
            guard let described = PQdescribePrepared(handle, "") else {
                throw PostgresError(PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, Self.lastError(handle))
            }
            defer { PQclear(described) }
            let parameters = (0..<PQnparams(described)).map { PQparamtype(described, $0) }
            let columns = (0..<PQnfields(described)).map {
                PostgresColumn(name: String(cString: PQfname(described, $0)), oid: PQftype(described, $0))
            }
            return (parameters, columns)
        }
    }

    private static func binds(_ parameters: [(any PostgresEncodable)?]) -> [PostgresBind] {
        parameters.map { $0?.postgresBind ?? PostgresBind(oid: 0, format: 0, bytes: nil) }
    }

    /// Runs several statements in one round trip (libpq pipeline mode) and returns their results in order.
    /// Each statement still runs on its own (its own snapshot under READ COMMITTED), one after the other;
    /// the first error is thrown, and the statements after it are not run. Deferred statements go first.
    public func pipeline(_ statements: [(sql: String, parameters: [(any PostgresEncodable)?])]) async throws -> [PostgresResult] {
        try await pipeline(statements.map { (statement: PostgresStatement(nil, $0.sql), parameters: $0.parameters) })
    }

    /// `pipeline` for named statements.
    public func pipeline(_ statements: [(statement: PostgresStatement, parameters: [(any PostgresEncodable)?])]) async throws -> [PostgresResult] {
        let pending = takeQueued()
        let all = pending + statements.map { ($0.statement, Self.binds($0.parameters)) }
        let results = try await run { handle in try Self.execPipeline(handle, all, connection: self) }
        return Array(results.dropFirst(pending.count))
    }

    /// Queues a statement whose result nobody reads, to be sent with the next statement (or the COMMIT)
    /// in one round trip. Inside a transaction only (`PostgresPool.withTransaction` opens one): outside
    /// one it runs at once, since nothing might come after to carry it. An error it raises is thrown by
    /// the statement it travels with, and the transaction fails as it would have.
    public func executeDeferred(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws {
        try await executeDeferred(PostgresStatement(nil, sql), parameters)
    }

    /// `executeDeferred` for a named statement.
    public func executeDeferred(_ statement: PostgresStatement, _ parameters: [(any PostgresEncodable)?] = []) async throws {
        guard inTransactionBlock.withLockedValue({ $0 }) else {
            _ = try await query(statement, parameters)
            return
        }
        queued.withLockedValue { $0.append((statement, Self.binds(parameters))) }
    }

    /// Set by `PostgresPool.withTransaction` for the length of its body.
    let inTransactionBlock = NIOLockedValueBox(false)

    /// Queues BEGIN (or any statement) without the in-transaction check; used by the pool.
    func enqueue(_ sql: String) {
        queued.withLockedValue { $0.append((PostgresStatement(nil, sql), [])) }
    }

    /// Forgets statements not yet sent (the transaction they belonged to is being abandoned).
    func discardQueued() {
        queued.withLockedValue { $0.removeAll() }
    }

    private func takeQueued() -> [(statement: PostgresStatement, binds: [PostgresBind])] {
        queued.withLockedValue { q in
            defer { q.removeAll() }
            return q
        }
    }

    /// Runs one parameterised statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// Runs one named statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ statement: PostgresStatement, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(statement, parameters).affectedRows
    }

    /// Runs trusted SQL text that may hold several statements (a migration), without parameters.
    ///
    /// Never pass text that contains user input: use `query` with parameters.
    public func executeScript(_ sql: String) async throws {
        if !queued.withLockedValue({ $0.isEmpty }) { _ = try await query("SELECT 1") }
        _ = try await run { handle -> PostgresResult in
            let result = PQexec(handle, sql)
            return try Self.consume(result, handle: handle, sql: sql)
        }
    }

    /// Whether an idle connection is still usable, checked without a round trip: a server that shut down
    /// or restarted has already sent its goodbye and closed the socket, which this notices.
    func isAlive() -> Bool {
        guard lockForCall() else { return false }
        defer { unlockAfterCall() }
        return Self.checkAlive(handle)
    }

    /// Whether the pool may lend this connection again: still connected, and no transaction left open.
    /// Only called by the connection's current holder.
    var isReusable: Bool {
        PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE && !broken.withLockedValue { $0 }
            && queued.withLockedValue { $0.isEmpty }
    }

    /// Whether a transaction is open on the server (in progress or failed) and the connection still works,
    /// so that a ROLLBACK can end it. Only called by the connection's current holder.
    var canRollBack: Bool {
        let status = PQtransactionStatus(handle)
        return PQstatus(handle) == CONNECTION_OK && !broken.withLockedValue { $0 } && (status == PQTRANS_INTRANS || status == PQTRANS_INERROR)
    }

    /// Quotes a name (table, channel) for SQL, doubling quotes as needed.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - Internals

    private func lockForCall() -> Bool {
        busy.withLockedValue { inUse in
            if inUse { return false }
            inUse = true
            return true
        }
    }

    private func unlockAfterCall() {
        busy.withLockedValue { $0 = false }
    }

    /// Runs a blocking libpq call on the thread pool, one at a time.
    func run<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        guard lockForCall() else {
            throw PostgresError(.connectionBusy, "this connection is already running a statement; lease one connection per task")
        }
        defer { unlockAfterCall() }
        let handle = UnsafeHandle(handle)
        return try await threadPool.runIfActive { try body(handle.pointer) }
    }
}

/// A pointer handed to the one thread that runs a call; see `PostgresConnection.run`.
struct UnsafeHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
