public import AccordCore
public import Foundation

/// One evidence version in `evidence.json`, with where its bytes are in the pack.
public struct PackEvidence: Codable, Sendable, Equatable {
    /// The evidence version's database id; its file in the pack is named after it.
    public var id: Int64
    /// The ref of the task it is attached to (`PROGRAM/TASK[@SYSTEM][+INSTANCE]`).
    public var task: String
    /// The database id of that task, by which signatures' subjects name it.
    public var taskID: Int64
    /// The title versions are grouped under (the file name unless given).
    public var title: String
    /// Its version under the title, from 1.
    public var version: Int
    /// The task's evidence version right after this upload.
    public var taskVersion: Int
    /// The file name it was uploaded under, without folders.
    public var fileName: String
    /// The media type it is downloaded as, from the file name's extension.
    public var mediaType: String
    /// Its size in bytes, as recorded at upload.
    public var size: Int
    /// The SHA-256 recorded at upload, in hex; the file in the pack must match it.
    public var sha256: String
    /// The uploader's handle.
    public var uploadedBy: String
    /// When it was uploaded.
    public var uploadedAt: Date
    /// Where its bytes are in the pack (`packEvidencePath(id:fileName:)`).
    public var path: String

    /// Creates the value from its fields.
    public init(
        id: Int64,
        task: String,
        taskID: Int64,
        title: String,
        version: Int,
        taskVersion: Int,
        fileName: String,
        mediaType: String,
        size: Int,
        sha256: String,
        uploadedBy: String,
        uploadedAt: Date,
        path: String
    ) {
        self.id = id
        self.task = task
        self.taskID = taskID
        self.title = title
        self.version = version
        self.taskVersion = taskVersion
        self.fileName = fileName
        self.mediaType = mediaType
        self.size = size
        self.sha256 = sha256
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
        self.path = path
    }
}

/// One signature in `signatures.json`: its full manifestation, the fields its MAC covers, and the
/// subject it signed (the task and the digests of its evidence at that version).
public struct PackSignature: Codable, Sendable, Equatable {
    /// What the signature signed, field for field as `SignedSubject` hashes it, so `verify-pack` can recompute it.
    public struct Subject: Codable, Sendable, Equatable {
        /// The database id of the task signed.
        public var taskID: Int64
        /// The task's ref.
        public var taskRef: String
        /// The task evidence version signed.
        public var evidenceVersion: Int
        /// The newest version of each evidence title as of that version, with its SHA-256.
        public var evidence: [EvidenceDigest]

        /// Creates the value from its fields.
        public init(taskID: Int64, taskRef: String, evidenceVersion: Int, evidence: [EvidenceDigest]) {
            self.taskID = taskID
            self.taskRef = taskRef
            self.evidenceVersion = evidenceVersion
            self.evidence = evidence
        }
    }
    /// The signature's database id.
    public var id: Int64
    /// The ref of the task signed.
    public var task: String
    /// The signer's handle.
    public var signer: String
    /// The signer's name as printed with the signature, as it was at signing time.
    public var printedName: String
    /// The handle of the role holder a deputy signed for, if any.
    public var onBehalfOf: String?
    /// The policy slot (a role) the signature fills.
    public var role: String?
    /// Approve or reject.
    public var decision: SigningDecision
    /// What the signature means (approval, review…; `rejection` for a rejection).
    public var meaning: SignatureMeaning
    /// The signer's comment; a rejection's reason.
    public var comment: String?
    /// When it was signed.
    public var signedAt: Date
    /// The same instant in microseconds since 1970-01-01 UTC, exactly as the MAC covers it.
    public var signedAtMicros: Int64
    /// How the signer was authenticated (`password`).
    public var authMethod: String
    /// The task's review round the signature belongs to.
    public var reviewRound: Int
    /// The task evidence version the signature binds.
    public var evidenceVersion: Int
    /// Whether it still counted at export: same review round and evidence version as the task then.
    public var current: Bool
    /// The SHA-256 of the signed subject, in hex; `verify-pack` recomputes it from `subject`.
    public var subjectSHA256: String
    /// The id of the audit key its MAC was made with.
    public var keyID: String
    /// HMAC-SHA256 of its `SignatureContent` under the audit key, in hex; checked only with the key.
    public var mac: String
    /// What it signed, so the binding can be checked without the database.
    public var subject: Subject

    /// Creates the value from its fields.
    public init(
        id: Int64,
        task: String,
        signer: String,
        printedName: String,
        onBehalfOf: String? = nil,
        role: String? = nil,
        decision: SigningDecision,
        meaning: SignatureMeaning,
        comment: String? = nil,
        signedAt: Date,
        signedAtMicros: Int64,
        authMethod: String,
        reviewRound: Int,
        evidenceVersion: Int,
        current: Bool,
        subjectSHA256: String,
        keyID: String,
        mac: String,
        subject: Subject
    ) {
        self.id = id
        self.task = task
        self.signer = signer
        self.printedName = printedName
        self.onBehalfOf = onBehalfOf
        self.role = role
        self.decision = decision
        self.meaning = meaning
        self.comment = comment
        self.signedAt = signedAt
        self.signedAtMicros = signedAtMicros
        self.authMethod = authMethod
        self.reviewRound = reviewRound
        self.evidenceVersion = evidenceVersion
        self.current = current
        self.subjectSHA256 = subjectSHA256
        self.keyID = keyID
        self.mac = mac
        self.subject = subject
    }
}

/// One line of `audit/program.jsonl`: an audit entry with exactly the bytes its hash covers.
public struct PackAuditEntry: Codable, Sendable, Equatable {
    /// The audit chain it belongs to: the program's, `program:SLUG`.
    public var chain: String
    /// Its position in the chain, from 1 with no gaps.
    public var seq: Int64
    /// Database time of the change, in microseconds since 1970-01-01 UTC.
    public var recordedAtMicros: Int64
    /// Who made the change: a person's handle, or `system`/`scheduler` for automatic changes.
    public var actor: String
    /// What was done, e.g. `task.submit` or `program.export`.
    public var action: String
    /// The kind of thing changed (`task`, `person`, `program`…), if any.
    public var objectType: String?
    /// Which one: a task ref, a handle, a slug…
    public var objectID: String?
    /// The object's JSON before the change, exactly as stored, if any.
    public var before: String?
    /// The object's JSON after the change, exactly as stored, if any.
    public var after: String?
    /// The reason given for the change, if any.
    public var reason: String?
    /// The channel that wrote it when it was not the server; absent in packs made before it was recorded.
    public var origin: String?
    /// The previous entry's hash in hex; `nil` for the first entry.
    public var prevHash: String?
    /// SHA-256 of `prevHash` and the entry's canonical encoding (`AuditEntryContent`), in hex.
    public var hash: String

    /// Creates the value from its fields.
    public init(
        chain: String,
        seq: Int64,
        recordedAtMicros: Int64,
        actor: String,
        action: String,
        objectType: String? = nil,
        objectID: String? = nil,
        before: String? = nil,
        after: String? = nil,
        reason: String? = nil,
        origin: String? = nil,
        prevHash: String? = nil,
        hash: String
    ) {
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
        self.origin = origin
        self.prevHash = prevHash
        self.hash = hash
    }
}
