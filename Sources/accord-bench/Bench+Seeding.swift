import AccordStore
import ArgumentParser
import Postgres

extension Bench {
    // MARK: - Seeding

    /// A workflow of sign-off tasks, programs of them, all in review, and `signers` board members who may sign any.
    func seedSignOffs(_ store: Store, raw: PostgresPool, signers: Int, tasksPerSigner: Int) async throws -> [[Int64]] {
        let taskCount = 50
        let yaml = """
            id: bench
            version: 1
            title: Benchmark
            roles:
              lead: {title: Lead, manager: true}
              owner: {title: Owner}
              board: {title: Board, leadership: true}
            steps:
              - key: s
                title: Sign-offs
                tasks:
            """ + (1...taskCount).map { "\n      - {key: t\($0), title: Task \($0), owner: owner, approval: {signers: [board]}}" }.joined() + "\n"
        guard
            try await store.pool.withConnection({ try await $0.query("SELECT count(*) AS n FROM accord.person").firstRow?.decode(Int.self, "n") ?? 0 }
            ) == 0
        else {
            throw ValidationError("the benchmark fills its own database; give it an empty one (make bench starts a throwaway cluster)")
        }
        _ = try await store.addPerson(handle: "admin", name: "Admin", email: nil, admin: true, password: nil, actor: nil)
        _ = try await store.loadWorkflow(yaml: yaml, file: "bench.yaml", actor: "admin")
        _ = try await store.addPerson(handle: "owner", name: "Owner", email: nil, admin: false, password: nil, actor: "admin")
        for n in 1...signers {
            _ = try await store.addPerson(
                handle: "signer\(n)",
                name: "Signer \(n)",
                email: nil,
                admin: false,
                password: benchPassword,
                actor: "admin"
            )
        }
        // One program through the engine; the others copied from it in SQL (seeding is not what is measured).
        let programs = (signers * tasksPerSigner + taskCount - 1) / taskCount
        _ = try await store.startProgram(workflow: "bench", version: nil, title: "Bench 1", slug: "bench-1", startsOn: nil, actor: "admin")
        _ = try await store.bindRole(program: "bench-1", role: "owner", handles: ["owner"], actor: "admin")
        _ = try await store.bindRole(program: "bench-1", role: "board", handles: (1...signers).map { "signer\($0)" }, actor: "admin")
        if programs > 1 {
            try await raw.withTransaction { connection in
                try await connection.execute(
                    """
                    INSERT INTO accord.program (slug, title, workflow_id, workflow_version, starts_on, created_by)
                    SELECT 'bench-' || g, 'Bench ' || g, f.workflow_id, f.workflow_version, f.starts_on, f.created_by
                    FROM accord.program f CROSS JOIN generate_series(2, $1::int) g WHERE f.slug = 'bench-1'
                    """,
                    [programs]
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.audit_chain (chain) SELECT 'program:' || slug FROM accord.program WHERE workflow_id = 'bench' AND slug <> 'bench-1'
                    """
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.role_binding (program_id, role, person_id, bound_by)
                    SELECT p.id, b.role, b.person_id, b.bound_by FROM accord.role_binding b JOIN accord.program f ON f.id = b.program_id AND f.slug = 'bench-1'
                    CROSS JOIN accord.program p WHERE p.workflow_id = 'bench' AND p.slug <> 'bench-1'
                    """
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.task (program_id, step_key, template_key, position, title, owner_role, state, due_on)
                    SELECT p.id, t.step_key, t.template_key, t.position, t.title, t.owner_role, t.state, t.due_on
                    FROM accord.task t JOIN accord.program f ON f.id = t.program_id AND f.slug = 'bench-1'
                    CROSS JOIN accord.program p WHERE p.workflow_id = 'bench' AND p.slug <> 'bench-1'
                    """
                )
                try await connection.execute("ANALYZE")
            }
        }
        // Submitted by the owner, straight in SQL: seeding, not what is measured.
        let ids = try await store.pool.withConnection { connection in
            try await connection.execute(
                """
                UPDATE accord.task SET state = 'in_review', review_round = 1, submitted_at = now(), updated_at = now(),
                       submitted_by = (SELECT id FROM accord.person WHERE handle = 'owner'),
                       assignee_id = (SELECT id FROM accord.person WHERE handle = 'owner')
                WHERE program_id IN (SELECT id FROM accord.program WHERE workflow_id = 'bench')
                """
            )
            return try await connection.query(
                "SELECT t.id FROM accord.task t JOIN accord.program p ON p.id = t.program_id WHERE p.workflow_id = 'bench' ORDER BY t.id"
            )
            .map { try $0.decode(Int64.self, "id") }
        }
        // Signer n signs the tasks at n, n + signers, …, so no two signers meet on a task.
        return (0..<signers).map { n in stride(from: n, to: ids.count, by: signers).map { ids[$0] } }
    }
}
