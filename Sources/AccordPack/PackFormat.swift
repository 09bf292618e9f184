public import AccordCore
public import Foundation

/// `manifest.json`: every other file of the pack with its size and SHA-256.
public struct PackManifest: Codable, Sendable, Equatable {
    public struct Program: Codable, Sendable, Equatable {
        public var slug: String
        public var title: String
        public var workflow: String
        public var workflowVersion: Int
        public var startsOn: String

        /// Creates the value from its fields.
        public init(slug: String, title: String, workflow: String, workflowVersion: Int, startsOn: String) {
            self.slug = slug
            self.title = title
            self.workflow = workflow
            self.workflowVersion = workflowVersion
            self.startsOn = startsOn
        }
    }
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: UInt64
        public var sha256: String

        /// Creates the value from its fields.
        public init(path: String, size: UInt64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }
    public var format: String
    public var program: Program
    public var exportedAt: String
    public var exportedBy: String
    /// The id of the audit key that made the checkpoint, the signatures' MACs and the seal.
    public var auditKeyID: String
    public var files: [File]

    /// Creates the value from its fields.
    public init(format: String, program: Program, exportedAt: String, exportedBy: String, auditKeyID: String, files: [File]) {
        self.format = format
        self.program = program
        self.exportedAt = exportedAt
        self.exportedBy = exportedBy
        self.auditKeyID = auditKeyID
        self.files = files
    }
}

/// `seal.json`: the SHA-256 of `manifest.json`, authenticated with the audit key.
public struct PackSeal: Codable, Sendable, Equatable {
    public var format: String
    public var manifestSHA256: String
    public var keyID: String
    public var mac: String

    /// The bytes the seal's MAC covers.
    public static func canonical(_ manifestSHA256: String, keyID: String) -> [UInt8] { Array("accord-pack-seal-v1;\(manifestSHA256);\(keyID);".utf8) }

    /// Creates the value from its fields.
    public init(format: String, manifestSHA256: String, keyID: String, mac: String) {
        self.format = format
        self.manifestSHA256 = manifestSHA256
        self.keyID = keyID
        self.mac = mac
    }
}

/// One evidence version in `evidence.json`, with where its bytes are in the pack.
public struct PackEvidence: Codable, Sendable, Equatable {
    public var id: Int64
    public var task: String
    public var taskID: Int64
    public var title: String
    public var version: Int
    public var taskVersion: Int
    public var fileName: String
    public var mediaType: String
    public var size: Int
    public var sha256: String
    public var uploadedBy: String
    public var uploadedAt: Date
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
    public struct Subject: Codable, Sendable, Equatable {
        public var taskID: Int64
        public var taskRef: String
        public var evidenceVersion: Int
        public var evidence: [EvidenceDigest]

        /// Creates the value from its fields.
        public init(taskID: Int64, taskRef: String, evidenceVersion: Int, evidence: [EvidenceDigest]) {
            self.taskID = taskID
            self.taskRef = taskRef
            self.evidenceVersion = evidenceVersion
            self.evidence = evidence
        }
    }
    public var id: Int64
    public var task: String
    public var signer: String
    public var printedName: String
    public var onBehalfOf: String?
    public var role: String?
    public var decision: SigningDecision
    public var meaning: SignatureMeaning
    public var comment: String?
    public var signedAt: Date
    public var signedAtMicros: Int64
    public var authMethod: String
    public var reviewRound: Int
    public var evidenceVersion: Int
    public var current: Bool
    public var subjectSHA256: String
    public var keyID: String
    public var mac: String
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
    public var chain: String
    public var seq: Int64
    public var recordedAtMicros: Int64
    public var actor: String
    public var action: String
    public var objectType: String?
    public var objectID: String?
    public var before: String?
    public var after: String?
    public var reason: String?
    /// The channel that wrote it when it was not the server; absent in packs made before it was recorded.
    public var origin: String?
    public var prevHash: String?
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

/// What `export` wrote.
public struct PackExport: Sendable {
    public var path: String
    public var files: Int
    public var evidenceFiles: Int
    public var evidenceBytes: UInt64
    public var auditEntries: Int
    public var signatures: Int
    public var manifestSHA256: String

    /// Creates the value from its fields.
    public init(path: String, files: Int, evidenceFiles: Int, evidenceBytes: UInt64, auditEntries: Int, signatures: Int, manifestSHA256: String) {
        self.path = path
        self.files = files
        self.evidenceFiles = evidenceFiles
        self.evidenceBytes = evidenceBytes
        self.auditEntries = auditEntries
        self.signatures = signatures
        self.manifestSHA256 = manifestSHA256
    }
}

/// What `verify-pack` checked, and every problem it found.
public struct PackVerification: Codable, Sendable, Equatable {
    public var program: String?
    public var files: Int
    public var evidence: Int
    public var signatures: Int
    public var auditEntries: Int
    public var checkpointChecked: Bool
    /// Whether MACs (seal, checkpoint, signatures) were checked: only with the audit key.
    public var macsChecked: Bool
    public var problems: [String]
    public var ok: Bool { problems.isEmpty }

    /// Creates the value from its fields.
    public init(
        program: String? = nil,
        files: Int,
        evidence: Int,
        signatures: Int,
        auditEntries: Int,
        checkpointChecked: Bool,
        macsChecked: Bool,
        problems: [String]
    ) {
        self.program = program
        self.files = files
        self.evidence = evidence
        self.signatures = signatures
        self.auditEntries = auditEntries
        self.checkpointChecked = checkpointChecked
        self.macsChecked = macsChecked
        self.problems = problems
    }
}

public let packFormat = "accord-evidence-pack-v1"

/// JSON as the pack writes it: keys sorted, dates ISO 8601 with fractions, slashes as they are.
public func packEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(iso8601Fractional(date))
    }
    return encoder
}

public func packDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
        let text = try decoder.singleValueContainer().decode(String.self)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = format.date(from: text) else { throw PackZipError("'\(text)' is not a date") }
        return date
    }
    return decoder
}

public func iso8601Fractional(_ date: Date) -> String {
    let format = ISO8601DateFormatter()
    format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return format.string(from: date)
}

/// The pack's path for an evidence file: its id and a file name that is safe everywhere.
public func packEvidencePath(id: Int64, fileName: String) -> String {
    let safe = String(fileName.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }.prefix(120))
    return "evidence/\(id)-\(safe.isEmpty ? "file" : safe)"
}
