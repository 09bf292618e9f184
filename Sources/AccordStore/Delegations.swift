public import AccordCore
import Foundation
import Postgres

/// A deputy's right to sign for a role while its holder is away.
public struct Delegation: Codable, Sendable, Equatable {
    /// The delegation's id.
    public var id: Int64
    /// The slug of the program the role is in.
    public var program: String
    /// The role delegated.
    public var role: String
    /// The holder's handle.
    public var from: String
    /// The deputy's handle.
    public var to: String
    /// Its first day, `YYYY-MM-DD` (inclusive): the deputy signs from then.
    public var validFrom: String
    /// Its last day, `YYYY-MM-DD` (inclusive).
    public var validUntil: String
    /// Why it was given.
    public var reason: String
    /// Whether it was revoked.
    public var revoked: Bool
    /// Valid today: not revoked, begun and not past its last day.
    public var active: Bool
}

enum DelegationSQL {
    static let insert = PostgresQuery<Int64, String, Int64, Int64, String, String, Int64, String, Int64>(
        "delegation_insert",
        """
        INSERT INTO accord.delegation (program_id, role, from_id, to_id, valid_until, reason, created_by, valid_from)
        VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8::date) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// The columns `Delegation` reads, from the delegation `d`.
    static let columns = """
        SELECT d.id, p.slug AS program, d.role, f.handle AS from_handle, t.handle AS to_handle, to_char(d.valid_until, 'YYYY-MM-DD') AS valid_until,
               to_char(d.valid_from, 'YYYY-MM-DD') AS valid_from, d.reason, d.revoked_at IS NOT NULL AS revoked,
               d.revoked_at IS NULL AND d.valid_from <= current_date AND d.valid_until >= current_date AS active, d.from_id
        FROM accord.delegation d JOIN accord.program p ON p.id = d.program_id
        JOIN accord.person f ON f.id = d.from_id JOIN accord.person t ON t.id = d.to_id
        """
    static let byID = PostgresQuery<Int64, Delegation>("delegation_by_id", "\(columns)\nWHERE d.id = $1", row: Delegation.init(row:))
    static let forProgram = PostgresQuery<Int64, Delegation>(
        "delegation_for_program",
        "\(columns)\nWHERE d.program_id = $1 ORDER BY d.id",
        row: Delegation.init(row:)
    )
    static let revoke = PostgresCommand<Int64, Int64>(
        "delegation_revoke",
        "UPDATE accord.delegation SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    /// A delegation `d` in force now: not revoked, begun, not past its last day, and its giver still holds the role.
    static let inForce = """
        d.revoked_at IS NULL AND d.valid_from <= current_date AND d.valid_until >= current_date
          AND EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = d.program_id AND b.role = d.role AND b.person_id = d.from_id)
        """

    static let catalogue: [any PostgresCheckable] = [insert, byID, forProgram, revoke]
}

extension Delegation {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        program = try row.decode(String.self, "program")
        role = try row.decode(String.self, "role")
        from = try row.decode(String.self, "from_handle")
        to = try row.decode(String.self, "to_handle")
        validFrom = try row.decode(String.self, "valid_from")
        validUntil = try row.decode(String.self, "valid_until")
        reason = try row.decode(String.self, "reason")
        revoked = try row.decode(Bool.self, "revoked")
        active = try row.decode(Bool.self, "active")
    }
}

extension Store {
    /// Lets a deputy sign for a role of a program from a first day (`starting`, today when `nil`) until a
    /// last day (both inclusive), so a holder can set up an absence ahead. Only the holder delegates
    /// their own role, or an administrator for them; nobody delegates to themselves; the deputy must be a
    /// member of the program; a delegation lasts at most `maxDelegationDays` (90 by default,
    /// `ACCORD_MAX_DELEGATION_DAYS`). Their signatures show "on behalf of", and count as the holder's too.
    public func delegate(
        program slug: String,
        role: String,
        from: String,
        to: String,
        until: CalendarDate,
        starting: CalendarDate? = nil,
        reason: String,
        actor: String?
    ) async throws -> Delegation {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw AccordError(.invalid, "say why", field: "reason") }
        let first = starting ?? CalendarDate.today()
        guard first >= CalendarDate.today() else { throw AccordError(.invalid, "the first day \(first) is in the past", field: "starting") }
        guard until >= CalendarDate.today() else { throw AccordError(.invalid, "the end date \(until) is in the past", field: "until") }
        guard until >= first else { throw AccordError(.invalid, "the last day \(until) is before the first day \(first)", field: "until") }
        let latest = CalendarDate.today().adding(days: maxDelegationDays)
        guard until <= latest else {
            throw AccordError(.invalid, "a delegation lasts at most \(maxDelegationDays) days: until \(latest) at the latest", field: "until")
        }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let holder = try await Self.person(from, on: connection)
            let deputy = try await Self.person(to, on: connection)
            guard holder.id != deputy.id else { throw AccordError(.invalid, "a person cannot delegate to themselves") }
            guard acting.id == holder.id || acting.isAdmin else {
                throw AccordError(.forbidden, "only \(from) or an administrator may delegate \(from)'s role; '\(acting.handle)' is neither")
            }
            guard acting.id != deputy.id else {
                throw AccordError(.forbidden, "nobody delegates a role to themselves: \(from) delegates it, or another administrator does")
            }
            guard try await Self.roles(of: holder, in: program, on: connection).contains(role) else {
                throw AccordError(.conflict, "\(from) does not hold '\(role)' in '\(slug)', so cannot delegate it")
            }
            guard try await Self.isMember(deputy.id, of: program, on: connection) else {
                throw AccordError(.conflict, "\(to) holds no role in '\(slug)'; a deputy must be a member of the program")
            }
            let id = try await connection.queryOne(
                DelegationSQL.insert,
                program.id,
                role,
                holder.id,
                deputy.id,
                until.description,
                reason,
                acting.id,
                first.description
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "delegation.create",
                    objectType: "delegation",
                    objectID: String(id),
                    after: auditJSON(["role": role, "from": from, "to": to, "starting": first.description, "until": until.description]),
                    reason: reason
                )
            )
            try await Self.mailDelegation(
                role: role,
                holder: holder,
                deputyID: deputy.id,
                from: first.description,
                until: until.description,
                ended: false,
                by: acting,
                program: program,
                on: connection
            )
            return try await connection.queryOne(DelegationSQL.byID, id)
        }
    }

    /// Ends a delegation now. Its holder, its deputy, managers and administrators may revoke it.
    public func revokeDelegation(_ id: Int64, actor: String?) async throws -> Delegation {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard let delegation = try await connection.queryFirst(DelegationSQL.byID, id) else {
                throw AccordError(.notFound, "no delegation \(id)")
            }
            let program = try await Self.visibleProgram(delegation.program, for: acting, absent: "no delegation \(id)", on: connection)
            if acting.handle != delegation.from && acting.handle != delegation.to {
                let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
                try await Self.requireManager(acting, of: program, workflow: workflow, to: "revoke someone else's delegation", on: connection)
            }
            guard try await connection.execute(DelegationSQL.revoke, id, acting.id) == 1 else {
                throw AccordError(.conflict, "delegation \(id) is already revoked")
            }
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: "delegation.revoke",
                    objectType: "delegation",
                    objectID: String(id)
                )
            )
            let holder = try await Self.person(delegation.from, on: connection)
            let deputy = try await Self.person(delegation.to, on: connection)
            try await Self.mailDelegation(
                role: delegation.role,
                holder: holder,
                deputyID: deputy.id,
                from: "",
                until: "",
                ended: true,
                by: acting,
                program: program,
                on: connection
            )
            return try await connection.queryOne(DelegationSQL.byID, id)
        }
    }

    /// A program's delegations.
    public func delegations(program slug: String, actor: String?) async throws -> [Delegation] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            return try await connection.query(DelegationSQL.forProgram, program.id)
        }
    }
}
