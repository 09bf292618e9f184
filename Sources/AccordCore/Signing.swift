import Crypto

/// What a signature means, recorded with it. A signer chooses one of `chosen`; `rejection` is what
/// every rejection records.
public enum SignatureMeaning: String, Codable, Sendable, CaseIterable {
    case approval, review, responsibility, authorship, rejection

    /// The meanings a signer may give an approval.
    public static let chosen: [SignatureMeaning] = [.approval, .review, .responsibility, .authorship]
}

/// A decision a signer takes.
public enum SigningDecision: String, Codable, Sendable, CaseIterable {
    case approve, reject
}

/// One evidence version as a signature binds it.
public struct EvidenceDigest: Sendable, Equatable, Codable {
    /// The title the evidence versions are grouped under.
    public var title: String
    /// The version under that title, from 1.
    public var version: Int
    /// The SHA-256 of that version's content, in hex.
    public var sha256: String
    /// Creates the value from its fields.
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
    /// The database id of the task signed.
    public var taskID: Int64
    /// The task's ref (`PROGRAM/TASK[@SYSTEM][+INSTANCE]`).
    public var taskRef: String
    /// The task evidence version being signed.
    public var evidenceVersion: Int
    /// The newest version of each evidence title as of that version, sorted by title then version.
    public var evidence: [EvidenceDigest]

    /// Creates the subject, sorting the evidence so that the hash does not depend on the order given.
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

/// The fields of a signature its MAC covers (`accord-signature-v1`).
public struct SignatureContent: Sendable, Equatable {
    /// The database id of the task signed.
    public var taskID: Int64
    /// The task's ref.
    public var taskRef: String
    /// The task's review round the signature belongs to.
    public var reviewRound: Int
    /// The task evidence version signed.
    public var evidenceVersion: Int
    /// The signer's handle.
    public var signer: String
    /// The signer's name as printed with the signature.
    public var printedName: String
    /// When it was signed, in microseconds since 1970-01-01 UTC (what the database stores, exactly).
    public var signedAtMicros: Int64
    /// The decision's raw value, `approve` or `reject`.
    public var decision: String
    /// The meaning's raw value, e.g. `approval` or `rejection`.
    public var meaning: String
    /// The signer's comment, if any.
    public var comment: String?
    /// The policy slot (a role) filled, if any.
    public var role: String?
    /// The handle of the holder a deputy signed for, if any.
    public var onBehalfOf: String?
    /// How the signer was authenticated (`password`).
    public var authMethod: String
    /// The SHA-256 of the signed subject (`SignedSubject.sha256`).
    public var subjectSHA256: [UInt8]

    /// Creates the value from its fields.
    public init(
        taskID: Int64,
        taskRef: String,
        reviewRound: Int,
        evidenceVersion: Int,
        signer: String,
        printedName: String,
        signedAtMicros: Int64,
        decision: String,
        meaning: String,
        comment: String?,
        role: String?,
        onBehalfOf: String?,
        authMethod: String,
        subjectSHA256: [UInt8]
    ) {
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

    /// The bytes the MAC covers: `accord-signature-v1;` then each field length-prefixed (`~;` for none), in a fixed order.
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

extension SigningDecision: CustomStringConvertible {
    /// The decision as stored and shown: `approve`.
    public var description: String { rawValue }
}

extension SignatureMeaning: CustomStringConvertible {
    /// The meaning as stored and shown: `approval`.
    public var description: String { rawValue }
}
