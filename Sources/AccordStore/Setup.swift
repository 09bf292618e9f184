import AccordCore
import Foundation
import Postgres

/// A role of a program's workflow, as the roles page and the API show it: what it is for and who holds it.
public struct RoleHolders: Codable, Sendable, Equatable {
    /// The role's key in the workflow.
    public var role: String
    /// The role's title.
    public var title: String
    /// What the role is for, from the workflow.
    public var description: String?
    /// Whether the role is top management.
    public var leadership: Bool
    /// Whether the role manages the program.
    public var manager: Bool
    /// Whether holding the role lets a person sign or lead (only an administrator binds a manager into it).
    public var grantsAuthority: Bool
    /// How many people may hold it at most, when the workflow limits it.
    public var maxMembers: Int?
    /// The handles of the people who hold it, in order.
    public var holders: [String]
}

enum SetupSQL {
    /// One page of the stored workflow versions, newest version of each id last.
    static let workflowPage = PostgresQuery<Int64, Int64, Counted<WorkflowSummary>>(
        "setup_workflow_page",
        """
        SELECT count(*) OVER () AS total, workflow_id, version, title, definition, checksum, loaded_at, loaded_by
        FROM accord.workflow_version ORDER BY workflow_id, version LIMIT $1 OFFSET $2
        """
    ) { try Counted(row: $0, WorkflowSummary.init(row:)) }
    /// The versions stored of one workflow id, oldest first.
    static let versions = PostgresQuery<String, Int>(
        "setup_workflow_versions",
        "SELECT version FROM accord.workflow_version WHERE workflow_id = $1 ORDER BY version"
    ) { try $0.decode(Int.self, "version") }
    /// One page of a program's AI systems, by slug.
    static let systemPage = PostgresQuery<Int64, Int64, Int64, Counted<AISystem>>(
        "setup_system_page",
        """
        \(SystemSQL.columns.replacingOccurrences(of: "SELECT ", with: "SELECT count(*) OVER () AS total, ", options: .anchored))
        WHERE s.program_id = $1 ORDER BY s.slug LIMIT $2 OFFSET $3
        """
    ) { try Counted(row: $0, AISystem.init(row:)) }
    /// One AI system of a program, by slug.
    static let system = PostgresQuery<Int64, String, AISystem>(
        "setup_system_one",
        "\(SystemSQL.columns) WHERE s.program_id = $1 AND s.slug = $2",
        row: AISystem.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [workflowPage, versions, systemPage, system]
}

extension Store {
    /// One page of the stored workflow versions (any person who is signed in may read the roadmaps).
    public func workflows(paging: Paging, actor: String?) async throws -> Paged<WorkflowSummary> {
        try await pool.withConnection { connection in
            _ = try await Self.requireActor(actor, on: connection)
            return try await Self.paged(paging) { limit, offset in try await connection.query(SetupSQL.workflowPage, limit, offset) }
        }
    }

    /// The version numbers stored of a workflow, oldest first (empty when none is).
    public func workflowVersions(_ id: String) async throws -> [Int] {
        try await pool.withConnection { try await $0.query(SetupSQL.versions, id) }
    }

    /// Refuses unless the person may manage the program (an administrator, or a holder of a manager role);
    /// a program they may not see is "not found". Read only: the API asks it before it reads a body, so a
    /// caller who may not act learns nothing from the body's validation.
    public func requireManager(program slug: String, actor: String?, to doWhat: String) async throws {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            try await Self.requireManager(acting, of: program, workflow: workflow, to: doWhat, on: connection)
        }
    }

    /// Whether the person may manage the program (for pages that offer managers' forms; the engine still decides).
    public func canManage(program slug: String, actor: String?) async throws -> Bool {
        do {
            try await requireManager(program: slug, actor: actor, to: "manage it")
            return true
        } catch let error as AccordError where error.code == .forbidden {
            return false
        }
    }

    /// The roles of a program's workflow, in its order, with their descriptions and holders.
    public func roleHolders(program slug: String, actor: String?) async throws -> [RoleHolders] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let members = try await Self.roleMembers(program, workflow, on: connection)
            return workflow.roles.map { role in
                RoleHolders(
                    role: role.key,
                    title: role.title,
                    description: role.description,
                    leadership: role.leadership,
                    manager: role.manager,
                    grantsAuthority: role.leadership || workflow.grantsAuthority(role: role.key),
                    maxMembers: role.maxMembers,
                    holders: members.first { $0.role == role.key }?.members ?? []
                )
            }
        }
    }

    /// One page of a program's AI-system inventory, cut in SQL.
    public func systems(program slug: String, paging: Paging, actor: String?) async throws -> Paged<AISystem> {
        try await reading(program: slug, actor: actor) { connection, _, program in
            try await Self.paged(paging) { limit, offset in try await connection.query(SetupSQL.systemPage, program.id, limit, offset) }
        }
    }

    /// One AI system of a program.
    public func system(program slug: String, system: String, actor: String?) async throws -> AISystem {
        try await reading(program: slug, actor: actor) { connection, _, program in
            guard let found = try await connection.queryFirst(SetupSQL.system, program.id, system) else {
                throw AccordError(.notFound, "program '\(slug)' has no AI system '\(system)'", remedy: .listSystems(program: slug))
            }
            return found
        }
    }
}
