import Crypto
import Foundation

/// What a signature means, recorded with it.
public enum SignatureMeaning: String, Codable, Sendable, CaseIterable {
    case approval, review, responsibility, authorship
}

/// One approval counted towards a policy.
public struct CountedApproval: Sendable, Equatable {
    public var role: String
    public var signerID: Int64
    public init(role: String, signerID: Int64) {
        self.role = role
        self.signerID = signerID
    }
}

/// Decides, for one task in review, which slot of its approval policy a signer fills, or which rule refuses them.
public struct ApprovalEvaluation: Sendable {
    public let policy: ApprovalPolicy
    /// Approvals of the current round and evidence version.
    public let approvals: [CountedApproval]

    public init(policy: ApprovalPolicy, approvals: [CountedApproval]) {
        self.policy = policy
        self.approvals = approvals
    }

    /// Signatures still needed per role, in policy order.
    public var remaining: [(role: String, needed: Int)] {
        policy.signers.map { requirement in
            (requirement.role, max(0, requirement.quorum - approvals.filter { $0.role == requirement.role }.count))
        }
    }

    /// Whether every requirement has its quorum.
    public var isMet: Bool { remaining.allSatisfy { $0.needed == 0 } }

    /// The role whose slot this signer fills.
    /// - Parameters:
    ///   - signerID: the person signing.
    ///   - signerName: their handle, for messages.
    ///   - canSignFor: the roles they hold or sign for by delegation.
    ///   - assigneeID: the task's assignee; `submitterID`: who submitted it. Both are refused under separation of duties.
    /// - Returns: the role, or the refusal naming the rule.
    public func slot(signerID: Int64, signerName: String, canSignFor: Set<String>, assigneeID: Int64?, submitterID: Int64?) -> Result<String, SigningRefusal> {
        if policy.separationOfDuties {
            if signerID == assigneeID {
                return .failure(SigningRefusal(rule: .separationOfDuties, "separation of duties: \(signerName) is the task's assignee and may not approve their own work"))
            }
            if signerID == submitterID {
                return .failure(SigningRefusal(rule: .separationOfDuties, "separation of duties: \(signerName) submitted the task and may not approve it"))
            }
            if approvals.contains(where: { $0.signerID == signerID }) {
                return .failure(SigningRefusal(rule: .oneSlotPerPerson, "one person fills one slot: \(signerName) has already signed this version"))
            }
        } else if approvals.contains(where: { $0.signerID == signerID }) {
            return .failure(SigningRefusal(rule: .oneSlotPerPerson, "\(signerName) has already signed this version"))
        }
        let roles = policy.signers.map(\.role)
        guard roles.contains(where: canSignFor.contains) else {
            return .failure(SigningRefusal(rule: .notASigner, "\(signerName) holds none of the signing roles (\(roles.joined(separator: ", "))) and signs for none by delegation"))
        }
        let needs = remaining
        for (index, need) in needs.enumerated() where canSignFor.contains(need.role) && need.needed > 0 {
            if policy.order == .sequential, let earlier = needs[..<index].first(where: { $0.needed > 0 }) {
                return .failure(SigningRefusal(rule: .sequentialOrder, "sequential sign-off: \(earlier.role) must sign before \(need.role)"))
            }
            return .success(need.role)
        }
        return .failure(SigningRefusal(rule: .quorumFilled, "the slots \(signerName) could fill are already signed"))
    }
}

/// Why a signature is refused.
public struct SigningRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Rule: String, Sendable {
        case separationOfDuties = "separation-of-duties"
        case oneSlotPerPerson = "one-slot-per-person"
        case notASigner = "not-a-signer"
        case sequentialOrder = "sequential-order"
        case quorumFilled = "quorum-filled"
    }
    public let rule: Rule
    public let message: String
    public init(rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }
    public var description: String { message }
}

/// One evidence version as a signature binds it.
public struct EvidenceDigest: Sendable, Equatable, Codable {
    public var title: String
    public var version: Int
    public var sha256: String
    public init(title: String, version: Int, sha256: String) {
        self.title = title
        self.version = version
        self.sha256 = sha256
    }
}

/// Length-prefixed canonical encoding shared by subjects, signatures and checkpoints.
struct Canonical {
    var bytes: [UInt8]
    init(_ tag: String) { bytes = Array("\(tag);".utf8) }
    mutating func add(_ value: String?) {
        guard let value else {
            bytes += Array("~;".utf8)
            return
        }
        let utf8 = Array(value.utf8)
        bytes += Array("\(utf8.count):".utf8) + utf8 + [UInt8(ascii: ";")]
    }
}

/// What a signature signs: the task's identity and the hashes of its current evidence versions.
public struct SignedSubject: Sendable, Equatable {
    public var taskID: Int64
    public var taskRef: String
    public var evidenceVersion: Int
    public var evidence: [EvidenceDigest]

    public init(taskID: Int64, taskRef: String, evidenceVersion: Int, evidence: [EvidenceDigest]) {
        self.taskID = taskID
        self.taskRef = taskRef
        self.evidenceVersion = evidenceVersion
        self.evidence = evidence.sorted { ($0.title, $0.version) < ($1.title, $1.version) }
    }

    /// SHA-256 of the canonical encoding (`accord-subject-v1`).
    public var sha256: [UInt8] {
        var c = Canonical("accord-subject-v1")
        c.add(String(taskID))
        c.add(taskRef)
        c.add(String(evidenceVersion))
        c.add(String(evidence.count))
        for item in evidence {
            c.add(item.title)
            c.add(String(item.version))
            c.add(item.sha256)
        }
        return Array(SHA256.hash(data: c.bytes))
    }
}

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

    /// Whether a MAC is right, compared in constant time.
    public func verify(_ mac: [UInt8], for bytes: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: key)
    }
}

/// The fields of a signature its MAC covers (`accord-signature-v1`).
public struct SignatureContent: Sendable, Equatable {
    public var taskID: Int64
    public var taskRef: String
    public var reviewRound: Int
    public var evidenceVersion: Int
    public var signer: String
    public var printedName: String
    public var signedAtMicros: Int64
    public var decision: String
    public var meaning: String
    public var comment: String?
    public var role: String?
    public var onBehalfOf: String?
    public var authMethod: String
    public var subjectSHA256: [UInt8]

    public init(taskID: Int64, taskRef: String, reviewRound: Int, evidenceVersion: Int, signer: String, printedName: String, signedAtMicros: Int64,
                decision: String, meaning: String, comment: String?, role: String?, onBehalfOf: String?, authMethod: String, subjectSHA256: [UInt8]) {
        self.taskID = taskID
        self.taskRef = taskRef
        self.reviewRound = reviewRound
        self.evidenceVersion = evidenceVersion
        self.signer = signer
        self.printedName = printedName
        self.signedAtMicros = signedAtMicros
        self.decision = decision
        self.meaning = meaning
        self.comment = comment
        self.role = role
        self.onBehalfOf = onBehalfOf
        self.authMethod = authMethod
        self.subjectSHA256 = subjectSHA256
    }

    public var canonicalBytes: [UInt8] {
        var c = Canonical("accord-signature-v1")
        c.add(String(taskID))
        c.add(taskRef)
        c.add(String(reviewRound))
        c.add(String(evidenceVersion))
        c.add(signer)
        c.add(printedName)
        c.add(String(signedAtMicros))
        c.add(decision)
        c.add(meaning)
        c.add(comment)
        c.add(role)
        c.add(onBehalfOf)
        c.add(authMethod)
        c.add(hexString(subjectSHA256))
        return c.bytes
    }
}

/// A chain's position and head, authenticated with the audit key, to keep outside the database.
/// With one, verification also catches a cut tail and a chain recomputed from scratch.
public struct Checkpoint: Codable, Sendable, Equatable {
    public var chain: String
    public var position: Int64
    public var headSHA256: String
    /// When it was taken, ISO 8601 in UTC: the MAC covers this text, so it survives any JSON round trip.
    public var at: String
    public var keyID: String
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
