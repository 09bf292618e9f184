import AccordCore
import Foundation
import Postgres

/// Which sign-offs to list: of one program, only the overdue ones, only those signable in one role. `nil` means any.
public struct SignOffFilter: Sendable, Equatable {
    /// The program's slug.
    public var program: String?
    /// Only the tasks past their due date.
    public var overdueOnly: Bool
    /// Only the tasks the person would sign in this role (held, or delegated to them).
    public var role: String?

    /// A filter; the default lists every sign-off waiting.
    public init(program: String? = nil, overdueOnly: Bool = false, role: String? = nil) {
        self.program = program
        self.overdueOnly = overdueOnly
        self.role = role
    }
}

/// A task in review the person may sign now, and the role their signature would fill.
public struct SignOff: Codable, Sendable, Equatable {
    /// The task.
    public var task: TaskSummary
    /// The role the signature would be in.
    public var signAs: String
}

/// A role a person may sign in, in a program: held, or delegated to them now.
public struct SigningRole: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The role.
    public var role: String
    /// Whether it is delegated to them (they sign as a deputy) rather than held.
    public var delegated: Bool
}

enum SignOffSQL {
    /// One page of the signable tasks the engine found (ids with the role each is signable in), filtered,
    /// most late first, with the size of the whole filtered list.
    static let page = PostgresQuery<PostgresArray<Int64>, PostgresArray<String>, Bool, Int64, Int64, Counted<SignOff>>(
        "signoff_page",
        """
        WITH w AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS w(task_id, sign_as))
        SELECT c.*, w.sign_as, count(*) OVER () AS total
        FROM (\(TaskSQL.columns)
              WHERE t.id IN (SELECT task_id FROM w)) c
        JOIN w ON w.task_id = c.id
        WHERE NOT $3 OR c.overdue_days IS NOT NULL
        ORDER BY c.due_on NULLS LAST, c.id
        LIMIT $4 OFFSET $5
        """,
        planning: .perCall
    ) { row in
        try Counted(row: row) { SignOff(task: try TaskSummary(row: $0), signAs: try $0.decode(String.self, "sign_as")) }
    }
    /// The roles a person holds, and those delegated to them now, by program slug.
    static let roles = PostgresQuery<Int64, SigningRole>(
        "signoff_roles",
        """
        SELECT p.slug AS program, r.role, bool_and(r.delegated) AS delegated
        FROM (SELECT program_id, role, false AS delegated FROM accord.role_binding WHERE person_id = $1
              UNION ALL
              SELECT d.program_id, d.role, true FROM accord.delegation d WHERE d.to_id = $1 AND \(DelegationSQL.inForce)) r
        JOIN accord.program p ON p.id = r.program_id
        GROUP BY p.slug, r.role
        ORDER BY p.slug, r.role
        """
    ) {
        SigningRole(
            program: try $0.decode(String.self, "program"),
            role: try $0.decode(String.self, "role"),
            delegated: try $0.decode(Bool.self, "delegated")
        )
    }

    static let catalogue: [any PostgresCheckable] = [page, roles]
}

extension Store {
    /// Every sign-off the person may give now, filtered and paged past the inbox's hundred.
    ///
    /// The engine's own evaluation (the inbox's: quorum, order, separation of duties, signed already) finds
    /// which tasks of the person's programs are signable, in the roles the filter leaves; the page, the
    /// overdue filter and the total are then cut in SQL over those tasks.
    public func signOffs(_ filter: SignOffFilter, paging: Paging, actor: String?) async throws -> Paged<SignOff> {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let programID = try await filter.program.asyncMap { try await Self.visibleProgram($0, for: acting, on: connection).id }
            var authority = try await Self.authority(of: acting.id, in: programID, on: connection)
            if let role = filter.role { authority = authority.filter { $0.role == role } }
            let waiting = try await Self.signOffsWaiting(for: acting, authority: authority, on: connection).tasks
            // The role each would be signed in: the filter's, or the first the person has there that the policy names.
            var rolesByProgram: [String: [String]] = [:]
            for row in try await connection.query(SignOffSQL.roles, acting.id) where filter.role == nil || row.role == filter.role {
                rolesByProgram[row.program, default: []].append(row.role)
            }
            var ids: [Int64] = []
            var roles: [String] = []
            for task in waiting {
                ids.append(task.id)
                roles.append(try await Self.signingRole(of: task, among: rolesByProgram[task.program] ?? [], on: connection))
            }
            return try await Self.paged(paging) { limit, offset in
                try await connection.query(SignOffSQL.page, PostgresArray(ids), PostgresArray(roles), filter.overdueOnly, limit, offset)
            }
        }
    }

    /// The roles the person may sign in, program by program (for the sign-off list's filter).
    public func signingRoles(actor: String?) async throws -> [SigningRole] {
        try await pool.withConnection { connection in
            try await connection.query(SignOffSQL.roles, try await Self.requireActor(actor, on: connection).id)
        }
    }

    /// Of the roles a person has in the task's program, the first its approval policy names.
    private static func signingRole(of task: TaskSummary, among roles: [String], on connection: PostgresConnection) async throws -> String {
        guard roles.count > 1, let program = try await connection.queryFirst(ProgramSQL.bySlug, task.program) else { return roles.first ?? "" }
        let workflow = try await workflow(program.workflowID, version: program.workflowVersion, on: connection)
        let named = Set(workflow.task(task.key)?.approval?.signers.map(\.role) ?? [])
        return roles.first { named.contains($0) } ?? roles[0]
    }
}
