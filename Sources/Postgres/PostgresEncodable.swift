public import Foundation

/// A parameter value as libpq sends it: a type OID (0 lets the server infer it), a format
/// (0 text, 1 binary) and the bytes, `nil` for SQL NULL.
public struct PostgresBind: Sendable {
    /// The parameter's type OID; 0 lets the server infer it from the statement.
    public var oid: UInt32
    /// 0 for text, 1 for binary.
    public var format: Int32
    /// The value's bytes; `nil` sends SQL NULL.
    public var bytes: [UInt8]?

    /// Creates a bound value.
    public init(oid: UInt32, format: Int32, bytes: [UInt8]?) {
        self.oid = oid
        self.format = format
        self.bytes = bytes
    }
}

/// A Swift value that can be sent as a query parameter. Parameters are always sent apart from
/// the SQL text (`PQexecParams`), never spliced into it.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's wire form.
    var postgresBind: PostgresBind { get }
    /// The type OID every value of this Swift type is sent as (0 lets the server infer it from the
    /// statement, as for text). A typed query prepares with these, so a parameter of the wrong type is
    /// refused when the statement is prepared — by `PostgresQueryCatalogueTests` before any release.
    static var postgresType: UInt32 { get }
}

/// Type OIDs this layer uses.
public enum PostgresOID {
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let char: UInt32 = 18
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let xml: UInt32 = 142
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let unknown: UInt32 = 705
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    /// OIDs at or above this belong to types created in the database (enums, composite types).
    public static let firstUserOID: UInt32 = 16384
}

@inline(__always)
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

extension String: PostgresEncodable {
    public static var postgresType: UInt32 { 0 }
    /// Text with an unspecified type, so the server reads it like a literal in that position
    /// (text, varchar, an enum, a date...).
    public var postgresBind: PostgresBind { PostgresBind(oid: 0, format: 0, bytes: Array(utf8)) }
}

extension Substring: PostgresEncodable {
    public static var postgresType: UInt32 { 0 }
    public var postgresBind: PostgresBind { PostgresBind(oid: 0, format: 0, bytes: Array(utf8)) }
}

extension Int: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.int8 }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int8, format: 1, bytes: bigEndianBytes(Int64(self))) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.int8 }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int8, format: 1, bytes: bigEndianBytes(self)) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.int4 }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int4, format: 1, bytes: bigEndianBytes(self)) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.int2 }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int2, format: 1, bytes: bigEndianBytes(self)) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.bool }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.bool, format: 1, bytes: [self ? 1 : 0]) }
}

extension Double: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.float8 }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.float8, format: 1, bytes: bigEndianBytes(bitPattern)) }
}

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC).
let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

extension Date: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.timestamptz }
    /// A `timestamptz` with microsecond precision (PostgreSQL's own); finer fractions are rounded.
    public var postgresBind: PostgresBind {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded()) - postgresEpochOffsetMicroseconds
        return PostgresBind(oid: PostgresOID.timestamptz, format: 1, bytes: bigEndianBytes(micros))
    }
}

extension UUID: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.uuid }
    public var postgresBind: PostgresBind {
        withUnsafeBytes(of: uuid) { PostgresBind(oid: PostgresOID.uuid, format: 1, bytes: Array($0)) }
    }
}

extension Array: PostgresEncodable where Element == UInt8 {
    public static var postgresType: UInt32 { PostgresOID.bytea }
    /// A `bytea`, sent in binary so zero bytes and any length pass unchanged.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.bytea, format: 1, bytes: self) }
}

extension Data: PostgresEncodable {
    public static var postgresType: UInt32 { PostgresOID.bytea }
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.bytea, format: 1, bytes: Array(self)) }
}

/// A JSON document, sent as `jsonb` and decoded from `json` or `jsonb` columns.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    /// The document's UTF-8 text.
    public var text: String

    /// Wraps JSON text as it is.
    public init(text: String) { self.text = text }

    /// Encodes a value with `JSONEncoder` (keys sorted, so equal values give equal text).
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the document with `JSONDecoder`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.jsonb, format: 0, bytes: Array(text.utf8)) }
    public static var postgresType: UInt32 { PostgresOID.jsonb }

    public static func decode(_ cell: PostgresCell) throws -> PostgresJSON {
        let bytes = try cell.requireBytes()
        switch cell.oid {
        case PostgresOID.jsonb:
            guard bytes.first == 1 else { throw PostgresCell.Mismatch(expected: "JSON (jsonb version 1)") }
            return PostgresJSON(text: String(decoding: bytes.dropFirst(), as: UTF8.self))
        case PostgresOID.json:
            return PostgresJSON(text: String(decoding: bytes, as: UTF8.self))
        default:
            throw PostgresCell.Mismatch(expected: "JSON")
        }
    }
}

/// A value that can be an element of a `PostgresArray`: its element type and array type OIDs and its
/// binary form.
public protocol PostgresArrayElement: Sendable {
    /// The element type's OID (`text`, `int8`).
    static var elementOID: UInt32 { get }
    /// The array type's OID (`text[]`, `int8[]`).
    static var arrayOID: UInt32 { get }
    /// The element in PostgreSQL's binary format.
    var postgresBinary: [UInt8] { get }
}

extension String: PostgresArrayElement {
    public static var elementOID: UInt32 { PostgresOID.text }
    public static var arrayOID: UInt32 { 1009 }
    public var postgresBinary: [UInt8] { Array(utf8) }
}

extension Int64: PostgresArrayElement {
    public static var elementOID: UInt32 { PostgresOID.int8 }
    public static var arrayOID: UInt32 { 1016 }
    public var postgresBinary: [UInt8] { bigEndianBytes(self) }
}

extension Int: PostgresArrayElement {
    public static var elementOID: UInt32 { PostgresOID.int8 }
    public static var arrayOID: UInt32 { 1016 }
    public var postgresBinary: [UInt8] { bigEndianBytes(Int64(self)) }
}

/// A one-dimensional array parameter (`text[]`, `int8[]`), sent in PostgreSQL's binary array format, so
/// no element is ever quoted or escaped by hand (as postgres-nio's `Array+PostgresCodable` does).
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    /// The elements, in order.
    public var elements: [Element]

    /// Wraps the elements.
    public init<S: Sequence>(_ elements: S) where S.Element == Element { self.elements = Array(elements) }

    public static var postgresType: UInt32 { Element.arrayOID }

    public var postgresBind: PostgresBind {
        // Dimensions, has-nulls flag, element OID; then the one dimension's length and lower bound;
        // then each element's length and bytes.
        var bytes = bigEndianBytes(Int32(1)) + bigEndianBytes(Int32(0)) + bigEndianBytes(Element.elementOID)
        bytes += bigEndianBytes(Int32(elements.count)) + bigEndianBytes(Int32(1))
        for element in elements {
            let binary = element.postgresBinary
            bytes += bigEndianBytes(Int32(binary.count)) + binary
        }
        return PostgresBind(oid: Element.arrayOID, format: 1, bytes: bytes)
    }
}
