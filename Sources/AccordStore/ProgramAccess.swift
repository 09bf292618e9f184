import AccordCore
import Postgres

extension Store {
    /// Runs `body` on a connection with the acting person and a program they may see.
    func reading<Result>(
        program slug: String,
        actor: String?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, Person, ProgramRow) async throws -> sending Result
    ) async throws -> sending Result {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await body(connection, acting, try await Self.visibleProgram(slug, for: acting, on: connection))
        }
    }

    /// Runs `body` in one transaction with the acting person, a program they may see and its workflow.
    func changing<Result>(
        program slug: String,
        actor: String?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, Person, ProgramRow, Workflow) async throws -> sending Result
    ) async throws -> sending Result {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            return try await body(
                connection,
                acting,
                program,
                try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            )
        }
    }

    /// The program, when the person may see it: administrators see all, others where they hold a role.
    /// Others get "not found", so a program's existence does not leak.
    static func visibleProgram(_ slug: String, for person: Person, on connection: PostgresConnection) async throws -> ProgramRow {
        guard let program = try await connection.queryFirst(ProgramSQL.bySlug, slug) else {
            throw AccordError(.notFound, "no program '\(slug)'", remedy: .listPrograms)
        }
        if !person.isAdmin {
            guard try await isMember(person.id, of: program, on: connection) else {
                throw AccordError(.notFound, "no program '\(slug)'", remedy: .listPrograms)
            }
        }
        return program
    }

    /// The program of an object the person asked for by its id: when they may not see the program, the
    /// refusal is `absent`, the same words as for an object that does not exist, never the program's slug.
    static func visibleProgram(_ slug: String, for person: Person, absent: String, on connection: PostgresConnection) async throws -> ProgramRow {
        do {
            return try await visibleProgram(slug, for: person, on: connection)
        } catch let error as AccordError where error.code == .notFound {
            throw AccordError(.notFound, absent)
        }
    }

    /// Whether a person holds any role in a program.
    static func isMember(_ personID: Int64, of program: ProgramRow, on connection: PostgresConnection) async throws -> Bool {
        try await connection.queryOne(ProgramSQL.isMember, program.id, personID)
    }

    /// The roles a person holds in a program.
    static func roles(of person: Person, in program: ProgramRow, on connection: PostgresConnection) async throws -> Set<String> {
        Set(try await connection.query(ProgramSQL.rolesOf, program.id, person.id))
    }

    /// Refuses unless the person is an administrator or holds a manager role of the program's workflow.
    static func requireManager(
        _ person: Person,
        of program: ProgramRow,
        workflow: Workflow,
        to doWhat: String,
        on connection: PostgresConnection
    ) async throws {
        if person.isAdmin { return }
        guard workflow.isManager(holding: try await roles(of: person, in: program, on: connection)) else {
            let names = workflow.roles.filter(\.manager).map { "'\($0.key)'" }.joined(separator: " or ")
            throw AccordError(
                .forbidden,
                "only an administrator or a holder of \(names) in '\(program.slug)' may \(doWhat); '\(person.handle)' is neither"
            )
        }
    }
}
