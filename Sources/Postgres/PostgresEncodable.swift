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
    /// `boolean`: one byte in binary, 0 or 1.
    public static let bool: UInt32 = 16
    /// `bytea`: raw bytes, unchanged in binary.
    public static let bytea: UInt32 = 17
    /// `"char"`: the one-byte internal type of the system catalogues (`char(n)` is `bpchar`).
    public static let char: UInt32 = 18
    /// `name`: the 63-byte identifier type of the system catalogues.
    public static let name: UInt32 = 19
    /// `bigint` (`int8`): 8 bytes big-endian; Swift's `Int` and `Int64` are sent as it.
    public static let int8: UInt32 = 20
    /// `smallint` (`int2`): 2 bytes big-endian.
    public static let int2: UInt32 = 21
    /// `integer` (`int4`): 4 bytes big-endian.
    public static let int4: UInt32 = 23
    /// `text`: UTF-8 bytes.
    public static let text: UInt32 = 25
    /// `oid`: an unsigned 4-byte object identifier.
    public static let oid: UInt32 = 26
    /// `json`: the document's text exactly as stored.
    public static let json: UInt32 = 114
    /// `xml`: the document's text.
    public static let xml: UInt32 = 142
    /// `real` (`float4`): an IEEE 754 single, big-endian.
    public static let float4: UInt32 = 700
    /// `double precision` (`float8`): an IEEE 754 double, big-endian.
    public static let float8: UInt32 = 701
    /// `unknown`: an untyped literal, such as a bare `'text'` in a SELECT list; read as text.
    public static let unknown: UInt32 = 705
    /// `char(n)` (`bpchar`): blank-padded text.
    public static let bpchar: UInt32 = 1042
    /// `varchar`: UTF-8 text.
    public static let varchar: UInt32 = 1043
    /// `date`: days since 2000-01-01 as 4 bytes big-endian.
    public static let date: UInt32 = 1082
    /// `timestamp` without time zone: microseconds since 2000-01-01, which this layer reads as UTC.
    public static let timestamp: UInt32 = 1114
    /// `timestamptz`: microseconds since 2000-01-01 UTC as 8 bytes big-endian; how a `Date` is sent.
    public static let timestamptz: UInt32 = 1184
    /// `numeric`: not decoded here (only named in errors); cast it to `float8` or `text` in the query.
    public static let numeric: UInt32 = 1700
    /// `uuid`: 16 bytes.
    public static let uuid: UInt32 = 2950
    /// `jsonb`: in binary results a version byte (1) before the text; `PostgresJSON` is sent as it, in text form.
    public static let jsonb: UInt32 = 3802
    /// OIDs at or above this belong to types created in the database (enums, composite types).
    public static let firstUserOID: UInt32 = 16384
}

@inline(__always)
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

extension String: PostgresEncodable {
    /// 0: the server infers the type from where the parameter stands.
    public static var postgresType: UInt32 { 0 }
    /// Text with an unspecified type, so the server reads it like a literal in that position
    /// (text, varchar, an enum, a date...).
    public var postgresBind: PostgresBind { PostgresBind(oid: 0, format: 0, bytes: Array(utf8)) }
}

extension Substring: PostgresEncodable {
    /// 0: the server infers the type, as for `String`.
    public static var postgresType: UInt32 { 0 }
    /// The text as UTF-8 with an unspecified type, as for `String`.
    public var postgresBind: PostgresBind { PostgresBind(oid: 0, format: 0, bytes: Array(utf8)) }
}

extension Int: PostgresEncodable {
    /// `bigint`, whatever the platform's `Int` width.
    public static var postgresType: UInt32 { PostgresOID.int8 }
    /// A binary `bigint`.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int8, format: 1, bytes: bigEndianBytes(Int64(self))) }
}

extension Int64: PostgresEncodable {
    /// `bigint`.
    public static var postgresType: UInt32 { PostgresOID.int8 }
    /// A binary `bigint`.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int8, format: 1, bytes: bigEndianBytes(self)) }
}

extension Int32: PostgresEncodable {
    /// `integer`.
    public static var postgresType: UInt32 { PostgresOID.int4 }
    /// A binary `integer`.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int4, format: 1, bytes: bigEndianBytes(self)) }
}

extension Int16: PostgresEncodable {
    /// `smallint`.
    public static var postgresType: UInt32 { PostgresOID.int2 }
    /// A binary `smallint`.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.int2, format: 1, bytes: bigEndianBytes(self)) }
}

extension Bool: PostgresEncodable {
    /// `boolean`.
    public static var postgresType: UInt32 { PostgresOID.bool }
    /// A binary `boolean`: one byte, 1 or 0.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.bool, format: 1, bytes: [self ? 1 : 0]) }
}

extension Double: PostgresEncodable {
    /// `double precision`.
    public static var postgresType: UInt32 { PostgresOID.float8 }
    /// A binary `double precision`: the IEEE 754 bits, big-endian, so no digit is lost.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.float8, format: 1, bytes: bigEndianBytes(bitPattern)) }
}

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC).
let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

extension Date: PostgresEncodable {
    /// `timestamptz`.
    public static var postgresType: UInt32 { PostgresOID.timestamptz }
    /// A `timestamptz` with microsecond precision (PostgreSQL's own); finer fractions are rounded.
    public var postgresBind: PostgresBind {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded()) - postgresEpochOffsetMicroseconds
        return PostgresBind(oid: PostgresOID.timestamptz, format: 1, bytes: bigEndianBytes(micros))
    }
}

extension UUID: PostgresEncodable {
    /// `uuid`.
    public static var postgresType: UInt32 { PostgresOID.uuid }
    /// A binary `uuid`: its 16 bytes in order.
    public var postgresBind: PostgresBind {
        withUnsafeBytes(of: uuid) { PostgresBind(oid: PostgresOID.uuid, format: 1, bytes: Array($0)) }
    }
}

extension Array: PostgresEncodable where Element == UInt8 {
    /// `bytea`.
    public static var postgresType: UInt32 { PostgresOID.bytea }
    /// A `bytea`, sent in binary so zero bytes and any length pass unchanged.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.bytea, format: 1, bytes: self) }
}

extension Data: PostgresEncodable {
    /// `bytea`.
    public static var postgresType: UInt32 { PostgresOID.bytea }
    /// A binary `bytea`, as for `[UInt8]`.
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

    /// The text, typed `jsonb` and sent in text form, so the server parses and checks it.
    public var postgresBind: PostgresBind { PostgresBind(oid: PostgresOID.jsonb, format: 0, bytes: Array(text.utf8)) }
    /// `jsonb`.
    public static var postgresType: UInt32 { PostgresOID.jsonb }

    /// Reads a `json` column as it is, or a binary `jsonb` column after its version byte.
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
    /// `text`.
    public static var elementOID: UInt32 { PostgresOID.text }
    /// `text[]` (OID 1009).
    public static var arrayOID: UInt32 { 1009 }
    /// The UTF-8 bytes.
    public var postgresBinary: [UInt8] { Array(utf8) }
}

extension Int64: PostgresArrayElement {
    /// `bigint`.
    public static var elementOID: UInt32 { PostgresOID.int8 }
    /// `bigint[]` (OID 1016).
    public static var arrayOID: UInt32 { 1016 }
    /// 8 bytes big-endian.
    public var postgresBinary: [UInt8] { bigEndianBytes(self) }
}

extension Int: PostgresArrayElement {
    /// `bigint`, as for `Int64`.
    public static var elementOID: UInt32 { PostgresOID.int8 }
    /// `bigint[]` (OID 1016).
    public static var arrayOID: UInt32 { 1016 }
    /// The value as an `Int64`, 8 bytes big-endian.
    public var postgresBinary: [UInt8] { bigEndianBytes(Int64(self)) }
}

/// A one-dimensional array parameter (`text[]`, `int8[]`), sent in PostgreSQL's binary array format, so
/// no element is ever quoted or escaped by hand (as postgres-nio's `Array+PostgresCodable` does).
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    /// The elements, in order.
    public var elements: [Element]

    /// Wraps the elements.
    public init<S: Sequence>(_ elements: S) where S.Element == Element { self.elements = Array(elements) }

    /// The element type's array type, e.g. `text[]`.
    public static var postgresType: UInt32 { Element.arrayOID }

    /// The array in binary: one dimension from index 1, no NULLs, each element length-prefixed.
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
