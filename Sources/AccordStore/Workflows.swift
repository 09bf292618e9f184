public import AccordCore
import AccordResources
import Crypto
public import Foundation
import NIOConcurrencyHelpers
import Postgres

/// A stored workflow version, without its full definition.
public struct WorkflowSummary: Codable, Sendable, Equatable {
    /// The workflow's id.
    public var id: String
    /// The version's number.
    public var version: Int
    /// The workflow's title in this version.
    public var title: String
    /// How many steps the version has.
    public var steps: Int
    /// How many task templates its steps have.
    public var tasks: Int
    /// The SHA-256 of the YAML as loaded, in hex.
    public var checksum: String
    /// When it was loaded.
    public var loadedAt: Date
    /// Who loaded it: a handle, or `system` for the built-in workflows.
    public var loadedBy: String
}

/// What loading a workflow did.
public enum WorkflowLoadOutcome: Sendable, Equatable {
    /// A new version was stored.
    case stored(WorkflowSummary)
    /// The same content was already stored under this version; nothing changed.
    case unchanged(WorkflowSummary)
}

enum WorkflowSQL {
    static let find = PostgresQuery<String, Int, String>(
        "workflow_find",
        "SELECT checksum FROM accord.workflow_version WHERE workflow_id = $1 AND version = $2"
    ) { try $0.decode(String.self, "checksum") }
    static let insert = PostgresCommand<String, Int, String, PostgresJSON, String, String, String>(
        "workflow_insert",
        """
        INSERT INTO accord.workflow_version (workflow_id, version, title, definition, source, checksum, loaded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """
    )
    static let summaryColumns = "SELECT workflow_id, version, title, definition, checksum, loaded_at, loaded_by FROM accord.workflow_version"
    static let list = PostgresQuery<WorkflowSummary>(
        "workflow_list",
        "\(summaryColumns) ORDER BY workflow_id, version",
        row: WorkflowSummary.init(row:)
    )
    static let one = PostgresQuery<String, Int, WorkflowSummary>(
        "workflow_summary",
        "\(summaryColumns) WHERE workflow_id = $1 AND version = $2",
        row: WorkflowSummary.init(row:)
    )
    static let checksum = PostgresQuery<String, Int, VersionChecksum>(
        "workflow_version_checksum",
        "SELECT version, checksum FROM accord.workflow_version WHERE workflow_id = $1 AND version = $2",
        row: VersionChecksum.init(row:)
    )
    static let latestChecksum = PostgresQuery<String, VersionChecksum>(
        "workflow_latest_checksum",
        "SELECT version, checksum FROM accord.workflow_version WHERE workflow_id = $1 ORDER BY version DESC LIMIT 1",
        row: VersionChecksum.init(row:)
    )
    /// The stored definition, decoded (a definition that does not decode throws the decoder's error).
    static let definition = PostgresQuery<String, Int, Workflow>(
        "workflow_definition",
        "SELECT definition FROM accord.workflow_version WHERE workflow_id = $1 AND version = $2"
    ) { try $0.decode(PostgresJSON.self, "definition").decode(Workflow.self) }

    static let catalogue: [any PostgresCheckable] = [find, insert, list, one, checksum, latestChecksum, definition]
}

/// A stored version's number and checksum.
struct VersionChecksum {
    var version: Int
    var checksum: String

    init(row: PostgresRow) throws {
        version = try row.decode(Int.self, "version")
        checksum = try row.decode(String.self, "checksum")
    }
}

extension WorkflowSummary {
    /// Reads every column before decoding the definition, which a catalogue probe's placeholder cannot hold.
    init(row: PostgresRow) throws {
        let id = try row.decode(String.self, "workflow_id")
        let version = try row.decode(Int.self, "version")
        let title = try row.decode(String.self, "title")
        let definition = try row.decode(PostgresJSON.self, "definition")
        let checksum = try row.decode(String.self, "checksum")
        let loadedAt = try row.decode(Date.self, "loaded_at")
        let loadedBy = try row.decode(String.self, "loaded_by")
        let workflow = try definition.decode(Workflow.self)
        self.init(
            id: id,
            version: version,
            title: title,
            steps: workflow.steps.count,
            tasks: workflow.steps.reduce(0) { $0 + $1.tasks.count },
            checksum: checksum,
            loadedAt: loadedAt,
            loadedBy: loadedBy
        )
    }
}

/// Decoded workflow definitions by id, version and checksum.
let decodedWorkflows = NIOLockedValueBox<[String: Workflow]>([:])

func sha256Hex(_ text: String) -> String { hexString(Array(SHA256.hash(data: Data(text.utf8)))) }

extension Store {
    /// Validates and stores a workflow version. Versions are immutable: loading different content under
    /// an existing version is refused; loading the same content again changes nothing.
    public func loadWorkflow(yaml: String, file: String, actor: String?) async throws -> WorkflowLoadOutcome {
        let workflow: Workflow
        switch WorkflowLoader.load(yaml: yaml, file: file, catalogue: try await referenceCatalogue()) {
        case .success(let loaded): workflow = loaded
        case .failure(let invalid): throw invalid
        }
        let checksum = sha256Hex(yaml)
        let definition = try PostgresJSON(encoding: workflow)
        return try await pool.withTransaction { connection in
            let actorHandle =
                if let actor { try await Self.requireAdministrator(actor, to: "loads workflows", on: connection).handle } else { "system" }
            if let stored = try await connection.queryFirst(WorkflowSQL.find, workflow.id, workflow.version) {
                guard stored == checksum else {
                    throw AccordError(
                        .conflict,
                        "workflow \(workflow.id) version \(workflow.version) is already loaded with different content; versions are immutable, so give the changed file version \(workflow.version + 1)"
                    )
                }
                return .unchanged(try await Self.summary(workflow.id, workflow.version, on: connection))
            }
            try await connection.execute(WorkflowSQL.insert, workflow.id, workflow.version, workflow.title, definition, yaml, checksum, actorHandle)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: actorHandle,
                    action: "workflow.load",
                    objectType: "workflow",
                    objectID: "\(workflow.id)@\(workflow.version)",
                    after: auditJSON(["id": workflow.id, "version": String(workflow.version), "sha256": checksum, "file": file])
                )
            )
            return .stored(try await Self.summary(workflow.id, workflow.version, on: connection))
        }
    }

    /// Loads the workflows compiled into the binary (done after migrating).
    @discardableResult
    public func loadBuiltInWorkflows() async throws -> [WorkflowLoadOutcome] {
        var outcomes: [WorkflowLoadOutcome] = []
        for file in Resources.workflows {
            outcomes.append(try await loadWorkflow(yaml: file.text, file: file.path, actor: nil))
        }
        return outcomes
    }

    /// Every stored version.
    public func workflows() async throws -> [WorkflowSummary] {
        try await pool.withConnection { connection in
            try await connection.query(WorkflowSQL.list)
        }
    }

    /// A stored workflow's definition; the latest version when none is given.
    public func workflow(_ id: String, version: Int? = nil) async throws -> Workflow {
        try await pool.withConnection { try await Self.workflow(id, version: version, on: $0) }
    }

    static func workflow(_ id: String, version: Int?, on connection: PostgresConnection) async throws -> Workflow {
        let found =
            if let version {
                try await connection.queryFirst(WorkflowSQL.checksum, id, version)
            } else {
                try await connection.queryFirst(WorkflowSQL.latestChecksum, id)
            }
        guard let found else {
            let what = version.map { "workflow '\(id)' version \($0)" } ?? "workflow '\(id)'"
            throw AccordError(.notFound, "no \(what) is loaded", remedy: .listWorkflows)
        }
        return try await workflow(id, version: found.version, checksum: found.checksum, on: connection)
    }

    /// A version whose checksum the caller has read already (in a query it made anyway).
    static func workflow(_ id: String, version found: Int, checksum: String, on connection: PostgresConnection) async throws -> Workflow {
        // Versions are immutable, so a decoded definition can be reused; the checksum in the key keeps
        // databases holding different content under the same version apart.
        let key = "\(id)@\(found)#\(checksum)"
        if let cached = decodedWorkflows.withLockedValue({ $0[key] }) { return cached }
        let workflow = try await connection.queryOne(WorkflowSQL.definition, id, found)
        decodedWorkflows.withLockedValue { cache in
            if cache.count > 256 { cache.removeAll() }
            cache[key] = workflow
        }
        return workflow
    }

    /// The stored version's summary.
    static func summary(_ id: String, _ version: Int, on connection: PostgresConnection) async throws -> WorkflowSummary {
        try await connection.queryOne(WorkflowSQL.one, id, version)
    }
}
