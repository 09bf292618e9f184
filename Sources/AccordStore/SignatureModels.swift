public import AccordCore
public import Foundation

/// A recorded decision, as every view shows it.
public struct SignatureRecord: Codable, Sendable, Equatable {
    /// The signature's id.
    public var id: Int64
    /// The ref of the task signed.
    public var task: String
    /// The signer's handle.
    public var signer: String
    /// The signer's name as printed with the signature.
    public var printedName: String
    /// The handle of the role holder a deputy signed for, if any.
    public var onBehalfOf: String?
    /// The policy slot (a role) the signature fills.
    public var role: String?
    /// Approve or reject.
    public var decision: SigningDecision
    /// What the signature means (authorship, review, approval…; a rejection for a rejection).
    public var meaning: SignatureMeaning
    /// The signer's comment; a rejection's reason.
    public var comment: String?
    /// When it was signed.
    public var signedAt: Date
    /// How the signer was authenticated (`password`).
    public var authMethod: String
    /// The task's review round the signature belongs to.
    public var reviewRound: Int
    /// The task evidence version this signature binds.
    public var evidenceVersion: Int
    /// The task's evidence version now; when larger, the signature is superseded.
    public var currentEvidenceVersion: Int
    /// The SHA-256 of the signed subject (the task and its evidence), in hex.
    public var subjectSHA256: String
    /// Whether it still counts: same review round and evidence version as the task now.
    public var current: Bool

    /// "signed version N, current M" when superseded.
    public var versionNote: String {
        evidenceVersion == currentEvidenceVersion
            ? "signed version \(evidenceVersion)" : "signed version \(evidenceVersion), current \(currentEvidenceVersion)"
    }
}

/// What a sign or reject command did.
public struct SigningOutcome: Codable, Sendable, Equatable {
    /// The signature recorded (or, when `recorded` is false, the one already there).
    public var signature: SignatureRecord
    /// The task's state afterwards.
    public var taskState: TaskState
    /// Signatures still needed per role, when the task is still in review.
    public var remaining: [String: Int]
    /// False when the same signature was already recorded and nothing new was written.
    public var recorded: Bool
}

extension SigningOutcome {
    /// The JSON the API answers with (keys sorted, dates in ISO 8601), and remembers for an Idempotency-Key.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

struct SignatureAuditRecord: Encodable {
    var signature: Int64
    var decision: String
    var meaning: String
    var role: String
    var onBehalfOf: String?
    var evidenceVersion: Int
    var subject: String
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
