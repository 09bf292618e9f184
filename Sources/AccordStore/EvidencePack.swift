public import AccordCore
public import AccordPack
import Crypto
public import Foundation
import Postgres

enum PackSQL {
    static let evidence = PostgresQuery<Int64, PackEvidence>(
        "pack_evidence",
        """
        SELECT e.id, e.task_id, e.title, e.version, e.task_version, e.file_name, e.media_type, e.size, e.sha256, p.handle AS uploaded_by, e.uploaded_at,
               accord.task_ref(pr.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.evidence e JOIN accord.person p ON p.id = e.uploaded_by JOIN accord.task t ON t.id = e.task_id
        JOIN accord.program pr ON pr.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE t.program_id = $1 ORDER BY e.id
        """
    ) { row in
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
    /// $3 bytes of an evidence file's content from byte $2 (counting from 1).
    static let chunk = PostgresQuery<Int64, Int, Int, [UInt8]>(
        "pack_evidence_chunk",
        "SELECT substring(content FROM $2::int FOR $3::int) AS bytes FROM accord.evidence WHERE id = $1"
    ) { try $0.decode([UInt8].self, "bytes") }
    /// Up to 2000 entries of a chain after position $2.
    static let auditPage = PostgresQuery<String, Int64, PackAuditEntry>(
        "pack_audit_page",
        "\(AuditSQL.chainEntries) AND seq > $2 ORDER BY seq LIMIT 2000"
    ) { row in
        PackAuditEntry(
            chain: try row.decode(String.self, "chain"),
            seq: try row.decode(Int64.self, "seq"),
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
    }

    static let catalogue: [any PostgresCheckable] = [evidence, chunk, auditPage]
}

/// A pack being written: its ZIP, and the manifest's entry of every file written to it so far.
private struct PackWriting {
    let writer: PackZipWriter
    let encoder = packEncoder()
    var files: [PackManifest.File] = []

    /// Notes a written file for the manifest.
    mutating func record(_ path: String, _ result: (size: UInt64, sha256: String)) {
        files.append(.init(path: path, size: result.size, sha256: result.sha256))
    }

    /// Writes a file from bytes in memory and notes it.
    mutating func add(_ path: String, bytes: [UInt8]) async throws {
        record(path, try await writer.add(path, bytes: bytes))
    }

    /// Writes a value as the pack's JSON and notes it.
    mutating func add<T: Encodable>(_ path: String, json value: T) async throws {
        try await add(path, bytes: Array(try encoder.encode(value)))
    }
}

/// How a pack's readable parts are worded: each report's files and the printable `index.html`. The
/// engine writes the pack; the words are the fronts' (AccordReports gives the standard one), so the
/// engine holds no prose or HTML.
public struct PackRenderer: Sendable {
    /// A report's two files in the pack: its JSON document and its CSV.
    public var report: @Sendable (ReportData) throws -> (json: [UInt8], csv: [UInt8])
    /// The printable `index.html`.
    public var index: @Sendable (PackIndex) -> String

    /// A renderer from its two parts.
    public init(
        report: @escaping @Sendable (ReportData) throws -> (json: [UInt8], csv: [UInt8]),
        index: @escaping @Sendable (PackIndex) -> String
    ) {
        self.report = report
        self.index = index
    }
}

/// What the pack's `index.html` shows: the program, the export, the reports' data and every file.
public struct PackIndex: Sendable {
    /// The program's title.
    public var programTitle: String
    /// The program's slug.
    public var programSlug: String
    /// Its workflow's title, id and version.
    public var workflowTitle: String, workflowID: String, workflowVersion: Int
    /// The program's start date.
    public var startsOn: String
    /// When the pack was exported (ISO 8601) and by whom (a handle).
    public var exportedAt: String, exportedBy: String
    /// Every report, as the exporter sees it.
    public var reports: [ReportData]
    /// Every evidence file in the pack.
    public var evidence: [PackEvidence]
    /// Every signature, current and superseded.
    public var signatures: [PackSignature]
    /// The audit chain's checkpoint, and how many entries the pack holds.
    public var checkpoint: Checkpoint, auditEntries: Int
}

extension Store {
    /// Writes a program's evidence pack to `path`: every evidence version, the signatures, the audit
    /// chain, a checkpoint, the reports (JSON and CSV), `index.html` and `manifest.json`, sealed with the
    /// audit key. Evidence streams from the database in 1 MiB slices, so memory does not grow with it.
    /// Any member of the program; the export is recorded in its audit chain first, so the pack shows it.
    public func exportPack(
        program slug: String,
        to path: String,
        actor: String?,
        now: Date = Date(),
        renderer: PackRenderer
    ) async throws -> PackExport {
        let (program, workflowTitle, by) = try await recordExport(program: slug, to: path, actor: actor)
        let exportedAt = iso8601Fractional(now)
        var pack = PackWriting(writer: try PackZipWriter(path: path, time: now))

        let (evidence, evidenceBytes) = try await writeEvidence(of: program, slug: slug, to: &pack)
        try await pack.add("evidence.json", json: evidence)
        let signatures = try await packSignatures(of: program)
        try await pack.add("signatures.json", json: signatures)
        // Done tasks that needed a sign-off, with their policies: verify-pack re-evaluates them against the signatures.
        let approvals = try await pool.withConnection { try await Self.doneTasksToCheck(program: program.id, on: $0) }
        try await pack.add("approvals.json", json: approvals)
        // Each AI system's classification as recorded, with every questionnaire walk behind it.
        try await pack.add("systems.json", json: try await packSystems(of: program))
        let (checkpoint, auditEntries) = try await writeAuditChain(programChain(slug), to: &pack)

        // The reports, as JSON and CSV, and the printable index.
        let reports = try await writeReports(program: slug, actor: by, now: now, renderer: renderer, to: &pack)
        let index = renderer.index(
            PackIndex(
                programTitle: program.title,
                programSlug: program.slug,
                workflowTitle: workflowTitle,
                workflowID: program.workflowID,
                workflowVersion: program.workflowVersion,
                startsOn: program.startsOn.description,
                exportedAt: exportedAt,
                exportedBy: by,
                reports: reports,
                evidence: evidence,
                signatures: signatures,
                checkpoint: checkpoint,
                auditEntries: auditEntries
            )
        )
        try await pack.add("index.html", bytes: Array(index.utf8))

        let manifestSHA = try await writeManifestAndSeal(pack, program: program, slug: slug, exportedAt: exportedAt, exportedBy: by)
        return PackExport(
            path: path,
            files: pack.files.count + 2,
            evidenceFiles: evidence.count,
            evidenceBytes: evidenceBytes,
            auditEntries: auditEntries,
            signatures: signatures.count,
            manifestSHA256: manifestSHA
        )
    }

    /// Records the export in the program's audit chain (so the pack shows it); returns the program, its
    /// workflow's title and the exporter's handle.
    private func recordExport(program slug: String, to path: String, actor: String?) async throws -> (ProgramRow, String, String) {
        try await changing(program: slug, actor: actor) { connection, acting, program, workflow in
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
    }

    /// Writes every evidence version, one 1 MiB slice at a time, each checked against its recorded SHA-256.
    /// - Returns: the evidence, and the bytes written.
    private func writeEvidence(of program: ProgramRow, slug: String, to pack: inout PackWriting) async throws -> ([PackEvidence], UInt64) {
        let evidence = try await pool.withConnection { try await $0.query(PackSQL.evidence, program.id) }
        var evidenceBytes: UInt64 = 0
        let slice = 1 << 20
        for item in evidence {
            let written = try await pack.writer.add(item.path) { emit in
                var offset = 0
                while offset < item.size {
                    let bytes = try await pool.withConnection { try await $0.queryOne(PackSQL.chunk, item.id, offset + 1, slice) }
                    guard !bytes.isEmpty else { throw PackZipError("evidence \(item.id) ended before its recorded size") }
                    try emit(bytes)
                    offset += bytes.count
                }
            }
            guard written.sha256 == item.sha256 else {
                throw AccordError(
                    .conflict,
                    "evidence \(item.id) ('\(item.title)' version \(item.version)) does not match its SHA-256 in the database",
                    remedy: .verifyAudit(program: slug)
                )
            }
            evidenceBytes += written.size
            pack.record(item.path, written)
        }
        return (evidence, evidenceBytes)
    }

    /// The program's signatures, each with what it signed.
    private func packSignatures(of program: ProgramRow) async throws -> [PackSignature] {
        try await pool.withConnection { connection in
            var out: [PackSignature] = []
            for stored in try await connection.query(SignatureSQL.forProgram, program.id) {
                let r = stored.record
                let taskID = stored.taskID
                let digests = try await connection.query(EvidenceSQL.digestsAt, taskID, r.evidenceVersion)
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
                        signedAtMicros: stored.signedAtMicros,
                        authMethod: r.authMethod,
                        reviewRound: r.reviewRound,
                        evidenceVersion: r.evidenceVersion,
                        current: r.current,
                        subjectSHA256: r.subjectSHA256,
                        keyID: stored.keyID,
                        mac: hexString(stored.mac),
                        subject: .init(taskID: taskID, taskRef: r.task, evidenceVersion: r.evidenceVersion, evidence: digests)
                    )
                )
            }
            return out
        }
    }

    /// Writes the audit chain up to its head as read now, a line per entry, in pages; then a checkpoint of that head.
    /// - Returns: the checkpoint, and the entries written.
    private func writeAuditChain(_ chain: String, to pack: inout PackWriting) async throws -> (Checkpoint, Int) {
        let head = try await pool.withConnection { try await $0.queryOne(VerifySQL.head, chain) }
        var auditEntries = 0
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let written = try await pack.writer.add("audit/program.jsonl") { emit in
            var last: Int64 = 0
            while last < head.length {
                let entries = try await pool.withConnection { try await $0.query(PackSQL.auditPage, chain, last) }
                if entries.isEmpty { break }
                var buffer: [UInt8] = []
                for entry in entries {
                    guard entry.seq <= head.length else { break }
                    buffer += Array(try lineEncoder.encode(entry)) + [UInt8(ascii: "\n")]
                    last = entry.seq
                    auditEntries += 1
                }
                try emit(buffer)
            }
        }
        pack.record("audit/program.jsonl", written)
        let checkpoint = Checkpoint(chain: chain, position: head.length, headSHA256: hexString(head.hash ?? []), at: head.at, key: auditKey)
        try await pack.add("audit/checkpoint.json", json: checkpoint)
        return (checkpoint, auditEntries)
    }

    /// Writes every report over the program, as JSON and as CSV (its first table), as the exporter sees it.
    private func writeReports(
        program slug: String,
        actor: String,
        now: Date,
        renderer: PackRenderer,
        to pack: inout PackWriting
    ) async throws -> [ReportData] {
        var reports: [ReportData] = []
        for kind in ReportKind.allCases {
            let data = try await reportData(kind, program: slug, actor: actor, now: now)
            reports.append(data)
            let files = try renderer.report(data)
            try await pack.add("reports/\(kind.rawValue).json", bytes: files.json)
            try await pack.add("reports/\(kind.rawValue).csv", bytes: files.csv)
        }
        return reports
    }

    /// Writes the manifest of every file written so far, then its seal under the audit key, and closes the pack.
    /// - Returns: the manifest's SHA-256.
    private func writeManifestAndSeal(
        _ pack: PackWriting,
        program: ProgramRow,
        slug: String,
        exportedAt: String,
        exportedBy: String
    ) async throws -> String {
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
            exportedBy: exportedBy,
            auditKeyID: auditKey.id,
            files: pack.files
        )
        let manifestBytes = Array(try pack.encoder.encode(manifest))
        let manifestSHA = hexString(Array(SHA256.hash(data: manifestBytes)))
        try await pack.writer.add("manifest.json", bytes: manifestBytes)
        let seal = PackSeal(
            format: packFormat,
            manifestSHA256: manifestSHA,
            keyID: auditKey.id,
            mac: hexString(auditKey.mac(PackSeal.canonical(manifestSHA, keyID: auditKey.id)))
        )
        try await pack.writer.add("seal.json", bytes: Array(try pack.encoder.encode(seal)))
        try pack.writer.finish()
        return manifestSHA
    }
}
