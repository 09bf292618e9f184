import AccordCore
import Foundation
import Postgres

/// A person's out-of-office picture: the roles they hold, the deputies standing in for them, and those
/// they stand in for.
public struct AwayOverview: Codable, Sendable, Equatable {
    /// A role the person holds in a program.
    public struct HeldRole: Codable, Sendable, Equatable {
        /// The program's slug.
        public var program: String
        /// The program's title.
        public var programTitle: String
        /// The role.
        public var role: String
    }
    /// The roles the person holds, program by program.
    public var held: [HeldRole]
    /// The delegations they gave that are still valid or still to begin (not revoked, not past their last day).
    public var given: [Delegation]
    /// The delegations to them in force now or still to begin (their giver still holding the role).
    public var received: [Delegation]
}

enum AwaySQL {
    /// The roles a person holds, with their programs. Each program is looked up by its key (the OFFSET 0
    /// fence): joined freely, PostgreSQL hashed every program to find a person's few (measured, make bench).
    static let held = PostgresQuery<Int64, AwayOverview.HeldRole>(
        "away_held_roles",
        """
        SELECT p.slug AS program, p.title AS program_title, b.role FROM accord.role_binding b
        CROSS JOIN LATERAL (SELECT slug, title FROM accord.program WHERE id = b.program_id OFFSET 0) p
        WHERE b.person_id = $1 ORDER BY p.slug, b.role
        """
    ) {
        AwayOverview.HeldRole(
            program: try $0.decode(String.self, "program"),
            programTitle: try $0.decode(String.self, "program_title"),
            role: try $0.decode(String.self, "role")
        )
    }
    static let given = PostgresQuery<Int64, Delegation>(
        "away_given",
        "\(DelegationSQL.columns)\nWHERE d.from_id = $1 AND d.revoked_at IS NULL AND d.valid_until >= current_date ORDER BY p.slug, d.role, d.id",
        row: Delegation.init(row:)
    )
    static let received = PostgresQuery<Int64, Delegation>(
        "away_received",
        """
        \(DelegationSQL.columns)
        WHERE d.to_id = $1 AND d.revoked_at IS NULL AND d.valid_until >= current_date
          AND EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = d.program_id AND b.role = d.role AND b.person_id = d.from_id)
        ORDER BY d.valid_from, p.slug, d.role, d.id
        """,
        row: Delegation.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [held, given, received]
}

extension Store {
    /// The person's roles, the deputies standing in for them, and whom they stand in for.
    public func away(actor: String?) async throws -> AwayOverview {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let (held, given, received) = try await connection.pipeline(
                AwaySQL.held.bind(acting.id),
                AwaySQL.given.bind(acting.id),
                AwaySQL.received.bind(acting.id)
            )
            return AwayOverview(held: held, given: given, received: received)
        }
    }

    /// Refuses with "not found" unless the person may see the program: an API route checks this before it
    /// reads the body, so a caller outside the program learns nothing from validation messages.
    public func requireVisibleProgram(_ slug: String, actor: String?) async throws {
        try await pool.withConnection { connection in
            _ = try await Self.visibleProgram(slug, for: try await Self.requireActor(actor, on: connection), on: connection)
        }
    }
}
