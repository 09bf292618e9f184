public import Foundation

/// `manifest.json`: every other file of the pack with its size and SHA-256.
public struct PackManifest: Codable, Sendable, Equatable {
    /// The program the pack was exported from, as the manifest names it.
    public struct Program: Codable, Sendable, Equatable {
        /// The program's slug, the short name the CLI and task refs use (`acme` in `acme/aims-scope`).
        public var slug: String
        /// The program's title for people.
        public var title: String
        /// The id of the workflow the program follows, e.g. `eu-ai-act-iso42001`.
        public var workflow: String
        /// The version of that workflow the program was on when exported.
        public var workflowVersion: Int
        /// The day the program started, as `YYYY-MM-DD`.
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
    /// One file written to the pack, with what `verify-pack` checks it against.
    public struct File: Codable, Sendable, Equatable {
        /// The file's path inside the ZIP, e.g. `evidence.json` or `evidence/12-report.pdf`.
        public var path: String
        /// Its size in bytes.
        public var size: UInt64
        /// The SHA-256 of its bytes, in lowercase hex.
        public var sha256: String

        /// Creates the value from its fields.
        public init(path: String, size: UInt64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }
    /// The pack format, `packFormat`; `verify-pack` reports any other as a problem.
    public var format: String
    /// The program exported.
    public var program: Program
    /// When the pack was exported: ISO 8601 in UTC with fractional seconds.
    public var exportedAt: String
    /// The handle of the person who exported it.
    public var exportedBy: String
    /// The id of the audit key that made the checkpoint, the signatures' MACs and the seal.
    public var auditKeyID: String
    /// Every file of the pack but `manifest.json` and `seal.json`, in the order written.
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
    /// The pack format, as in the manifest (`packFormat`).
    public var format: String
    /// The SHA-256 of `manifest.json`'s exact bytes, in hex.
    public var manifestSHA256: String
    /// The id of the audit key the MAC was made with (`AuditKey.id`).
    public var keyID: String
    /// HMAC-SHA256 of `canonical(manifestSHA256, keyID:)` under the audit key, in hex.
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

/// The format name written in `manifest.json` and `seal.json`; a pack in any other format is reported.
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

/// JSON as the pack reads it back: dates must be ISO 8601 with fractional seconds, as `packEncoder()` writes them.
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

/// An instant as ISO 8601 in UTC with milliseconds, e.g. `2026-03-01T09:30:00.125Z`.
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
