import AccordCore
public import AccordPack
import Crypto
public import Foundation
import Postgres

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
