/// A column of a result: its name and type OID.
public struct PostgresColumn: Sendable, Hashable {
    /// The column's name as the query labelled it.
    public let name: String
    /// The column's type OID.
    public let oid: UInt32
}

/// The rows a statement returned, copied out of libpq's result so it can cross threads.
///
/// All fields live in one byte buffer; a row is an index into it.
public final class PostgresResult: Sendable, RandomAccessCollection {
    /// The result's columns, in order.
    public let columns: [PostgresColumn]
    /// Rows changed by INSERT, UPDATE, DELETE, MERGE or COPY, or returned by SELECT.
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 1`, `COMMIT` (or `ROLLBACK` when COMMIT found the transaction failed).
    public let commandTag: String
    let storage: [UInt8]
    /// Per field: start offset in `storage`, and length (-1 for NULL).
    let offsets: [Int]
    let lengths: [Int32]
    let columnIndex: [String: Int]
    /// The number of rows returned (0 for a command that returns none).
    public let count: Int
    /// Whether this is a probe: one row of placeholders, made from a statement's description.
    let isProbe: Bool

    init(
        columns: [PostgresColumn],
        rowCount: Int,
        affectedRows: Int,
        commandTag: String,
        storage: [UInt8],
        offsets: [Int],
        lengths: [Int32],
        isProbe: Bool = false
    ) {
        self.isProbe = isProbe
        self.columns = columns
        self.commandTag = commandTag
        self.count = rowCount
        self.affectedRows = affectedRows
        self.storage = storage
        self.offsets = offsets
        self.lengths = lengths
        var index: [String: Int] = [:]
        for (i, column) in columns.enumerated() where index[column.name] == nil { index[column.name] = i }
        self.columnIndex = index
    }

    /// The first row's index: rows are numbered from 0.
    public var startIndex: Int { 0 }
    /// One past the last row's index, `count`.
    public var endIndex: Int { count }
    /// The row at an index from 0 to `count - 1` (not checked here: a wrong index traps when a field is read).
    public subscript(position: Int) -> PostgresRow { PostgresRow(result: self, index: position) }

    /// The first row, or `nil` when there is none.
    public var firstRow: PostgresRow? { isEmpty ? nil : self[0] }
}

/// One row of a `PostgresResult`.
public struct PostgresRow: Sendable {
    let result: PostgresResult
    let index: Int

    /// The row's columns.
    public var columns: [PostgresColumn] { result.columns }

    /// The raw field at a column position.
    public func cell(at column: Int) -> PostgresCell {
        let field = index * result.columns.count + column
        let length = result.lengths[field]
        if length < 0 { return PostgresCell(oid: result.columns[column].oid, bytes: nil) }
        let start = result.offsets[field]
        return PostgresCell(oid: result.columns[column].oid, bytes: result.storage[start..<(start + Int(length))], isProbe: result.isProbe)
    }

    /// Decodes the field at a column position.
    /// - Throws: `PostgresError` with code `.decoding` naming the column when its type or nullability does not fit `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < result.columns.count else {
            throw PostgresError(.decoding, "the result has no column \(column); it has \(result.columns.count)")
        }
        do {
            return try T.decode(cell(at: column))
        } catch let mismatch as PostgresCell.Mismatch {
            let c = result.columns[column]
            throw PostgresError(.decoding, "column '\(c.name)' has type \(typeName(c.oid)) and cannot be read as \(mismatch.expected)")
        } catch is PostgresCell.UnexpectedNull {
            let c = result.columns[column]
            throw PostgresError(.decoding, "column '\(c.name)' is NULL; read it as \(T.self)? to accept NULL")
        }
    }

    /// Decodes the field of the column with this name.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws -> T {
        guard let column = result.columnIndex[name] else {
            let names = result.columns.map(\.name).joined(separator: ", ")
            throw PostgresError(.decoding, "the result has no column '\(name)'; it has \(names)")
        }
        return try decode(type, at: column)
    }
}

func typeName(_ oid: UInt32) -> String {
    switch oid {
    case PostgresOID.bool: "boolean"
    case PostgresOID.bytea: "bytea"
    case PostgresOID.int8: "bigint"
    case PostgresOID.int2: "smallint"
    case PostgresOID.int4: "integer"
    case PostgresOID.text: "text"
    case PostgresOID.json: "json"
    case PostgresOID.float4: "real"
    case PostgresOID.float8: "double precision"
    case PostgresOID.varchar: "varchar"
    case PostgresOID.date: "date"
    case PostgresOID.timestamp: "timestamp"
    case PostgresOID.timestamptz: "timestamptz"
    case PostgresOID.numeric: "numeric"
    case PostgresOID.uuid: "uuid"
    case PostgresOID.jsonb: "jsonb"
    default: "oid \(oid)"
    }
}
