import AccordCore
import Postgres

extension Store {
    /// The workflow's roles, in its order, with the handles bound to each in the program.
    static func roleMembers(_ program: ProgramRow, _ workflow: Workflow, on connection: PostgresConnection) async throws -> [RoleMembers] {
        var members: [String: [String]] = [:]
        for binding in try await connection.query(ProgramSQL.bindings, program.id) {
            members[binding.role, default: []].append(binding.handle)
        }
        return workflow.roles.map {
            RoleMembers(role: $0.key, title: $0.title, leadership: $0.leadership, manager: $0.manager, members: members[$0.key] ?? [])
        }
    }

    /// Binds people to a role of a program.
    public func bindRole(program slug: String, role: String, handles: [String], actor: String?) async throws -> RoleMembers {
        try await changeBinding(program: slug, role: role, handles: handles, actor: actor, bind: true)
    }

    /// Removes people from a role of a program.
    public func unbindRole(program slug: String, role: String, handles: [String], actor: String?) async throws -> RoleMembers {
        try await changeBinding(program: slug, role: role, handles: handles, actor: actor, bind: false)
    }

    private func changeBinding(program slug: String, role: String, handles: [String], actor: String?, bind: Bool) async throws -> RoleMembers {
        guard !handles.isEmpty else { throw AccordError(.invalid, "name at least one person") }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            guard let roleDefinition = workflow.role(role) else {
                let hint = closest(to: role, among: workflow.roles.map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
                throw AccordError(
                    .notFound,
                    "workflow \(workflow.id) has no role '\(role)'\(hint) (roles: \(workflow.roles.map(\.key).joined(separator: ", ")))"
                )
            }
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "change role bindings", on: connection)
            let grantsAuthority = roleDefinition.leadership || workflow.grantsAuthority(role: role)
            for handle in handles {
                let person = try await Self.person(handle, on: connection)
                // A manager does not give themselves the authority to sign or to lead: an administrator does.
                if bind, grantsAuthority, person.id == acting.id, !acting.isAdmin {
                    throw AccordError(
                        .forbidden,
                        "'\(role)' signs or leads in '\(slug)'; \(acting.handle) may not bind themselves into it, an administrator does"
                    )
                }
                let changed =
                    if bind {
                        try await connection.execute(ProgramSQL.bind, program.id, role, person.id, acting.id)
                    } else {
                        try await connection.execute(ProgramSQL.unbind, program.id, role, person.id)
                    }
                if changed == 0 {
                    if !bind { throw AccordError(.notFound, "'\(handle)' does not hold '\(role)' in '\(slug)'") }
                    continue
                }
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(slug),
                        actor: acting.handle,
                        action: bind ? "role.bind" : "role.unbind",
                        objectType: "role",
                        objectID: role,
                        after: auditJSON(["person": handle, "role": role])
                    )
                )
            }
            if let max = roleDefinition.maxMembers {
                let count = try await connection.queryOne(ProgramSQL.countInRole, program.id, role)
                if count > max { throw AccordError(.conflict, "role '\(role)' allows at most \(max) members in a program; it would have \(count)") }
            }
            return try await Self.roleMembers(program, workflow, on: connection).first { $0.role == role }!
        }
    }

    /// The roles of a program with their members.
    public func roles(program slug: String, actor: String?) async throws -> [RoleMembers] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            return try await Self.roleMembers(program, workflow, on: connection)
        }
    }
}
