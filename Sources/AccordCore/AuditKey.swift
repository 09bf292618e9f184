import Crypto
public import Foundation

/// A key held outside the database; it authenticates signatures and checkpoints, so that someone who
/// can write the database but does not have the key cannot forge either.
public struct AuditKey: Sendable {
    let key: SymmetricKey
    /// The first 16 hex digits of SHA-256 of the key, stored beside each MAC.
    public let id: String

    /// Wraps key bytes (32 or more recommended).
    public init(bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
        id = String(hexString(Array(SHA256.hash(data: bytes))).prefix(16))
    }

    /// HMAC-SHA256 of bytes.
    public func mac(_ bytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
    }

    /// A 32-byte key for another purpose, derived from this one with HKDF-SHA256, so the one secret kept
    /// outside the database also protects other things (an SSO client secret, a PKCE verifier) without
    /// reusing the audit key's own bytes.
    public func derivedKey(purpose: String) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32).withUnsafeBytes { Array($0) }
    }

    /// Whether a MAC is right, compared in constant time.
    public func verify(_ mac: [UInt8], for bytes: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
    }
}

/// A chain's position and head, authenticated with the audit key, to keep outside the database.
/// With one, verification also catches a cut tail and a chain recomputed from scratch.
public struct Checkpoint: Codable, Sendable, Equatable {
    /// The audit chain checkpointed (`org`, or `program:SLUG`).
    public var chain: String
    /// The sequence number of the chain's head entry when taken (0 for an empty chain).
    public var position: Int64
    /// That entry's hash, in hex (empty for an empty chain).
    public var headSHA256: String
    /// When it was taken, ISO 8601 in UTC: the MAC covers this text, so it survives any JSON round trip.
    public var at: String
    /// The id of the audit key that made the MAC.
    public var keyID: String
    /// HMAC-SHA256 of the checkpoint's canonical encoding (`accord-checkpoint-v1`) under that key, in hex.
    public var mac: String

    /// Creates a checkpoint and its MAC.
    public init(chain: String, position: Int64, headSHA256: String, at: Date, key: AuditKey) {
        self.chain = chain
        self.position = position
        self.headSHA256 = headSHA256
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        self.at = format.string(from: at)
        self.keyID = key.id
        self.mac = ""
        self.mac = hexString(key.mac(canonicalBytes))
    }

    var canonicalBytes: [UInt8] {
        var c = Canonical("accord-checkpoint-v1")
        c.add(chain)
        c.add(String(position))
        c.add(headSHA256)
        c.add(at)
        c.add(keyID)
        return c.bytes
    }

    /// Whether the MAC is right for this key.
    public func isAuthentic(under key: AuditKey) -> Bool {
        guard key.id == keyID, let bytes = hexBytes(mac) else { return false }
        return key.verify(bytes, for: canonicalBytes)
    }
}

/// Bytes from hex, or `nil` when the text is not hex.
public func hexBytes(_ text: String) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.count / 2)
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
        bytes.append(byte)
        index = next
    }
    return bytes
}

extension AuditKey {
    /// A key written as text: 64 hex digits, or base64 of 32 or more bytes (`ACCORD_AUDIT_KEY`, `audit.key`).
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes: [UInt8]? = trimmed.count == 64 ? hexBytes(trimmed.lowercased()) : nil
        guard let bytes = bytes ?? Data(base64Encoded: trimmed).map(Array.init), bytes.count >= 32 else { return nil }
        self.init(bytes: bytes)
    }
}
