import AccordCore
import Foundation
import Postgres

/// What waits for a person: their tasks by due date, and the sign-offs they can give now, overdue first.
public struct Inbox: Codable, Sendable, Equatable {
    public var tasks: [TaskSummary]
    public var signOffs: [TaskSummary]
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
    /// Tasks in review in programs where the person holds a role or a delegation (all, for administrators),
    /// with what the policy evaluation needs.
    static let inReviewFacts = """
        SELECT t.id, p.slug AS program, t.step_key, t.template_key, s.slug AS system, t.instance, t.title, t.owner_role, t.state,
               a.handle AS assignee, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               CASE WHEN t.due_on < current_date THEN current_date - t.due_on END AS overdue_days,
               t.program_id, t.assignee_id, t.submitted_by, p.workflow_id, p.workflow_version, w.checksum
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        JOIN accord.workflow_version w ON w.workflow_id = p.workflow_id AND w.version = p.workflow_version
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.state = 'in_review' AND ($3::bigint IS NULL OR t.id = $3)
          AND ($1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $2)
                  OR EXISTS (SELECT 1 FROM accord.delegation d WHERE d.program_id = p.id AND d.to_id = $2 AND d.revoked_at IS NULL AND d.valid_until >= current_date))
        """
    /// The roles a person holds, and those delegated to them now, per program.
    static let authority = """
        SELECT program_id, role FROM accord.role_binding WHERE person_id = $1
        UNION
        SELECT d.program_id, d.role FROM accord.delegation d
        WHERE d.to_id = $1 AND d.revoked_at IS NULL AND d.valid_until >= current_date
          AND EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = d.program_id AND b.role = d.role AND b.person_id = d.from_id)
        """
    /// The current round's signatures of every task in review the person might sign.
    static let roundSignatures = """
        SELECT s.task_id, s.role, s.signer_id, s.decision FROM accord.signature s
        JOIN accord.task t ON t.id = s.task_id AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version
        WHERE t.state = 'in_review' AND ($3::bigint IS NULL OR t.id = $3)
          AND ($1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = t.program_id AND b.person_id = $2)
                  OR EXISTS (SELECT 1 FROM accord.delegation d WHERE d.program_id = t.program_id AND d.to_id = $2 AND d.revoked_at IS NULL AND d.valid_until >= current_date))
        ORDER BY s.id
        """
    static let notices = """
        SELECT n.id, n.kind, n.message, n.created_at, t.id AS task_id, accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.notification n
        LEFT JOIN accord.task t ON t.id = n.task_id LEFT JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE n.person_id = $1 AND n.dismissed_at IS NULL
          AND (t.id IS NULL OR t.state IN ('blocked', 'open', 'in_progress', 'in_review'))
        ORDER BY n.created_at DESC, n.id DESC LIMIT 100
        """
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
    /// A person's inbox.
    public func inbox(actor: String?) async throws -> Inbox {
        let mine = try await tasks(TaskFilter(mineOnly: true), actor: actor).filter { ["open", "in_progress", "blocked"].contains($0.state) }
        return Inbox(tasks: mine.sorted(by: inboxOrder), signOffs: try await signOffsWaiting(actor: actor), notices: try await notices(actor: actor))
    }

    /// The person's notices about tasks still outstanding, newest first.
    public func notices(actor: String?) async throws -> [Notice] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(InboxSQL.notices, [acting.id]).map { row in
                Notice(id: try row.decode(Int64.self, "id"), kind: try row.decode(String.self, "kind"), message: try row.decode(String.self, "message"),
                       task: try row.decode(String?.self, "ref"), taskID: try row.decode(Int64?.self, "task_id"), at: try row.decode(Date.self, "created_at"))
            }
        }
    }

    /// The tasks in review that the person may sign now, overdue first. Three queries whatever the
    /// number of tasks: the tasks in review they might sign, the current round's approvals of all of
    /// them, and the roles held and delegated per program; each task's policy is evaluated in memory.
    public func signOffsWaiting(actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            try await Self.signOffsWaiting(for: try await Self.requireActor(actor, on: connection), task: nil, on: connection)
        }
    }

    /// Whether the person may sign this task now (it is in review, a slot is theirs, no rule refuses them).
    public func canSignNow(_ ref: String, actor: String?) async throws -> Bool {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await !Self.signOffsWaiting(for: acting, task: id, on: connection).isEmpty
        }
    }

    /// The one evaluation behind the inbox, the leadership report, the accountability report and the
    /// task page: every task in review (or just `task`) the person may sign now.
    static func signOffsWaiting(for acting: Person, task only: Int64?, on connection: PostgresConnection) async throws -> [TaskSummary] {
        let rows = try await connection.query(InboxSQL.inReviewFacts, [acting.isAdmin, acting.id, only])
        guard !rows.isEmpty else { return [] }
        var authority: [Int64: Set<String>] = [:]
        for row in try await connection.query(InboxSQL.authority, [acting.id]) {
            authority[try row.decode(Int64.self, "program_id"), default: []].insert(try row.decode(String.self, "role"))
        }
        var approvals: [Int64: [CountedApproval]] = [:], signed: Set<Int64> = []
        for row in try await connection.query(InboxSQL.roundSignatures, [acting.isAdmin, acting.id, only]) {
            let task = try row.decode(Int64.self, "task_id"), signer = try row.decode(Int64.self, "signer_id")
            if signer == acting.id { signed.insert(task) }
            if try row.decode(String.self, "decision") == "approve" {
                approvals[task, default: []].append(CountedApproval(role: try row.decode(String.self, "role"), signerID: signer))
            }
        }
        var workflows: [String: Workflow] = [:]
        var waiting: [TaskSummary] = []
        for row in rows {
            let task = try TaskSummary(row: row)
            guard !signed.contains(task.id), let roles = authority[try row.decode(Int64.self, "program_id")], !roles.isEmpty else { continue }
            let key = "\(try row.decode(String.self, "workflow_id"))@\(try row.decode(Int.self, "workflow_version"))"
            if workflows[key] == nil {
                workflows[key] = try await workflow(try row.decode(String.self, "workflow_id"), version: try row.decode(Int.self, "workflow_version"),
                                                         checksum: try row.decode(String.self, "checksum"), on: connection)
            }
            guard let policy = workflows[key]?.task(task.key)?.approval, policy.signers.contains(where: { roles.contains($0.role) }) else { continue }
            let slot = ApprovalEvaluation(policy: policy, approvals: approvals[task.id] ?? []).slot(
                signerID: acting.id, signerName: acting.handle, canSignFor: roles,
                assigneeID: try row.decode(Int64?.self, "assignee_id"), submitterID: try row.decode(Int64?.self, "submitted_by"))
            if case .success = slot { waiting.append(task) }
        }
        return waiting.sorted(by: inboxOrder)
    }
}
