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
    static let notices = """
        SELECT n.id, n.kind, n.message, n.created_at, t.id AS task_id, accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.notification n
        LEFT JOIN accord.task t ON t.id = n.task_id LEFT JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE n.person_id = $1 AND n.dismissed_at IS NULL
          AND (t.id IS NULL OR t.state IN ('blocked', 'open', 'in_progress', 'in_review'))
        ORDER BY n.created_at DESC, n.id DESC LIMIT 100
        """
    static let inReview = TaskSQL.columns + """

        WHERE t.state = 'in_review'
          AND ($1 OR EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $2)
                  OR EXISTS (SELECT 1 FROM accord.delegation d WHERE d.program_id = p.id AND d.to_id = $2 AND d.revoked_at IS NULL AND d.valid_until >= current_date))
        ORDER BY t.due_on NULLS LAST, t.id
        """
    static let reviewState = """
        SELECT t.program_id, t.template_key, t.assignee_id, t.submitted_by, t.review_round, t.evidence_version,
               EXISTS (SELECT 1 FROM accord.signature s WHERE s.task_id = t.id AND s.review_round = t.review_round
                       AND s.evidence_version = t.evidence_version AND s.signer_id = $2) AS signed
        FROM accord.task t WHERE t.id = $1
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

/// What a person may sign for in one program: the roles they hold and those delegated to them now.
struct SignerScope {
    var workflow: Workflow
    var roles: Set<String>
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

    /// The tasks in review that the person may sign now, overdue first.
    public func signOffsWaiting(actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            var scopes: [Int64: SignerScope] = [:]
            var waiting: [TaskSummary] = []
            for row in try await connection.query(InboxSQL.inReview, [acting.isAdmin, acting.id]) {
                let task = try TaskSummary(row: row)
                if try await Self.canSignNow(taskID: task.id, key: task.key, signer: acting, scopes: &scopes, on: connection) { waiting.append(task) }
            }
            return waiting.sorted(by: inboxOrder)
        }
    }

    /// Whether the person may sign this task now (it is in review, a slot is theirs, no rule refuses them).
    public func canSignNow(_ ref: String, actor: String?) async throws -> Bool {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let task = try await Self.lockTask(try await Self.resolveTask(ref, for: acting, on: connection), on: connection, lock: false)
            guard task.state == .inReview else { return false }
            var scopes: [Int64: SignerScope] = [:]
            return try await Self.canSignNow(taskID: task.id, key: task.templateKey, signer: acting, scopes: &scopes, on: connection)
        }
    }

    /// The one evaluation behind the inbox, the leadership report and the task page. `scopes` caches
    /// the signer's roles and the workflow per program across the tasks of one request.
    static func canSignNow(taskID: Int64, key: String, signer: Person, scopes: inout [Int64: SignerScope], on connection: PostgresConnection) async throws -> Bool {
        let state = try await connection.query(InboxSQL.reviewState, [taskID, signer.id])[0]
        if try state.decode(Bool.self, "signed") { return false }
        let programID = try state.decode(Int64.self, "program_id")
        if scopes[programID] == nil {
            let program = try await programRow(programID, on: connection)
            var roles = try await roles(of: signer, in: program, on: connection)
            for row in try await connection.query(SignatureSQL.delegatedRoles, [programID, signer.id]) { roles.insert(try row.decode(String.self, "role")) }
            scopes[programID] = SignerScope(workflow: try await workflow(program.workflowID, version: program.workflowVersion, on: connection), roles: roles)
        }
        guard let scope = scopes[programID], let policy = scope.workflow.task(key)?.approval else { return false }
        let approvals = try await connection.query(SignatureSQL.approvals, [taskID, try state.decode(Int.self, "review_round"), try state.decode(Int.self, "evidence_version")]).map {
            CountedApproval(role: try $0.decode(String.self, "role"), signerID: try $0.decode(Int64.self, "signer_id"))
        }
        let slot = ApprovalEvaluation(policy: policy, approvals: approvals).slot(
            signerID: signer.id, signerName: signer.handle, canSignFor: scope.roles,
            assigneeID: try state.decode(Int64?.self, "assignee_id"), submitterID: try state.decode(Int64?.self, "submitted_by"))
        if case .success = slot { return true }
        return false
    }
}
