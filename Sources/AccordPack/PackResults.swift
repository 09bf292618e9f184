/// What `export` wrote.
public struct PackExport: Sendable {
    /// Where the pack was written.
    public var path: String
    /// Files in the ZIP, `manifest.json` and `seal.json` included.
    public var files: Int
    /// Evidence versions written.
    public var evidenceFiles: Int
    /// Their total size in bytes.
    public var evidenceBytes: UInt64
    /// Audit entries written to `audit/program.jsonl`.
    public var auditEntries: Int
    /// Signatures written to `signatures.json`.
    public var signatures: Int
    /// The SHA-256 of `manifest.json`, in hex: what the seal covers; `accord export` prints it.
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
    /// The slug of the program the manifest names; `nil` when the manifest could not be read.
    public var program: String?
    /// Files found in the pack and listed in the manifest (`manifest.json` and `seal.json` aside).
    public var files: Int
    /// Evidence versions listed in `evidence.json`.
    public var evidence: Int
    /// Signatures listed in `signatures.json`.
    public var signatures: Int
    /// Audit entries that chained correctly, counting from the first until the first broken link.
    public var auditEntries: Int
    /// Whether `audit/checkpoint.json` was found and compared with the chain's head.
    public var checkpointChecked: Bool
    /// Whether MACs (seal, checkpoint, signatures) were checked: only with the audit key.
    public var macsChecked: Bool
    /// Every problem found, one sentence each; empty when the pack holds.
    public var problems: [String]
    /// Whether the pack can be trusted: no problem was found.
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
