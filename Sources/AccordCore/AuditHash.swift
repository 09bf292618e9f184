import Crypto
import Foundation

/// The content of one audit entry, as hashed into its chain.
public struct AuditEntryContent: Sendable, Equatable {
    /// The chain the entry belongs to: `org` for the organisation, `program:SLUG` for a program.
    public var chain: String
    /// Its position in the chain, from 1 with no gaps.
    public var seq: Int64
    /// Database time of the change, in microseconds since 1970-01-01 UTC.
    public var recordedAtMicros: Int64
    /// Who made the change: a person's handle, or `system`/`scheduler` for automatic changes.
    public var actor: String
    /// What was done, e.g. `task.submit` or `person.add`.
    public var action: String
    /// The kind of thing changed (`task`, `person`, `program`…), if any.
    public var objectType: String?
    /// Which one: a task ref, a handle, a slug…
    public var objectID: String?
    /// The JSON text exactly as stored (a `json` column keeps it byte for byte).
    public var before: String?
    /// The object's JSON after the change, exactly as stored, if any.
    public var after: String?
    /// The reason given for the change, if any.
    public var reason: String?
    /// The channel that wrote the entry when it was not the server (`cli user=… host=…`), or `nil`.
    public var origin: String?

    /// Creates the value from its fields; `origin` defaults to none, as for the server's own entries.
    public init(
        chain: String,
        seq: Int64,
        recordedAtMicros: Int64,
        actor: String,
        action: String,
        objectType: String?,
        objectID: String?,
        before: String?,
        after: String?,
        reason: String?,
        origin: String? = nil
    ) {
        self.origin = origin
        self.chain = chain
        self.seq = seq
        self.recordedAtMicros = recordedAtMicros
        self.actor = actor
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.before = before
        self.after = after
        self.reason = reason
    }

    /// The canonical encoding (version 1): `accord-audit-v1;` then each field as `LENGTH:VALUE;`
    /// (LENGTH in UTF-8 bytes) or `~;` for NULL, in a fixed order; an origin, when there is one, is one
    /// more field at the end (so entries without one keep the bytes they always had). The database function
    /// `accord.audit_canonical` produces the same bytes; length prefixes make it unambiguous.
    public var canonicalBytes: [UInt8] {
        // One encoder for both paths: this one and `accord audit verify`'s, which writes from row bytes.
        var writer = AuditCanonicalWriter()
        writer.begin()
        writer.field(chain.utf8)
        writer.number(seq)
        writer.number(recordedAtMicros)
        writer.field(actor.utf8)
        writer.field(action.utf8)
        writer.field(objectType?.utf8)
        writer.field(objectID?.utf8)
        writer.field(before?.utf8)
        writer.field(after?.utf8)
        writer.field(reason?.utf8)
        if let origin { writer.field(origin.utf8) }
        return writer.bytes
    }

    /// SHA-256 of the previous entry's hash (nothing for the first entry) followed by the canonical encoding.
    public func hash(previous: [UInt8]?) -> [UInt8] {
        var hasher = SHA256()
        if let previous { hasher.update(data: previous) }
        hasher.update(data: canonicalBytes)
        return Array(hasher.finalize())
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

/// Hex for hashes.
public func hexString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    // Straight into the string's UTF-8: `String(format:)` per byte was a few per cent of a sign-off's CPU.
    var text: [UInt8] = []
    text.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        text.append(hexDigits[Int(byte >> 4)])
        text.append(hexDigits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The canonical encoding written straight from field bytes (UTF-8 text as stored), with no `String`
/// in between: what `accord audit verify` uses to recompute long chains. Same bytes as
/// `AuditEntryContent.canonicalBytes`, which is written with it.
public struct AuditCanonicalWriter {
    /// The entry encoded so far; reused from one entry to the next.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer; call `begin()` before each entry.
    public init() { bytes.reserveCapacity(1024) }

    /// Starts an entry: clears the buffer and writes the version tag.
    public mutating func begin() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: "accord-audit-v1;".utf8)
    }

    /// A text field (`nil` for NULL).
    public mutating func field<C: Collection>(_ value: C?) where C.Element == UInt8 {
        guard let value else {
            bytes.append(UInt8(ascii: "~"))
            bytes.append(UInt8(ascii: ";"))
            return
        }
        decimal(value.count)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: value)
        bytes.append(UInt8(ascii: ";"))
    }

    /// A number field.
    public mutating func number(_ value: Int64) {
        var digits = 0
        var rest = value.magnitude
        repeat {
            digits += 1
            rest /= 10
        } while rest > 0
        decimal(digits + (value < 0 ? 1 : 0))
        bytes.append(UInt8(ascii: ":"))
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        decimalMagnitude(value.magnitude)
        bytes.append(UInt8(ascii: ";"))
    }

    private mutating func decimal(_ value: Int) { decimalMagnitude(UInt64(value)) }

    private mutating func decimalMagnitude(_ value: UInt64) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
    }

    /// SHA-256 of the previous hash (none for the first entry) and the bytes written.
    public func hash(previous: [UInt8]?) -> [UInt8] {
        var hasher = SHA256()
        if let previous { hasher.update(data: previous) }
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }
}
