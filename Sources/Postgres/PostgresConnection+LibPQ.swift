import CLibPQ
import Foundation
import NIOConcurrencyHelpers

/// The libpq side of a connection: the pipeline that sends statements and reads their results, the
/// parameters laid out as libpq wants them, results copied out of libpq, errors and liveness.
extension PostgresConnection {
    static func checkAlive(_ handle: OpaquePointer) -> Bool {
        guard PQstatus(handle) == CONNECTION_OK else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        // An idle connection has nothing to read; anything readable is a goodbye or EOF.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready <= 0 { return ready == 0 }
            if PQconsumeInput(handle) == 0 { return false }
            while let notify = PQnotifies(handle) { PQfreemem(notify) }
            if PQstatus(handle) != CONNECTION_OK { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Sends every statement, then one Sync, then reads the results in order: one network round trip.
    /// After an error the server skips the rest up to the Sync (libpq reports them as aborted).
    ///
    /// Each statement runs as a named prepared statement of this connection, prepared (in the same
    /// pipeline) the first time its text and parameter types are seen: the server parses and plans it
    /// once per connection instead of on every call. At most `preparedLimit` are kept; beyond that a
    /// statement is sent unnamed, as before.
    static func execPipeline(
        _ handle: OpaquePointer,
        _ statements: [(statement: PostgresStatement, binds: [PostgresBind])],
        connection: PostgresConnection
    ) throws -> [PostgresResult] {
        // libpq sends text values as C strings: a NUL byte would silently cut the value short.
        for statement in statements where statement.binds.contains(where: { $0.format == 0 && $0.bytes?.contains(0) == true }) {
            var error = PostgresError(.server, "a text value contains a NUL byte, which PostgreSQL text cannot hold", sqlState: "22021")
            error.query = statement.statement.sql
            throw error
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, lastError(handle))
        }
        // What was sent, in order: a prepare (its result is read and dropped) or a statement.
        enum Sent {
            case prepare(key: String, name: String)
            case statement(sql: String)
        }
        var sent: [Sent] = []
        var sendError: PostgresError?
        var names = connection.prepared.withLockedValue { $0 }
        func failed(_ sql: String?) -> PostgresError {
            var error = PostgresError(PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, lastError(handle))
            error.query = sql
            return error
        }
        for (statement, binds) in statements {
            let key = binds.map { String($0.oid) }.joined(separator: ",") + "|" + statement.sql
            var name = names[key]
            if name == nil, names.count < preparedLimit, statement.planning == .prepared {
                // The statement's own name where it has one (unique: the same name with other parameter
                // types gets a suffix), else a generated one.
                let taken = Set(names.values)
                var fresh = statement.name.map { "accord_" + $0 } ?? "accord_\(names.count + 1)"
                if taken.contains(fresh) { fresh += "_\(names.count + 1)" }
                let types = binds.map { $0.oid }
                guard PQsendPrepare(handle, fresh, statement.sql, Int32(types.count), types) == 1 else {
                    sendError = failed(statement.sql)
                    break
                }
                sent.append(.prepare(key: key, name: fresh))
                names[key] = fresh
                name = fresh
            }
            let ok = withParameters(binds) { count, types, values, lengths, formats in
                if let name {
                    return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 1)
                }
                return PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 1)
            }
            guard ok == 1 else {
                sendError = failed(statement.sql)
                break
            }
            sent.append(.statement(sql: statement.sql))
        }
        if sendError == nil, PQpipelineSync(handle) != 1 {
            sendError = failed(nil)
        }
        if let sendError {
            // The protocol state is unknown: the connection is not lent again.
            connection.broken.withLockedValue { $0 = true }
            throw sendError
        }
        var results: [PostgresResult] = []
        results.reserveCapacity(statements.count)
        var firstError: (any Error)?
        var preparedNow: [String: String] = [:]
        for item in sent {
            var answered = false
            while let result = PQgetResult(handle) {
                answered = true
                let status = PQresultStatus(result)
                if status == PGRES_PIPELINE_ABORTED || status == PGRES_PIPELINE_SYNC {
                    PQclear(result)
                    if status == PGRES_PIPELINE_SYNC { break }
                    continue
                }
                switch item {
                case .prepare(let key, let name):
                    do {
                        _ = try consume(result, handle: handle, sql: "PREPARE")
                        preparedNow[key] = name
                    } catch {
                        if firstError == nil { firstError = error }
                    }
                case .statement(let sql):
                    do {
                        results.append(try consume(result, handle: handle, sql: sql))
                    } catch {
                        if firstError == nil { firstError = error }
                    }
                }
            }
            if !answered && PQstatus(handle) != CONNECTION_OK { break }
        }
        // The Sync's own result closes the pipeline.
        while PQstatus(handle) == CONNECTION_OK, let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if !preparedNow.isEmpty { connection.prepared.withLockedValue { $0.merge(preparedNow) { _, new in new } } }
        if PQexitPipelineMode(handle) != 1 || PQstatus(handle) != CONNECTION_OK {
            connection.broken.withLockedValue { $0 = true }
            if firstError == nil {
                var error = PostgresError(.connectionLost, lastError(handle))
                error.query = statements.last?.statement.sql
                firstError = error
            }
        }
        if let firstError {
            if var error = firstError as? PostgresError, PQstatus(handle) != CONNECTION_OK {
                error.code = .connectionLost
                throw error
            }
            throw firstError
        }
        guard results.count == statements.count else {
            connection.broken.withLockedValue { $0 = true }
            throw PostgresError(.connectionLost, "the server answered \(results.count) of \(statements.count) pipelined statements")
        }
        return results
    }

    /// Prepared statements kept per connection.
    static let preparedLimit = 400

    /// Lays out parameters as libpq wants them (text or binary values, NUL-terminated) for `body`.
    private static func withParameters<R>(
        _ binds: [PostgresBind],
        _ body: (Int32, [UInt32], [UnsafePointer<CChar>?], [Int32], [Int32]) -> R
    ) -> R {
        let count = binds.count
        var types = [UInt32](repeating: 0, count: count)
        var formats = [Int32](repeating: 0, count: count)
        var lengths = [Int32](repeating: 0, count: count)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(binds.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 })
        var starts = [Int](repeating: -1, count: count)
        for (i, bind) in binds.enumerated() {
            types[i] = bind.oid
            formats[i] = bind.format
            guard let bytes = bind.bytes else { continue }
            starts[i] = buffer.count
            lengths[i] = Int32(bytes.count)
            buffer.append(contentsOf: bytes)
            buffer.append(0)  // text-format values are read as C strings
        }
        return buffer.withUnsafeBufferPointer { raw in
            let base = raw.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            // Every non-NULL value appended at least its terminating zero, so `base` exists when needed.
            let values: [UnsafePointer<CChar>?] = starts.map { start in start >= 0 ? base.map { $0 + start } : nil }
            return body(Int32(count), types, values, lengths, formats)
        }
    }

    /// Copies a PGresult into a `PostgresResult` (or an error) and frees it.
    static func consume(_ result: OpaquePointer?, handle: OpaquePointer, sql: String) throws -> PostgresResult {
        guard let result else {
            var error = PostgresError(PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, lastError(handle))
            error.query = sql
            throw error
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return copy(result)
        default:
            var error = PostgresError(.server, field(result, 77) ?? lastError(handle), sqlState: field(result, 67))
            error.detail = field(result, 68)
            error.hint = field(result, 72)
            error.table = field(result, 116)
            error.column = field(result, 99)
            error.constraint = field(result, 110)
            error.query = sql
            if PQstatus(handle) != CONNECTION_OK { error.code = .connectionLost }
            throw error
        }
    }

    private static func copy(_ result: OpaquePointer) -> PostgresResult {
        let rows = Int(PQntuples(result))
        let fields = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(fields)
        for f in 0..<fields {
            columns.append(PostgresColumn(name: String(cString: PQfname(result, Int32(f))), oid: PQftype(result, Int32(f))))
        }
        var total = 0
        for r in 0..<rows {
            for f in 0..<fields { total += Int(PQgetlength(result, Int32(r), Int32(f))) }
        }
        var storage: [UInt8] = []
        storage.reserveCapacity(total)
        var offsets = [Int](repeating: 0, count: rows * fields)
        var lengths = [Int32](repeating: -1, count: rows * fields)
        for r in 0..<rows {
            for f in 0..<fields {
                let i = r * fields + f
                if PQgetisnull(result, Int32(r), Int32(f)) == 1 { continue }
                let length = PQgetlength(result, Int32(r), Int32(f))
                offsets[i] = storage.count
                lengths[i] = length
                if length > 0, let value = PQgetvalue(result, Int32(r), Int32(f)) {
                    storage.append(contentsOf: UnsafeRawBufferPointer(start: value, count: Int(length)))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rows
        let tag = String(cString: PQcmdStatus(result))
        return PostgresResult(
            columns: columns,
            rowCount: rows,
            affectedRows: affected,
            commandTag: tag,
            storage: storage,
            offsets: offsets,
            lengths: lengths
        )
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    /// libpq's last error on a connection handle, on one line.
    public static func lastError(_ handle: OpaquePointer) -> String {
        let text = PQerrorMessage(handle).map { String(cString: $0) } ?? "unknown error"
        // libpq's messages may span lines ("FATAL: …\nDETAIL: …"); keep them on one.
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
public func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
