public import Foundation

/// One field of a result row, in PostgreSQL's binary format, with its column's type OID.
public struct PostgresCell {
    /// The column's type OID.
    public let oid: UInt32
    /// The value's bytes, or `nil` for SQL NULL.
    public let bytes: ArraySlice<UInt8>?
    /// Whether the cell is a placeholder of the column's type, made by `PostgresQuery.probe` to check a
    /// decoder against a statement's columns without running it; decoders of constrained text (enums)
    /// accept any placeholder.
    public var isProbe = false

    init(oid: UInt32, bytes: ArraySlice<UInt8>?, isProbe: Bool = false) {
        self.oid = oid
        self.bytes = bytes
        self.isProbe = isProbe
    }

    /// Thrown by decoders when the cell is not of a type they accept; the row turns it into a
    /// `PostgresError` naming the column.
    public struct Mismatch: Error {
        /// What the decoder wanted, in words.
        public let expected: String
        /// Creates a mismatch.
        public init(expected: String) { self.expected = expected }
    }

    struct UnexpectedNull: Error {}

    /// The bytes, or an error when the value is NULL.
    public func requireBytes() throws -> ArraySlice<UInt8> {
        guard let bytes else { throw UnexpectedNull() }
        return bytes
    }

    func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let bytes = try requireBytes()
        var value: T = 0
        guard bytes.count == MemoryLayout<T>.size else { throw Mismatch(expected: "\(T.self)") }
        for byte in bytes { value = (value << 8) | T(byte) }
        return value
    }
}

/// A Swift type that can be read from a result column.
public protocol PostgresDecodable: Sendable {
    /// Decodes the value, or throws `PostgresCell.Mismatch` when the column's type does not fit.
    static func decode(_ cell: PostgresCell) throws -> Self
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// SQL NULL decodes as `nil`.
    public static func decode(_ cell: PostgresCell) throws -> Wrapped? {
        guard cell.bytes != nil else { return nil }
        return try Wrapped.decode(cell)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// `nil` is sent as SQL NULL.
    public var postgresBind: PostgresBind { self?.postgresBind ?? PostgresBind(oid: Wrapped.postgresType, format: 0, bytes: nil) }
    /// The wrapped type's OID, so a NULL parameter is still typed.
    public static var postgresType: UInt32 { Wrapped.postgresType }
}

/// Column types whose binary form is their UTF-8 text.
let textualOIDs: Set<UInt32> = [
    PostgresOID.char, PostgresOID.name, PostgresOID.text, PostgresOID.json, PostgresOID.xml,
    PostgresOID.unknown, PostgresOID.bpchar, PostgresOID.varchar,
]

extension String: PostgresDecodable {
    /// Reads text-like columns (text, varchar, char, name, json, enums) and formats a uuid.
    public static func decode(_ cell: PostgresCell) throws -> String {
        let bytes = try cell.requireBytes()
        if textualOIDs.contains(cell.oid) || cell.oid >= PostgresOID.firstUserOID {
            return String(decoding: bytes, as: UTF8.self)
        }
        switch cell.oid {
        case PostgresOID.jsonb where bytes.first == 1:
            return String(decoding: bytes.dropFirst(), as: UTF8.self)
        case PostgresOID.uuid:
            return try UUID.decode(cell).uuidString.lowercased()
        default:
            throw PostgresCell.Mismatch(expected: "String")
        }
    }
}

extension Int64: PostgresDecodable {
    /// Reads int2, int4, int8 and oid columns.
    public static func decode(_ cell: PostgresCell) throws -> Int64 {
        switch cell.oid {
        case PostgresOID.int8: return try cell.integer(Int64.self)
        case PostgresOID.int4: return Int64(try cell.integer(Int32.self))
        case PostgresOID.int2: return Int64(try cell.integer(Int16.self))
        case PostgresOID.oid: return Int64(try cell.integer(UInt32.self))
        default: throw PostgresCell.Mismatch(expected: "Int64")
        }
    }
}

extension Int: PostgresDecodable {
    /// Reads int2, int4, int8 and oid columns.
    public static func decode(_ cell: PostgresCell) throws -> Int {
        Int(try Int64.decode(cell))
    }
}

extension Int32: PostgresDecodable {
    /// Reads int2 and int4 columns; an int8 column is refused rather than silently truncated.
    public static func decode(_ cell: PostgresCell) throws -> Int32 {
        switch cell.oid {
        case PostgresOID.int4: return try cell.integer(Int32.self)
        case PostgresOID.int2: return Int32(try cell.integer(Int16.self))
        default: throw PostgresCell.Mismatch(expected: "Int32")
        }
    }
}

extension Bool: PostgresDecodable {
    /// Reads boolean columns (one byte; anything but 0 is true).
    public static func decode(_ cell: PostgresCell) throws -> Bool {
        guard cell.oid == PostgresOID.bool else { throw PostgresCell.Mismatch(expected: "Bool") }
        let bytes = try cell.requireBytes()
        guard bytes.count == 1 else { throw PostgresCell.Mismatch(expected: "Bool") }
        return bytes.first != 0
    }
}

extension Double: PostgresDecodable {
    /// Reads float4 and float8 columns (cast numeric to float8 or text in the query).
    public static func decode(_ cell: PostgresCell) throws -> Double {
        switch cell.oid {
        case PostgresOID.float8: return Double(bitPattern: try cell.integer(UInt64.self))
        case PostgresOID.float4: return Double(Float(bitPattern: try cell.integer(UInt32.self)))
        default: throw PostgresCell.Mismatch(expected: "Double")
        }
    }
}

extension Date: PostgresDecodable {
    /// Reads timestamptz, timestamp (taken as UTC) and date columns, to the microsecond.
    public static func decode(_ cell: PostgresCell) throws -> Date {
        switch cell.oid {
        case PostgresOID.timestamptz, PostgresOID.timestamp:
            let micros = try cell.integer(Int64.self)
            if micros == Int64.max { return .distantFuture }
            if micros == Int64.min { return .distantPast }
            let sinceUnix = micros + postgresEpochOffsetMicroseconds
            // Split to keep microsecond precision in the Double.
            let seconds = sinceUnix.quotientAndRemainder(dividingBy: 1_000_000)
            return Date(timeIntervalSince1970: Double(seconds.quotient) + Double(seconds.remainder) / 1_000_000)
        case PostgresOID.date:
            let days = try cell.integer(Int32.self)
            return Date(timeIntervalSince1970: Double(Int64(days) * 86_400 + postgresEpochOffsetMicroseconds / 1_000_000))
        default:
            throw PostgresCell.Mismatch(expected: "Date")
        }
    }
}

extension UUID: PostgresDecodable {
    /// Reads uuid columns (16 bytes).
    public static func decode(_ cell: PostgresCell) throws -> UUID {
        guard cell.oid == PostgresOID.uuid else { throw PostgresCell.Mismatch(expected: "UUID") }
        let b = Array(try cell.requireBytes())
        guard b.count == 16 else { throw PostgresCell.Mismatch(expected: "UUID") }
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Reads bytea columns.
    public static func decode(_ cell: PostgresCell) throws -> [UInt8] {
        guard cell.oid == PostgresOID.bytea else { throw PostgresCell.Mismatch(expected: "bytes (bytea)") }
        return Array(try cell.requireBytes())
    }
}

extension Data: PostgresDecodable {
    /// Reads bytea columns.
    public static func decode(_ cell: PostgresCell) throws -> Data {
        Data(try [UInt8].decode(cell))
    }
}

/// A Swift enum stored as its raw text (`TaskState` as `'in_review'`): decoded from the text column,
/// refusing a value the enum does not know (a `Mismatch` naming the column), never by a force unwrap.
public protocol PostgresTextEnum: PostgresDecodable, PostgresEncodable, RawRepresentable, CaseIterable
where RawValue == String {}

extension PostgresTextEnum {
    /// Reads a text column as the case with that raw value; a value the enum lacks is a `Mismatch`.
    public static func decode(_ cell: PostgresCell) throws -> Self {
        let text = try String.decode(cell)
        // A catalogue probe's cell holds no real value: any case shows the column fits.
        if cell.isProbe, let any = allCases.first { return any }
        guard let value = Self(rawValue: text) else { throw PostgresCell.Mismatch(expected: "one of \(Self.self)'s values, not '\(text)'") }
        return value
    }

    /// The raw value as untyped text, so the server reads it as the column's type (text or a database enum).
    public var postgresBind: PostgresBind { rawValue.postgresBind }
    /// 0: the server infers the type, as for `String`.
    public static var postgresType: UInt32 { 0 }
}
