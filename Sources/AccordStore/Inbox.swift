import AccordCore
public import Foundation
import Postgres

/// What waits for a person: their tasks by due date, and the sign-offs they can give now, overdue first.
public struct Inbox: Codable, Sendable, Equatable {
    /// The most sign-offs an inbox lists; the rest are behind `signOffsMore`.
    public static let signOffLimit = 100
    public var tasks: [TaskSummary]
    public var signOffs: [TaskSummary]
    /// True when more sign-offs wait than `signOffs` shows (it holds the first `Inbox.signOffLimit`, most late first).
    public var signOffsMore: Bool = false
    /// Reminders, overdue notices and escalations about tasks still outstanding, newest first.
    public var notices: [Notice] = []
}

/// A reminder, overdue notice or escalation in a person's inbox.
public struct Notice: Codable, Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var message: String
    public var task: String?
    public var taskID: Int64?
    public var at: Date
}

enum InboxSQL {
    /// The roles a person holds, and those delegated to them now, per program, with the program's workflow.
    static let authority: PostgresStatement = .perCall(
        "inbox_authority",
        """
        SELECT r.program_id, r.role, p.workflow_id, p.workflow_version, w.checksum
        FROM (SELECT program_id, role FROM accord.role_binding WHERE person_id = $1
              UNION
              SELECT d.program_id, d.role FROM accord.delegation d
              WHERE d.to_id = $1 AND \(DelegationSQL.inForce)) r
        JOIN accord.program p ON p.id = r.program_id
        JOIN accord.workflow_version w ON w.workflow_id = p.workflow_id AND w.version = p.workflow_version
        WHERE $2::bigint IS NULL OR r.program_id = $2
        """
    )
    /// Tasks in review of the given programs and templates (those whose policy names a role the person
    /// holds there), most late first, a batch at a time: the inbox costs what it shows, not what exists.
    /// Read program by program (each through its (program, state) index, at most one batch each), so the
    /// cost follows the signer's own programs, never the tasks in review of everyone else's.
    static let candidates: PostgresStatement = .perCall(
        "inbox_candidates",
        """
        SELECT t.id, p.slug AS program, t.step_key, t.template_key, s.slug AS system, t.instance, t.title, t.owner_role, t.state,
               a.handle AS assignee, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               CASE WHEN t.due_on < current_date THEN current_date - t.due_on END AS overdue_days,
               t.program_id, t.assignee_id, t.submitted_by
        FROM unnest($1::bigint[]) AS mine(program_id)
        CROSS JOIN LATERAL (
            SELECT * FROM accord.task t
            WHERE t.program_id = mine.program_id AND t.state = 'in_review' AND t.template_key = ANY($2::text[])
              AND ($3::bigint IS NULL OR t.id = $3)
            ORDER BY t.due_on NULLS LAST, t.id
            LIMIT $4 + $5
        ) t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        ORDER BY t.due_on NULLS LAST, t.id
        LIMIT $4 OFFSET $5
        """
    )
    /// The current round's signatures of the given tasks.
    static let roundSignatures = """
        SELECT s.task_id, s.role, s.signer_id, s.decision FROM accord.signature s
        JOIN accord.task t ON t.id = s.task_id AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version
        WHERE s.task_id = ANY($1::bigint[])
        ORDER BY s.id
        """
    static let notices = """
        SELECT n.id, n.kind, n.message, n.created_at, t.id AS task_id, accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.notification n
        LEFT JOIN accord.task t ON t.id = n.task_id LEFT JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE n.person_id = $1 AND n.dismissed_at IS NULL
          AND (t.id IS NULL OR \(TaskState.outstandingSQL("t.state")))
        ORDER BY n.created_at DESC, n.id DESC LIMIT 100
        """
}

extension Notice {
    init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(Int64.self, "id"),
            kind: try row.decode(String.self, "kind"),
            message: try row.decode(String.self, "message"),
            task: try row.decode(String?.self, "ref"),
            taskID: try row.decode(Int64?.self, "task_id"),
            at: try row.decode(Date.self, "created_at")
        )
    }
}

/// Overdue first (most late first), then by due date, undated last.
func inboxOrder(_ a: TaskSummary, _ b: TaskSummary) -> Bool {
    switch (a.overdueDays, b.overdueDays) {
    case let (x?, y?): return x > y
    case (.some, nil): return true
    case (nil, .some): return false
    default: return (a.dueOn ?? "9999") < (b.dueOn ?? "9999")
    }
}

extension Store {
    /// A person's inbox: on one connection, the person resolved once, and their own work, their notices
    /// and the roles they hold read in one round trip before the sign-offs are evaluated.
    public func inbox(actor: String?) async throws -> Inbox {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let reads = try await connection.pipeline([
                (
                    PostgresStatement(nil, TaskSQL.mine),
                    [acting.id, PostgresArray([TaskState.open, .inProgress, .blocked].map(\.rawValue)), acting.isAdmin]
                ),
                (PostgresStatement(nil, InboxSQL.notices), [acting.id]),
                (InboxSQL.authority, [acting.id, Int64?.none]),
            ])
            let waiting = try await Self.signOffsWaiting(for: acting, limit: Inbox.signOffLimit, authority: reads[2], on: connection)
            return Inbox(
                tasks: try reads[0].map(TaskSummary.init(row:)).sorted(by: inboxOrder),
                signOffs: waiting.tasks,
                signOffsMore: waiting.more,
                notices: try reads[1].map(Notice.init(row:))
            )
        }
    }

    /// The person's notices about tasks still outstanding, newest first.
    public func notices(actor: String?) async throws -> [Notice] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(InboxSQL.notices, [acting.id]).map(Notice.init(row:))
        }
    }

    /// The tasks in review that the person may sign now, overdue first (all of them).
    public func signOffsWaiting(actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            try await Self.signOffsWaiting(for: try await Self.requireActor(actor, on: connection), on: connection).tasks
        }
    }

    /// The tasks in review of one program that the person may sign now (none when there is no such program).
    func signOffsWaiting(actor handle: String, program slug: String) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(handle, on: connection)
            guard let id = try await connection.query("SELECT id FROM accord.program WHERE slug = $1", [slug]).firstRow?.decode(Int64.self, "id")
            else { return [] }
            return try await Self.signOffsWaiting(for: acting, program: id, on: connection).tasks
        }
    }

    /// Whether the person may sign this task now (it is in review, a slot is theirs, no rule refuses them).
    public func canSignNow(_ ref: String, actor: String?) async throws -> Bool {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await !Self.signOffsWaiting(for: acting, task: id, limit: 1, on: connection).tasks.isEmpty
        }
    }

    /// The one evaluation behind the inbox, the leadership report, the accountability report and the
    /// task page: the tasks in review (of one program, or just `task`) the person may sign now, most late
    /// first, at most `limit` of them and whether there are more.
    ///
    /// The roles the person holds (and is delegated) pick, per program, the templates whose policy names
    /// one of them; only those tasks are read, in batches, most late first, with their current round's
    /// signatures; each policy is evaluated in memory (quorum, order, separation of duties, signed already)
    /// until `limit` pass. So an inbox costs about what it shows, however many tasks the programs hold.
    static func signOffsWaiting(
        for acting: Person,
        task only: Int64? = nil,
        program: Int64? = nil,
        limit: Int? = nil,
        authority rows: PostgresResult? = nil,
        on connection: PostgresConnection
    ) async throws -> (tasks: [TaskSummary], more: Bool) {
        var authority: [Int64: Set<String>] = [:]
        var workflowOf: [Int64: String] = [:]
        var workflows: [String: Workflow] = [:]
        let authorityRows: PostgresResult
        if let rows { authorityRows = rows } else { authorityRows = try await connection.query(InboxSQL.authority, [acting.id, program]) }
        for row in authorityRows {
            let programID = try row.decode(Int64.self, "program_id")
            authority[programID, default: []].insert(try row.decode(String.self, "role"))
            let id = try row.decode(String.self, "workflow_id")
            let version = try row.decode(Int.self, "workflow_version")
            let key = "\(id)@\(version)"
            workflowOf[programID] = key
            if workflows[key] == nil {
                workflows[key] = try await workflow(id, version: version, checksum: try row.decode(String.self, "checksum"), on: connection)
            }
        }
        // The templates whose approval names a role held in some program; the programs where one does.
        var programs: [Int64] = []
        var templates: Set<String> = []
        var signable: [String: [String: Set<String>]] = [:]  // workflow → role → templates it signs
        for (key, workflow) in workflows {
            var byRole: [String: Set<String>] = [:]
            for (_, template) in workflow.tasks {
                for signer in template.approval?.signers ?? [] { byRole[signer.role, default: []].insert(template.key) }
            }
            signable[key] = byRole
        }
        for (programID, roles) in authority {
            guard let key = workflowOf[programID], let byRole = signable[key] else { continue }
            let keys = roles.reduce(into: Set<String>()) { $0.formUnion(byRole[$1] ?? []) }
            if !keys.isEmpty {
                programs.append(programID)
                templates.formUnion(keys)
            }
        }
        guard !programs.isEmpty else { return ([], false) }
        let programList = PostgresArray(programs)
        let templateList = PostgresArray(templates.sorted())
        let batch = limit.map { max($0 + 1, 100) } ?? 5_000
        var waiting: [TaskSummary] = []
        var offset = 0
        while true {
            let rows = try await connection.query(InboxSQL.candidates, [programList, templateList, only, batch, offset])
            if rows.isEmpty { break }
            var approvals: [Int64: [CountedApproval]] = [:]
            var signed: Set<Int64> = []
            let ids = try rows.map { try $0.decode(Int64.self, "id") }
            for row in try await connection.query(InboxSQL.roundSignatures, [PostgresArray(ids)]) {
                let task = try row.decode(Int64.self, "task_id")
                let signer = try row.decode(Int64.self, "signer_id")
                if signer == acting.id { signed.insert(task) }
                if try row.decode(SigningDecision.self, "decision") == .approve {
                    approvals[task, default: []].append(CountedApproval(role: try row.decode(String.self, "role"), signerID: signer))
                }
            }
            for row in rows {
                let task = try TaskSummary(row: row)
                let programID = try row.decode(Int64.self, "program_id")
                guard !signed.contains(task.id), let roles = authority[programID], let key = workflowOf[programID],
                    let policy = workflows[key]?.task(task.key)?.approval, policy.signers.contains(where: { roles.contains($0.role) })
                else { continue }
                let slot = ApprovalEvaluation(policy: policy, approvals: approvals[task.id] ?? []).slot(
                    signerID: acting.id,
                    signerName: acting.handle,
                    canSignFor: roles,
                    assigneeID: try row.decode(Int64?.self, "assignee_id"),
                    submitterID: try row.decode(Int64?.self, "submitted_by")
                )
                guard case .success = slot else { continue }
                if let limit, waiting.count == limit { return (waiting, true) }
                waiting.append(task)
            }
            if rows.count < batch { break }
            offset += batch
        }
        return (waiting, false)
    }
}
