public import AccordCore
import Crypto
public import Foundation
import Postgres

/// `manifest.json`: every other file of the pack with its size and SHA-256.
public struct PackManifest: Codable, Sendable, Equatable {
    public struct Program: Codable, Sendable, Equatable {
        public var slug: String
        public var title: String
        public var workflow: String
        public var workflowVersion: Int
        public var startsOn: String
    }
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: UInt64
        public var sha256: String
    }
    public var format: String
    public var program: Program
    public var exportedAt: String
    public var exportedBy: String
    /// The id of the audit key that made the checkpoint, the signatures' MACs and the seal.
    public var auditKeyID: String
    public var files: [File]
}

/// `seal.json`: the SHA-256 of `manifest.json`, authenticated with the audit key.
public struct PackSeal: Codable, Sendable, Equatable {
    public var format: String
    public var manifestSHA256: String
    public var keyID: String
    public var mac: String

    static func canonical(_ manifestSHA256: String, keyID: String) -> [UInt8] { Array("accord-pack-seal-v1;\(manifestSHA256);\(keyID);".utf8) }
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
}

/// One signature in `signatures.json`: its full manifestation, the fields its MAC covers, and the
/// subject it signed (the task and the digests of its evidence at that version).
public struct PackSignature: Codable, Sendable, Equatable {
    public struct Subject: Codable, Sendable, Equatable {
        public var taskID: Int64
        public var taskRef: String
        public var evidenceVersion: Int
        public var evidence: [EvidenceDigest]
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
}

let packFormat = "accord-evidence-pack-v1"

enum PackSQL {
    static let evidence = """
        SELECT e.id, e.task_id, e.title, e.version, e.task_version, e.file_name, e.media_type, e.size, e.sha256, p.handle AS uploaded_by, e.uploaded_at,
               accord.task_ref(pr.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.evidence e JOIN accord.person p ON p.id = e.uploaded_by JOIN accord.task t ON t.id = e.task_id
        JOIN accord.program pr ON pr.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE t.program_id = $1 ORDER BY e.id
        """
    static let chunk = "SELECT substring(content FROM $2::int FOR $3::int) AS bytes FROM accord.evidence WHERE id = $1"
    static let auditPage = AuditSQL.chainEntries + " AND seq > $2 ORDER BY seq LIMIT 2000"
    static let head = "SELECT length, head_hash, now() AS at FROM accord.audit_chain WHERE chain = $1"
}

/// JSON as the pack writes it: keys sorted, dates ISO 8601 with fractions, slashes as they are.
func packEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(iso8601Fractional(date))
    }
    return encoder
}

func packDecoder() -> JSONDecoder {
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

func iso8601Fractional(_ date: Date) -> String {
    let format = ISO8601DateFormatter()
    format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return format.string(from: date)
}

/// The pack's path for an evidence file: its id and a file name that is safe everywhere.
func packEvidencePath(id: Int64, fileName: String) -> String {
    let safe = String(fileName.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }.prefix(120))
    return "evidence/\(id)-\(safe.isEmpty ? "file" : safe)"
}

extension Store {
    /// Writes a program's evidence pack to `path`: every evidence version, the signatures, the audit
    /// chain, a checkpoint, the reports (JSON and CSV), `index.html` and `manifest.json`, sealed with the
    /// audit key. Evidence streams from the database in 1 MiB slices, so memory does not grow with it.
    /// Any member of the program; the export is recorded in its audit chain first, so the pack shows it.
    public func exportPack(program slug: String, to path: String, actor: String?, now: Date = Date()) async throws -> PackExport {
        let (program, workflowTitle, by) = try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "program.export",
                    objectType: "program",
                    objectID: slug,
                    after: auditJSON(["file": URL(fileURLWithPath: path).lastPathComponent])
                )
            )
            return (program, workflow.title, acting.handle)
        }
        let exportedAt = iso8601Fractional(now)
        let writer = try PackZipWriter(path: path, time: now)
        var files: [PackManifest.File] = []
        func record(_ path: String, _ result: (size: UInt64, sha256: String)) {
            files.append(.init(path: path, size: result.size, sha256: result.sha256))
        }
        let encoder = packEncoder()

        // Evidence, every version, one slice at a time.
        let evidence = try await pool.withConnection { connection in
            try await connection.query(PackSQL.evidence, [program.id]).map { row in
                let id = try row.decode(Int64.self, "id")
                let fileName = try row.decode(String.self, "file_name")
                return PackEvidence(
                    id: id,
                    task: try row.decode(String.self, "ref"),
                    taskID: try row.decode(Int64.self, "task_id"),
                    title: try row.decode(String.self, "title"),
                    version: try row.decode(Int.self, "version"),
                    taskVersion: try row.decode(Int.self, "task_version"),
                    fileName: fileName,
                    mediaType: try row.decode(String.self, "media_type"),
                    size: try row.decode(Int.self, "size"),
                    sha256: hexString(try row.decode([UInt8].self, "sha256")),
                    uploadedBy: try row.decode(String.self, "uploaded_by"),
                    uploadedAt: try row.decode(Date.self, "uploaded_at"),
                    path: packEvidencePath(id: id, fileName: fileName)
                )
            }
        }
        var evidenceBytes: UInt64 = 0
        let slice = 1 << 20
        for item in evidence {
            let written = try await writer.add(item.path) { emit in
                var offset = 0
                while offset < item.size {
                    let bytes = try await pool.withConnection { connection in
                        try await connection.query(PackSQL.chunk, [item.id, offset + 1, slice])[0].decode([UInt8].self, "bytes")
                    }
                    guard !bytes.isEmpty else { throw PackZipError("evidence \(item.id) ended before its recorded size") }
                    try emit(bytes)
                    offset += bytes.count
                }
            }
            guard written.sha256 == item.sha256 else {
                throw AccordError(
                    .conflict,
                    "evidence \(item.id) ('\(item.title)' version \(item.version)) does not match its SHA-256 in the database; run accord audit verify --program \(slug)"
                )
            }
            evidenceBytes += written.size
            record(item.path, written)
        }
        record("evidence.json", try await writer.add("evidence.json", bytes: Array(try encoder.encode(evidence))))

        // Signatures with what they signed.
        let signatures = try await pool.withConnection { connection in
            var out: [PackSignature] = []
            for row in try await connection.query(SignatureSQL.forProgram, [program.id]) {
                let r = try SignatureRecord(row: row)
                let taskID = try row.decode(Int64.self, "task_id")
                let digests = try await connection.query(EvidenceSQL.digestsAt, [taskID, r.evidenceVersion]).map {
                    EvidenceDigest(
                        title: try $0.decode(String.self, "title"),
                        version: try $0.decode(Int.self, "version"),
                        sha256: hexString(try $0.decode([UInt8].self, "sha256"))
                    )
                }
                out.append(
                    PackSignature(
                        id: r.id,
                        task: r.task,
                        signer: r.signer,
                        printedName: r.printedName,
                        onBehalfOf: r.onBehalfOf,
                        role: r.role,
                        decision: r.decision,
                        meaning: r.meaning,
                        comment: r.comment,
                        signedAt: r.signedAt,
                        signedAtMicros: try row.decode(Int64.self, "signed_at_us"),
                        authMethod: r.authMethod,
                        reviewRound: r.reviewRound,
                        evidenceVersion: r.evidenceVersion,
                        current: r.current,
                        subjectSHA256: r.subjectSHA256,
                        keyID: try row.decode(String.self, "key_id"),
                        mac: hexString(try row.decode([UInt8].self, "mac")),
                        subject: .init(taskID: taskID, taskRef: r.task, evidenceVersion: r.evidenceVersion, evidence: digests)
                    )
                )
            }
            return out
        }
        record("signatures.json", try await writer.add("signatures.json", bytes: Array(try encoder.encode(signatures))))
        // Done tasks that needed a sign-off, with their policies: verify-pack re-evaluates them against the signatures.
        let approvals = try await pool.withConnection { try await Self.doneTasksToCheck(program: program.id, on: $0) }
        record("approvals.json", try await writer.add("approvals.json", bytes: Array(try encoder.encode(approvals))))

        // The audit chain, a line per entry, in pages; then a checkpoint of its head.
        let chain = programChain(slug)
        let (head, headAt) = try await pool.withConnection { connection in
            let row = try await connection.query(PackSQL.head, [chain])[0]
            return (
                (position: try row.decode(Int64.self, "length"), hash: hexString(try row.decode([UInt8]?.self, "head_hash") ?? [])),
                try row.decode(Date.self, "at")
            )
        }
        var auditEntries = 0
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        record(
            "audit/program.jsonl",
            try await writer.add("audit/program.jsonl") { emit in
                var last: Int64 = 0
                while last < head.position {
                    let rows = try await pool.withConnection { try await $0.query(PackSQL.auditPage, [chain, last]) }
                    if rows.isEmpty { break }
                    var buffer: [UInt8] = []
                    for row in rows {
                        let seq = try row.decode(Int64.self, "seq")
                        guard seq <= head.position else { break }
                        let entry = PackAuditEntry(
                            chain: chain,
                            seq: seq,
                            recordedAtMicros: try row.decode(Int64.self, "at_us"),
                            actor: try row.decode(String.self, "actor"),
                            action: try row.decode(String.self, "action"),
                            objectType: try row.decode(String?.self, "object_type"),
                            objectID: try row.decode(String?.self, "object_id"),
                            before: try row.decode(String?.self, "before"),
                            after: try row.decode(String?.self, "after"),
                            reason: try row.decode(String?.self, "reason"),
                            origin: try row.decode(String?.self, "origin"),
                            prevHash: try row.decode([UInt8]?.self, "prev_hash").map(hexString),
                            hash: hexString(try row.decode([UInt8].self, "hash"))
                        )
                        buffer += Array(try lineEncoder.encode(entry)) + [UInt8(ascii: "\n")]
                        last = seq
                        auditEntries += 1
                    }
                    try emit(buffer)
                }
            }
        )
        let checkpoint = Checkpoint(chain: chain, position: head.position, headSHA256: head.hash, at: headAt, key: auditKey)
        record("audit/checkpoint.json", try await writer.add("audit/checkpoint.json", bytes: Array(try encoder.encode(checkpoint))))

        // The reports, as JSON and CSV, and the printable index.
        var reports: [Report] = []
        for kind in ReportKind.allCases {
            let report = try await self.report(kind, program: slug, actor: by, now: now)
            reports.append(report)
            record("reports/\(kind.rawValue).json", try await writer.add("reports/\(kind.rawValue).json", bytes: Array(try encoder.encode(report))))
            record("reports/\(kind.rawValue).csv", try await writer.add("reports/\(kind.rawValue).csv", bytes: Array(report.tables[0].csv.utf8)))
        }
        let index = packIndexHTML(
            program: program,
            workflowTitle: workflowTitle,
            exportedAt: exportedAt,
            exportedBy: by,
            reports: reports,
            evidence: evidence,
            signatures: signatures,
            checkpoint: checkpoint,
            auditEntries: auditEntries
        )
        record("index.html", try await writer.add("index.html", bytes: Array(index.utf8)))

        // The manifest, then its seal.
        let manifest = PackManifest(
            format: packFormat,
            program: .init(
                slug: slug,
                title: program.title,
                workflow: program.workflowID,
                workflowVersion: program.workflowVersion,
                startsOn: program.startsOn.description
            ),
            exportedAt: exportedAt,
            exportedBy: by,
            auditKeyID: auditKey.id,
            files: files
        )
        let manifestBytes = Array(try encoder.encode(manifest))
        let manifestSHA = hexString(Array(SHA256.hash(data: manifestBytes)))
        try await writer.add("manifest.json", bytes: manifestBytes)
        let seal = PackSeal(
            format: packFormat,
            manifestSHA256: manifestSHA,
            keyID: auditKey.id,
            mac: hexString(auditKey.mac(PackSeal.canonical(manifestSHA, keyID: auditKey.id)))
        )
        try await writer.add("seal.json", bytes: Array(try encoder.encode(seal)))
        try writer.finish()
        return PackExport(
            path: path,
            files: files.count + 2,
            evidenceFiles: evidence.count,
            evidenceBytes: evidenceBytes,
            auditEntries: auditEntries,
            signatures: signatures.count,
            manifestSHA256: manifestSHA
        )
    }
}

/// Checks an evidence pack offline, with no database: the ZIP's structure, every file against the
/// manifest and the manifest against the seal, every link of the audit chain, the checkpoint against
/// the chain's head, and every signature's binding to the evidence it names. With the audit key, also
/// the MACs of the seal, the checkpoint and the signatures. Names each problem.
public func verifyPack(path: String, key: AuditKey?) -> PackVerification {
    var result = PackVerification(
        program: nil,
        files: 0,
        evidence: 0,
        signatures: 0,
        auditEntries: 0,
        checkpointChecked: false,
        macsChecked: key != nil,
        problems: []
    )
    let reader: PackZipReader
    do { reader = try PackZipReader(path: path) } catch {
        result.problems.append("\(error)")
        return result
    }
    defer { reader.close() }
    let decoder = packDecoder()
    var byName: [String: PackZipReader.Entry] = [:]
    for entry in reader.entries {
        if byName.updateValue(entry, forKey: entry.name) != nil { result.problems.append("'\(entry.name)' is in the pack twice") }
    }
    func load<T: Decodable>(_ name: String, as type: T.Type) -> (T, [UInt8])? {
        guard let entry = byName[name] else {
            result.problems.append("'\(name)' is missing")
            return nil
        }
        do {
            let bytes = try reader.bytes(entry)
            return (try decoder.decode(T.self, from: Data(bytes)), bytes)
        } catch {
            result.problems.append("'\(name)' cannot be read: \(error)")
            return nil
        }
    }
    guard let (manifest, manifestBytes) = load("manifest.json", as: PackManifest.self), let (seal, _) = load("seal.json", as: PackSeal.self) else {
        return result
    }
    result.program = manifest.program.slug
    if manifest.format != packFormat { result.problems.append("manifest.json: unknown format '\(manifest.format)'") }
    let manifestSHA = hexString(Array(SHA256.hash(data: manifestBytes)))
    if seal.manifestSHA256 != manifestSHA { result.problems.append("manifest.json does not match the SHA-256 in seal.json: the manifest was edited") }
    if let key {
        if seal.keyID != key.id {
            result.problems.append("seal.json was made with audit key \(seal.keyID), not the one given (\(key.id))")
        } else if !(hexBytes(seal.mac).map { key.verify($0, for: PackSeal.canonical(seal.manifestSHA256, keyID: seal.keyID)) } ?? false) {
            result.problems.append("seal.json's MAC does not match under the audit key: the seal was forged")
        }
    }

    // Every file against the manifest, and nothing beside it.
    let listed = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    for entry in reader.entries where entry.name != "manifest.json" && entry.name != "seal.json" {
        guard let file = listed[entry.name] else {
            result.problems.append("'\(entry.name)' is in the pack but not in the manifest: it was added")
            continue
        }
        result.files += 1
        do {
            let sha = try reader.stream(entry)
            if entry.size != file.size || sha != file.sha256 {
                result.problems.append("'\(entry.name)' does not match the manifest (size or SHA-256): it was changed")
            }
        } catch {
            result.problems.append("\(error)")
        }
    }
    for file in manifest.files where byName[file.path] == nil {
        result.problems.append("'\(file.path)' is in the manifest but not in the pack: it was removed")
    }

    // Evidence records against their files.
    let evidence = load("evidence.json", as: [PackEvidence].self)?.0 ?? []
    result.evidence = evidence.count
    for item in evidence {
        guard let file = listed[item.path] else {
            result.problems.append("evidence \(item.id) ('\(item.title)' version \(item.version)): its file '\(item.path)' is not in the manifest")
            continue
        }
        if file.sha256 != item.sha256 || file.size != UInt64(item.size) {
            result.problems.append(
                "evidence \(item.id) ('\(item.title)' version \(item.version)): the file does not match the SHA-256 recorded at upload"
            )
        }
    }

    // The audit chain, link by link, and the checkpoint on its head.
    var previous: [UInt8]?
    var chainName: String?
    if let entry = byName["audit/program.jsonl"] {
        var pending: [UInt8] = []
        var expected: Int64 = 1
        var broken = false
        func line(_ bytes: ArraySlice<UInt8>) {
            guard !broken else { return }
            guard let item = try? decoder.decode(PackAuditEntry.self, from: Data(bytes)) else {
                result.problems.append("audit/program.jsonl: line \(expected) is not an audit entry")
                broken = true
                return
            }
            chainName = item.chain
            let content = AuditEntryContent(
                chain: item.chain,
                seq: item.seq,
                recordedAtMicros: item.recordedAtMicros,
                actor: item.actor,
                action: item.action,
                objectType: item.objectType,
                objectID: item.objectID,
                before: item.before,
                after: item.after,
                reason: item.reason,
                origin: item.origin
            )
            if item.seq != expected {
                result.problems.append("audit: entry \(item.seq) stands at position \(expected): an entry is missing or was inserted")
                broken = true
            } else if item.prevHash.flatMap(hexBytes) != previous {
                result.problems.append("audit: entry \(item.seq) does not point to the hash of entry \(item.seq - 1)")
                broken = true
            } else if hexString(content.hash(previous: previous)) != item.hash {
                result.problems.append("audit: entry \(item.seq) (\(item.action) by \(item.actor)) was altered: its content does not match its hash")
                broken = true
            } else {
                previous = hexBytes(item.hash)
                result.auditEntries += 1
                expected += 1
            }
        }
        do {
            _ = try reader.stream(entry) { chunk in
                pending += chunk
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    line(pending[start..<newline])
                    start = newline + 1
                }
                pending.removeSubrange(..<start)
            }
            if !pending.isEmpty { result.problems.append("audit/program.jsonl: the last line is cut") }
        } catch {
            result.problems.append("\(error)")
        }
    } else {
        result.problems.append("'audit/program.jsonl' is missing")
    }
    if let (checkpoint, _) = load("audit/checkpoint.json", as: Checkpoint.self) {
        result.checkpointChecked = true
        if let chainName, checkpoint.chain != chainName {
            result.problems.append("audit/checkpoint.json is for chain \(checkpoint.chain), not \(chainName)")
        }
        if Int64(result.auditEntries) != checkpoint.position || hexString(previous ?? []) != checkpoint.headSHA256 {
            result.problems.append(
                "the audit chain ends at entry \(result.auditEntries), but the checkpoint of \(checkpoint.at) saw entry \(checkpoint.position) with another head: the chain was cut or rewritten"
            )
        }
        if let key, !checkpoint.isAuthentic(under: key) { result.problems.append("audit/checkpoint.json's MAC does not match under the audit key") }
    }

    // Signatures: each bound to the evidence it names.
    let digests = Set(evidence.map { "\($0.taskID)|\($0.title)|\($0.version)|\($0.sha256)" })
    let signatures = load("signatures.json", as: [PackSignature].self)?.0 ?? []
    // Done tasks against their policies (packs made before approvals.json was added have none to check).
    if byName["approvals.json"] != nil {
        for task in load("approvals.json", as: [DoneTaskCheck].self)?.0 ?? [] {
            if let problem = task.problem(packSignatures: signatures) { result.problems.append(problem) }
        }
    }
    for signature in signatures {
        result.signatures += 1
        let subject = SignedSubject(
            taskID: signature.subject.taskID,
            taskRef: signature.subject.taskRef,
            evidenceVersion: signature.subject.evidenceVersion,
            evidence: signature.subject.evidence
        )
        if hexString(subject.sha256) != signature.subjectSHA256 || signature.subject.taskRef != signature.task
            || signature.subject.evidenceVersion != signature.evidenceVersion
        {
            result.problems.append(
                "signature \(signature.id) on \(signature.task) by \(signature.signer): what it signed does not match its subject hash"
            )
        }
        for digest in signature.subject.evidence
        where !digests.contains("\(signature.subject.taskID)|\(digest.title)|\(digest.version)|\(digest.sha256)") {
            result.problems.append(
                "signature \(signature.id) on \(signature.task) names '\(digest.title)' version \(digest.version), which the pack does not hold with that SHA-256"
            )
        }
        if let key {
            let content = SignatureContent(
                taskID: signature.subject.taskID,
                taskRef: signature.task,
                reviewRound: signature.reviewRound,
                evidenceVersion: signature.evidenceVersion,
                signer: signature.signer,
                printedName: signature.printedName,
                signedAtMicros: signature.signedAtMicros,
                decision: signature.decision.rawValue,
                meaning: signature.meaning.rawValue,
                comment: signature.comment,
                role: signature.role,
                onBehalfOf: signature.onBehalfOf,
                authMethod: signature.authMethod,
                subjectSHA256: hexBytes(signature.subjectSHA256) ?? []
            )
            if signature.keyID != key.id || !(hexBytes(signature.mac).map { key.verify($0, for: content.canonicalBytes) } ?? false) {
                result.problems.append(
                    "signature \(signature.id) on \(signature.task) by \(signature.signer) does not match its MAC: it was altered or forged"
                )
            }
        }
    }
    return result
}
