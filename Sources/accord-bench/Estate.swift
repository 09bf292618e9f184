import AccordCore
import AccordReports
import AccordStore
import Foundation
import Postgres

/// The estate: many programs of 100 tasks each, in a spread of states and due dates, grown in steps
/// (10k, 100k, 1M tasks by default) so that each step can be measured against the one before.
///
/// One person, `persona`, is a board member (a leadership role that signs half the templates) of the
/// first ten programs and nothing else, as a real signer would be: their inbox, their leadership report
/// and the task list of one of their programs must cost the same whatever else the database holds.
enum Estate {
    static let tasksPerProgram = 100
    static let personaPrograms = 10
    /// The program whose task list is read.
    static let listed = "estate-5"

    static let workflow: String = {
        var yaml = """
            id: estate
            version: 1
            title: Estate
            roles:
              lead: {title: Lead, manager: true}
              owner: {title: Owner}
              board: {title: Board, leadership: true}
              quality: {title: Quality}
            steps:
            """
        for step in 1...5 {
            yaml += "\n  - key: s\(step)\n    title: Step \(step)\n    owner: lead\n    tasks:"
            for n in 1...(tasksPerProgram / 5) {
                let key = "t\(step)-\(n)"
                let signer = n % 2 == 0 ? "board" : "quality"
                yaml += "\n      - {key: \(key), title: Task \(step).\(n), owner: owner, due: P\(step * 20 + n)D, approval: {signers: [\(signer)]}}"
            }
        }
        return yaml + "\n"
    }()
}

extension Bench {
    /// Loads the estate workflow, adds its people and starts estate-1 through the engine.
    func startEstate(_ store: Store) async throws {
        _ = try await store.loadWorkflow(yaml: Estate.workflow, file: "estate.yaml", actor: "admin")
        _ = try await store.addPerson(handle: "persona", name: "Persona", email: nil, admin: false, password: benchPassword, actor: "admin")
        _ = try await store.addPerson(handle: "estate-owner", name: "Estate Owner", email: nil, admin: false, password: nil, actor: "admin")
        _ = try await store.pool.withConnection { connection in
            // Pools of board members and quality reviewers for the programs beyond the persona's.
            try await connection.execute(
                """
                INSERT INTO accord.person (handle, name) SELECT kind || '-' || g, initcap(kind) || ' ' || g
                FROM generate_series(1, 100) g CROSS JOIN (VALUES ('board'), ('quality')) k(kind)
                """
            )
        }
        _ = try await store.startProgram(workflow: "estate", version: nil, title: "Estate 1", slug: "estate-1", startsOn: nil, actor: "admin")
        _ = try await store.bindRole(program: "estate-1", role: "owner", handles: ["estate-owner"], actor: "admin")
        _ = try await store.bindRole(program: "estate-1", role: "lead", handles: ["estate-owner"], actor: "admin")
        _ = try await store.bindRole(program: "estate-1", role: "board", handles: ["persona"], actor: "admin")
        _ = try await store.bindRole(program: "estate-1", role: "quality", handles: ["quality-1"], actor: "admin")
        try await store.pool.withConnection { try await spreadStates(on: $0, from: 1, through: 1) }
    }

    /// Grows the estate to `programs` programs, copying estate-1 in SQL, a thousand programs per transaction.
    func growEstate(_ store: Store, to programs: Int) async throws {
        var have = try await store.pool.withConnection { connection in
            try await connection.query("SELECT count(*)::int AS n FROM accord.program WHERE workflow_id = 'estate'")[0].decode(Int.self, "n")
        }
        while have < programs {
            let from = have + 1
            let through = min(programs, have + 1000)
            try await store.pool.withTransaction { connection in
                try await connection.execute(
                    """
                    INSERT INTO accord.program (slug, title, workflow_id, workflow_version, starts_on, created_by)
                    SELECT 'estate-' || g, 'Estate ' || g, f.workflow_id, f.workflow_version, f.starts_on, f.created_by
                    FROM accord.program f CROSS JOIN generate_series($1::int, $2::int) g WHERE f.slug = 'estate-1'
                    """,
                    [from, through]
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.audit_chain (chain) SELECT 'program:estate-' || g FROM generate_series($1::int, $2::int) g
                    """,
                    [from, through]
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.role_binding (program_id, role, person_id, bound_by)
                    SELECT p.id, r.role, pe.id, a.id
                    FROM generate_series($1::int, $2::int) g
                    JOIN accord.program p ON p.slug = 'estate-' || g
                    CROSS JOIN (VALUES ('owner'), ('lead'), ('board'), ('quality')) r(role)
                    JOIN accord.person pe ON pe.handle = CASE r.role WHEN 'board' THEN CASE WHEN g <= $3 THEN 'persona' ELSE 'board-' || (g % 100 + 1) END
                                                                     WHEN 'quality' THEN 'quality-' || (g % 100 + 1) ELSE 'estate-owner' END
                    CROSS JOIN (SELECT id FROM accord.person WHERE handle = 'admin') a
                    """,
                    [from, through, Estate.personaPrograms]
                )
                try await connection.execute(
                    """
                    INSERT INTO accord.task (program_id, step_key, template_key, position, title, owner_role, state, due_on)
                    SELECT p.id, t.step_key, t.template_key, t.position, t.title, t.owner_role, 'open', t.due_on
                    FROM generate_series($1::int, $2::int) g JOIN accord.program p ON p.slug = 'estate-' || g
                    CROSS JOIN (SELECT t.* FROM accord.task t JOIN accord.program f ON f.id = t.program_id AND f.slug = 'estate-1') t
                    """,
                    [from, through]
                )
                try await spreadStates(on: connection, from: from, through: through)
            }
            have = through
        }
    }

    /// Six tenths of each program done, one tenth open, one in progress, two in review (half for the
    /// board, half for quality); due dates spread from a month late to four months ahead.
    func spreadStates(on connection: PostgresConnection, from: Int, through: Int) async throws {
        try await connection.execute(
            """
            UPDATE accord.task t SET
                state = CASE WHEN t.position % 10 < 6 THEN 'done' WHEN t.position % 10 = 6 THEN 'open'
                             WHEN t.position % 10 = 7 THEN 'in_progress' ELSE 'in_review' END,
                completed_at = CASE WHEN t.position % 10 < 6 THEN now() END,
                started_at = CASE WHEN t.position % 10 >= 7 THEN now() END,
                submitted_at = CASE WHEN t.position % 10 >= 8 THEN now() END,
                review_round = CASE WHEN t.position % 10 >= 8 THEN 1 ELSE 0 END,
                submitted_by = CASE WHEN t.position % 10 >= 8 THEN o.id END,
                assignee_id = CASE WHEN t.position % 10 >= 7 THEN o.id END,
                due_on = current_date + ((coalesce(substring(p.slug from '[0-9]+$')::int, 0) * 7 + t.position * 3) % 150 - 30)
            FROM accord.program p, (SELECT id FROM accord.person WHERE handle = 'estate-owner') o
            WHERE p.id = t.program_id AND p.slug = ANY(ARRAY(SELECT 'estate-' || g FROM generate_series($1::int, $2::int) g))
            """,
            [from, through]
        )
    }

    /// The tasks in review the persona may sign (in estate-1 … estate-10), for the sign-off latency.
    func personaSignable(_ store: Store) async throws -> [Int64] {
        try await store.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT t.id FROM accord.task t JOIN accord.program p ON p.id = t.program_id
                WHERE p.slug = ANY(ARRAY(SELECT 'estate-' || g FROM generate_series(1, $1::int) g)) AND t.state = 'in_review'
                  AND right(t.template_key, 1) IN ('0', '2', '4', '6', '8')
                ORDER BY t.id
                """,
                [Estate.personaPrograms]
            ).map { try $0.decode(Int64.self, "id") }
        }
    }

    /// Latencies at one size of the estate, through the engine (no HTTP): the persona's sign-off, inbox,
    /// leadership report, one program's task list and status report.
    func scalePoint(_ store: Store, tasks: Int) async throws -> ScalePoint {
        let signable = try await personaSignable(store)
        let rounds = min(signable.count, 60)
        var sign: [Double] = []
        for id in signable.prefix(rounds) {
            sign.append(
                try await timed {
                    _ = try await store.sign(
                        String(id),
                        decision: .approve,
                        meaning: .approval,
                        comment: nil,
                        password: benchPassword,
                        actor: "persona"
                    )
                }
            )
        }
        // Back in review for the next step (seeding, not measured).
        try await store.pool.withConnection { connection in
            _ = try await connection.execute(
                """
                UPDATE accord.task SET state = 'in_review', review_round = review_round + 1, completed_at = NULL WHERE id = ANY($1::bigint[])
                """,
                ["{" + signable.prefix(rounds).map(String.init).joined(separator: ",") + "}"]
            )
        }
        func repeated(_ times: Int, _ body: () async throws -> Void) async throws -> [Double] {
            // Warm first: the workflow cache, the connections' prepared statements.
            for _ in 0..<3 { try await body() }
            var samples: [Double] = []
            for _ in 0..<times { samples.append(try await timed(body)) }
            return samples
        }
        let inbox = try await repeated(40) { _ = try await store.inbox(actor: "persona") }
        let leadership = try await repeated(20) { _ = try await store.leadership(actor: "persona") }
        let list = try await repeated(40) { _ = try await store.tasks(TaskFilter(program: Estate.listed), actor: "persona") }
        let report = try await repeated(20) { _ = try await store.report(.status, program: Estate.listed, actor: "persona") }
        var pages: [String: Latency] = [:]
        for (name, body) in pageReads(store) { pages[name] = Latency(try await repeated(20, body)) }
        return ScalePoint(
            tasks: tasks,
            signOff: Latency(sign),
            inbox: Latency(inbox),
            leadership: Latency(leadership),
            taskList: Latency(list),
            statusReport: Latency(report),
            pages: pages
        )
    }

    func timed(_ body: () async throws -> Void) async throws -> Double {
        let start = DispatchTime.now()
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }
}

/// Milliseconds: median and 99th percentile of some samples.
struct Latency: Codable {
    var p50: Double
    var p99: Double
    var samples: Int
    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        p50 = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        self.samples = samples.count
    }
    var text: String { String(format: "%.1f / %.1f ms", p50, p99) }
}

struct ScalePoint: Codable {
    var tasks: Int
    var signOff: Latency
    var inbox: Latency
    var leadership: Latency
    var taskList: Latency
    var statusReport: Latency
    /// The engine calls behind each page of the web front, by page (see `pageReads`).
    var pages: [String: Latency]
}
