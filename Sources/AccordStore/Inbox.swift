import AccordCore
import Foundation
import Postgres

/// What waits for a person: their tasks by due date, and the sign-offs they can give now, overdue first.
public struct Inbox: Codable, Sendable, Equatable {
    public var tasks: [TaskSummary]
    public var signOffs: [TaskSummary]
}

enum InboxSQL {
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

extension Store {
    /// A person's inbox.
    public func inbox(actor: String?) async throws -> Inbox {
        let mine = try await tasks(TaskFilter(mineOnly: true), actor: actor).filter { ["open", "in_progress", "blocked"].contains($0.state) }
        let signOffs: [TaskSummary] = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            var waiting: [TaskSummary] = []
            var workflows: [Int64: Workflow] = [:]
            for row in try await connection.query(InboxSQL.inReview, [acting.isAdmin, acting.id]) {
                let task = try TaskSummary(row: row)
                let state = try await connection.query(InboxSQL.reviewState, [task.id, acting.id])[0]
                if try state.decode(Bool.self, "signed") { continue }
                let programID = try state.decode(Int64.self, "program_id")
                let program = try await Self.programRow(programID, on: connection)
                if workflows[programID] == nil { workflows[programID] = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection) }
                guard let policy = workflows[programID]?.task(task.key)?.approval else { continue }
                var roles = try await Self.roles(of: acting, in: program, on: connection)
                for row in try await connection.query(SignatureSQL.delegatedRoles, [programID, acting.id]) { roles.insert(try row.decode(String.self, "role")) }
                let approvals = try await connection.query(SignatureSQL.approvals, [task.id, try state.decode(Int.self, "review_round"), try state.decode(Int.self, "evidence_version")]).map {
                    CountedApproval(role: try $0.decode(String.self, "role"), signerID: try $0.decode(Int64.self, "signer_id"))
                }
                let slot = ApprovalEvaluation(policy: policy, approvals: approvals).slot(
                    signerID: acting.id, signerName: acting.handle, canSignFor: roles,
                    assigneeID: try state.decode(Int64?.self, "assignee_id"), submitterID: try state.decode(Int64?.self, "submitted_by"))
                if case .success = slot { waiting.append(task) }
            }
            return waiting
        }
        return Inbox(tasks: mine.sorted(by: inboxOrder), signOffs: signOffs.sorted(by: inboxOrder))
    }
}
