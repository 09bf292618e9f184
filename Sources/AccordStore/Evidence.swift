import AccordCore
import Crypto
public import Foundation
import Postgres

/// One stored version of a document attached to a task.
public struct EvidenceVersion: Codable, Sendable, Equatable {
    /// The stored version's id.
    public var id: Int64
    /// The ref of the task it is attached to.
    public var task: String
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
    /// Its size in bytes.
    public var size: Int
    /// The SHA-256 of its content, in hex.
    public var sha256: String
    /// The uploader's handle.
    public var uploadedBy: String
    /// When it was uploaded.
    public var uploadedAt: Date
    /// The tool that drafted it, when an AI assistant wrote it through MCP ("AI assistant (NAME) via MCP").
    public var draftedWith: String?
}

/// An evidence row as stored: the version without its task's ref (`task` is empty), which the caller knows.
struct StoredEvidence {
    var taskID: Int64
    var version: EvidenceVersion

    /// The version, with the ref of its task.
    func version(taskRef: String) -> EvidenceVersion {
        var named = version
        named.task = taskRef
        return named
    }
}

enum EvidenceSQL {
    static let nextVersion = PostgresQuery<Int64, String, Int>(
        "evidence_next_version",
        "SELECT coalesce(max(version), 0) + 1 AS v FROM accord.evidence WHERE task_id = $1 AND title = $2"
    ) { try $0.decode(Int.self, "v") }
    static let bumpTask = PostgresQuery<Int64, Int>(
        "evidence_bump_task",
        "UPDATE accord.task SET evidence_version = evidence_version + 1, updated_at = now() WHERE id = $1 RETURNING evidence_version"
    ) { try $0.decode(Int.self, "evidence_version") }
    static let insert = PostgresQuery<Int64, String, Int, Int, String, String, Int, [UInt8], [UInt8], Int64, String?, Int64>(
        "evidence_insert",
        """
        INSERT INTO accord.evidence (task_id, title, version, task_version, file_name, media_type, size, sha256, content, uploaded_by, drafted_with)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// The columns `StoredEvidence` reads, from the evidence `e` with its uploader `p`.
    static let columns = """
        SELECT e.id, e.task_id, e.title, e.version, e.task_version, e.file_name, e.media_type, e.size, e.sha256, p.handle AS uploaded_by, e.uploaded_at, e.drafted_with
        FROM accord.evidence e JOIN accord.person p ON p.id = e.uploaded_by
        """
    static let forTask = PostgresQuery<Int64, StoredEvidence>(
        "evidence_for_task",
        "\(columns)\nWHERE e.task_id = $1 ORDER BY e.title, e.version",
        row: StoredEvidence.init(row:)
    )
    static let byID = PostgresQuery<Int64, StoredEvidence>("evidence_by_id", "\(columns)\nWHERE e.id = $1", row: StoredEvidence.init(row:))
    static let content = PostgresQuery<Int64, [UInt8]>("evidence_content", "SELECT content FROM accord.evidence WHERE id = $1") {
        try $0.decode([UInt8].self, "content")
    }
    /// The newest version of each title as of a task evidence version: what a signature at that version signs.
    static let digestsAt = PostgresQuery<Int64, Int, EvidenceDigest>(
        "evidence_digests_at",
        """
        SELECT DISTINCT ON (title) title, version, sha256 FROM accord.evidence
        WHERE task_id = $1 AND task_version <= $2 ORDER BY title, version DESC
        """,
        row: EvidenceDigest.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [nextVersion, bumpTask, insert, forTask, byID, content, digestsAt]
}

/// Media types by file extension, for downloads; anything else is application/octet-stream.
func mediaType(forFileName name: String) -> String {
    switch (name as NSString).pathExtension.lowercased() {
    case "pdf": "application/pdf"
    case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    case "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    case "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    case "csv": "text/csv"
    case "txt", "log": "text/plain"
    case "md": "text/markdown"
    case "json": "application/json"
    case "yaml", "yml": "application/yaml"
    case "png": "image/png"
    case "jpg", "jpeg": "image/jpeg"
    case "zip": "application/zip"
    default: "application/octet-stream"
    }
}

extension StoredEvidence {
    init(row: PostgresRow) throws {
        taskID = try row.decode(Int64.self, "task_id")
        version = EvidenceVersion(
            id: try row.decode(Int64.self, "id"),
            task: "",
            title: try row.decode(String.self, "title"),
            version: try row.decode(Int.self, "version"),
            taskVersion: try row.decode(Int.self, "task_version"),
            fileName: try row.decode(String.self, "file_name"),
            mediaType: try row.decode(String.self, "media_type"),
            size: try row.decode(Int.self, "size"),
            sha256: hexString(try row.decode([UInt8].self, "sha256")),
            uploadedBy: try row.decode(String.self, "uploaded_by"),
            uploadedAt: try row.decode(Date.self, "uploaded_at"),
            draftedWith: try row.decode(String?.self, "drafted_with")
        )
    }
}

extension EvidenceDigest {
    /// From a row with the columns `title`, `version` and `sha256`.
    init(row: PostgresRow) throws {
        self.init(
            title: try row.decode(String.self, "title"),
            version: try row.decode(Int.self, "version"),
            sha256: hexString(try row.decode([UInt8].self, "sha256"))
        )
    }
}

extension Store {
    /// Attaches a document to a task. Under an existing title it becomes a new version; old versions stay.
    /// On a task in review or done, new evidence supersedes its signatures: it returns to review.
    /// - Parameters:
    ///   - fileName: the name it is stored under (folders are dropped).
    ///   - title: defaults to the file name.
    public func addEvidence(to ref: String, fileName: String, bytes: [UInt8], title: String?, actor: String?) async throws -> EvidenceVersion {
        let file = try checkedEvidence(fileName: fileName, bytes: bytes, title: title)
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await Self.attach(file, to: id, by: acting, on: connection)
        }
    }

    /// Attaches several documents to a task at once, all or none: each becomes a version as `addEvidence`
    /// makes it (with its own audit entry), in one transaction, so a refusal of any stores nothing.
    /// - Parameter files: each file's name, bytes and title (the file name when `nil`).
    public func addEvidence(
        to ref: String,
        files: [(fileName: String, bytes: [UInt8], title: String?)],
        actor: String?
    ) async throws -> [EvidenceVersion] {
        guard !files.isEmpty else { throw AccordError(.invalid, "choose a file to upload", field: "file") }
        let checked = try files.map { try checkedEvidence(fileName: $0.fileName, bytes: $0.bytes, title: $0.title) }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            var stored: [EvidenceVersion] = []
            for file in checked { stored.append(try await Self.attach(file, to: id, by: acting, on: connection)) }
            return stored
        }
    }

    /// A file's name cleaned, its size checked, its title chosen and its SHA-256, before any transaction.
    func checkedEvidence(fileName: String, bytes: [UInt8], title: String?) throws -> CheckedEvidence {
        // Only the last component of a path, from any system, without control characters.
        let lastComponent = fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let name = String(lastComponent.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name != ".", name != ".." else { throw AccordError(.invalid, "the evidence needs a file name") }
        guard !bytes.isEmpty else { throw AccordError(.invalid, "'\(name)' is empty; evidence must have content") }
        guard bytes.count <= maxEvidenceBytes else {
            throw AccordError(
                .invalid,
                "'\(name)' is \(bytes.count) bytes; evidence is limited to \(maxEvidenceBytes) bytes (ACCORD_MAX_EVIDENCE_BYTES)"
            )
        }
        let title = (title ?? name).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw AccordError(.invalid, "the evidence title must not be empty") }
        return CheckedEvidence(name: name, title: title, bytes: bytes, digest: Array(SHA256.hash(data: bytes)))
    }

    /// Stores one checked file as the next version under its title, with its audit entry; new evidence on a
    /// task in review or done supersedes its signatures (it goes back to work). The task is locked and read
    /// again for each file, so a second file sees the state the first one left.
    static func attach(
        _ file: CheckedEvidence,
        to id: Int64,
        by acting: Person,
        on connection: PostgresConnection
    ) async throws
        -> EvidenceVersion
    {
        let task = try await Self.lockTask(id, on: connection)
        let program = try await Self.programRow(task.programID, on: connection)
        let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
        guard ![.retired, .notApplicable].contains(task.state) else {
            throw AccordError(.conflict, "task '\(task.ref)' is \(task.state.rawValue); it takes no evidence")
        }
        try await Self.requireContributor(acting, task: task, program: program, workflow: workflow, on: connection)
        let version = try await connection.queryOne(EvidenceSQL.nextVersion, id, file.title)
        let taskVersion = try await connection.queryOne(EvidenceSQL.bumpTask, id)
        let evidenceID = try await connection.queryOne(
            EvidenceSQL.insert,
            id,
            file.title,
            version,
            taskVersion,
            file.name,
            mediaType(forFileName: file.name),
            file.bytes.count,
            file.digest,
            file.bytes,
            acting.id,
            file.draftedWith
        )
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(program.slug),
                actor: acting.handle,
                action: "evidence.add",
                objectType: "task",
                objectID: task.ref,
                after: auditJSON(
                    EvidenceRecord(
                        evidence: evidenceID,
                        title: file.title,
                        version: version,
                        taskVersion: taskVersion,
                        file: file.name,
                        size: file.bytes.count,
                        sha256: hexString(file.digest),
                        draftedWith: file.draftedWith
                    )
                )
            )
        )
        // Signatures exist only on tasks with a sign-off policy; only there does new evidence supersede them.
        if task.state == .done || task.state == .inReview, workflow.task(task.templateKey)?.approval != nil {
            try await Self.transition(
                task,
                .reopen,
                workflow: workflow,
                program: program,
                actor: acting,
                reason: "new evidence (task version \(taskVersion)) supersedes earlier signatures",
                on: connection
            )
        }
        return try await connection.queryOne(EvidenceSQL.byID, evidenceID).version(taskRef: task.ref)
    }

    /// Every evidence version of a task.
    public func evidence(of ref: String, actor: String?) async throws -> [EvidenceVersion] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let task = try await Self.lockTask(id, on: connection, lock: false)
            return try await connection.query(EvidenceSQL.forTask, id).map { $0.version(taskRef: task.ref) }
        }
    }

    /// One evidence version and its bytes, checked against its SHA-256 on the way out.
    public func evidenceContent(_ id: Int64, actor: String?) async throws -> (EvidenceVersion, [UInt8]) {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard let stored = try await connection.queryFirst(EvidenceSQL.byID, id) else { throw AccordError(.notFound, "no evidence \(id)") }
            let task = try await Self.lockTask(stored.taskID, on: connection, lock: false)
            _ = try await Self.visibleProgram(task.programSlug, for: acting, absent: "no evidence \(id)", on: connection)
            let version = stored.version(taskRef: task.ref)
            let bytes = try await connection.queryOne(EvidenceSQL.content, id)
            guard hexString(Array(SHA256.hash(data: bytes))) == version.sha256 else {
                throw AccordError(.conflict, "evidence \(id) does not match its recorded SHA-256: it was altered in the database")
            }
            return (version, bytes)
        }
    }

    /// Who may add evidence: the assignee, holders of the owner role, managers and administrators.
    static func requireContributor(
        _ person: Person,
        task: TaskRow,
        program: ProgramRow,
        workflow: Workflow,
        on connection: PostgresConnection
    ) async throws {
        if person.isAdmin || task.assigneeID == person.id { return }
        let held = try await roles(of: person, in: program, on: connection)
        if held.contains(task.ownerRole) || workflow.isManager(holding: held) { return }
        throw AccordError(
            .forbidden,
            "evidence for '\(task.ref)' is added by its assignee, a holder of '\(task.ownerRole)' or a manager; '\(person.handle)' is none of them"
        )
    }

    static func programRow(_ id: Int64, on connection: PostgresConnection) async throws -> ProgramRow {
        guard let program = try await connection.queryFirst(ProgramSQL.byID, id) else { throw AccordError(.notFound, "no program \(id)") }
        return program
    }
}

/// A file to attach, checked: its clean name, its title, its bytes and their SHA-256.
struct CheckedEvidence {
    var name: String
    var title: String
    var bytes: [UInt8]
    var digest: [UInt8]
    /// The tool that drafted it (an assistant through MCP), or `nil` for an upload.
    var draftedWith: String? = nil
}

struct EvidenceRecord: Encodable {
    var evidence: Int64
    var title: String
    var version: Int
    var taskVersion: Int
    var file: String
    var size: Int
    var sha256: String
    var draftedWith: String?
}
