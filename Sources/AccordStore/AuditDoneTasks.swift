import AccordCore
import AccordPack
import Foundation
import Postgres

/// A done task as `VerifySQL.doneTasks` reads it, with the approvals of its current round as JSON text.
struct DoneTaskRow: Sendable {
    var ref: String
    var templateKey: String
    var assigneeID: Int64?
    var submittedBy: Int64?
    var assignee: String?
    var submitter: String?
    var workflowID: String
    var workflowVersion: Int
    /// `[{"role", "signer", "for"}]`, oldest first.
    var approvals: String
    var evidenceVersion: Int
    var latestEvidence: Int?
    /// The action of the last audit entry that changed the task's state.
    var lastTransition: String?

    init(row: PostgresRow) throws {
        ref = try row.decode(String.self, "ref")
        templateKey = try row.decode(String.self, "template_key")
        assigneeID = try row.decode(Int64?.self, "assignee_id")
        submittedBy = try row.decode(Int64?.self, "submitted_by")
        assignee = try row.decode(String?.self, "assignee")
        submitter = try row.decode(String?.self, "submitter")
        workflowID = try row.decode(String.self, "workflow_id")
        workflowVersion = try row.decode(Int.self, "workflow_version")
        approvals = try row.decode(String.self, "approvals")
        evidenceVersion = try row.decode(Int.self, "evidence_version")
        latestEvidence = try row.decode(Int?.self, "latest_evidence")
        lastTransition = try row.decode(String?.self, "last_transition")
    }
}

extension Store {
    /// Done tasks whose approval policy their current signatures do not meet (a task set to done by SQL,
    /// or signatures removed): each policy is evaluated again, with every rule, against the signatures of
    /// the task's current round and evidence version.
    static func unapprovedDoneTasks(program: Int64?, on connection: PostgresConnection) async throws -> [String] {
        try await doneTasksToCheck(program: program, on: connection).compactMap { $0.problem(approvals: $0.approvals) }
    }

    /// The done tasks whose templates need a sign-off, with what `audit verify` and `verify-pack` check them against.
    /// A program upgraded since may have changed a policy, so every version's policy up to the current one is kept.
    static func doneTasksToCheck(program: Int64?, on connection: PostgresConnection) async throws -> [DoneTaskCheck] {
        struct Approval: Decodable {
            var role: String?
            var signer: Int64
            var `for`: Int64?
        }
        var checks: [DoneTaskCheck] = []
        for task in try await connection.query(VerifySQL.doneTasks, program) {
            let current = task.workflowVersion
            let key = task.templateKey
            var policies: [ApprovalPolicy?] = []
            for version in stride(from: current, through: 1, by: -1) {
                guard let workflow = try? await Self.workflow(task.workflowID, version: version, on: connection), let template = workflow.task(key)
                else {
                    continue
                }
                policies.append(template.approval)
            }
            guard !policies.isEmpty else {
                checks.append(
                    DoneTaskCheck(
                        task: task.ref,
                        policies: [],
                        standing: "its template '\(key)' is in no version of workflow \(task.workflowID) up to \(current)"
                    )
                )
                continue
            }
            // A template that never needed a sign-off is done when submitted.
            if policies.contains(where: { $0 == nil }) { continue }
            // The state, round and evidence version are columns the application may write: the task must also
            // have got to done by an approval recorded in its chain, and sign its newest evidence.
            var standing: String?
            if task.lastTransition != "task.approve" {
                standing = "its audit chain does not record it reaching done by an approval"
            } else if let latest = task.latestEvidence, latest != task.evidenceVersion {
                standing = "it points at evidence version \(task.evidenceVersion), but its newest evidence is version \(latest)"
            }
            let approvals = try JSONDecoder().decode([Approval].self, from: Data(task.approvals.utf8))
                .map { CountedApproval(role: $0.role ?? "", signerID: $0.signer, onBehalfOf: $0.for) }
            checks.append(
                DoneTaskCheck(
                    task: task.ref,
                    assigneeID: task.assigneeID,
                    submitterID: task.submittedBy,
                    assignee: task.assignee,
                    submitter: task.submitter,
                    policies: policies.compactMap { $0 },
                    approvals: approvals,
                    standing: standing
                )
            )
        }
        return checks
    }
}
