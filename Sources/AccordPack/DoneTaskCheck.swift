public import AccordCore

/// A done task that needs a sign-off, and the policies its signatures must meet (one of them, after upgrades).
/// In an evidence pack as `approvals.json`, so `verify-pack` checks it offline against `signatures.json`.
public struct DoneTaskCheck: Codable, Sendable, Equatable {
    /// The task's ref.
    public var task: String
    /// The assignee's database id, for separation of duties (not written to the pack).
    public var assigneeID: Int64?
    /// The database id of who submitted the task, for separation of duties (not written to the pack).
    public var submitterID: Int64?
    /// The assignee's handle: how the pack names them.
    public var assignee: String?
    /// The submitter's handle: how the pack names them.
    public var submitter: String?
    /// The task template's approval policy in each workflow version up to the program's current one,
    /// newest first; meeting any one of them is enough.
    public var policies: [ApprovalPolicy]
    /// The approvals of the task's current round and evidence version, oldest first (from the database;
    /// not written to the pack, where `signatures.json` supplies them).
    public var approvals: [CountedApproval] = []
    /// What the database shows against the task regardless of its signatures (checked with the database only).
    public var standing: String?

    /// Creates the value from its fields.
    public init(
        task: String,
        assigneeID: Int64? = nil,
        submitterID: Int64? = nil,
        assignee: String? = nil,
        submitter: String? = nil,
        policies: [ApprovalPolicy],
        approvals: [CountedApproval] = [],
        standing: String? = nil
    ) {
        self.task = task
        self.assigneeID = assigneeID
        self.submitterID = submitterID
        self.assignee = assignee
        self.submitter = submitter
        self.policies = policies
        self.approvals = approvals
        self.standing = standing
    }

    enum CodingKeys: String, CodingKey { case task, assignee, submitter, policies }

    /// What is wrong with the task's approvals, or `nil` when a policy is met.
    public func problem(approvals: [CountedApproval]) -> String? {
        if let standing { return "task \(task) is done, but \(standing): its state was set outside Accord" }
        if policies.contains(where: {
            ApprovalEvaluation(policy: $0, approvals: approvals).isSatisfied(assigneeID: assigneeID, submitterID: submitterID)
        }) {
            return nil
        }
        let needed =
            policies.first.map {
                ApprovalPolicy.neededSummary(
                    Dictionary(
                        ApprovalEvaluation(policy: $0, approvals: approvals).remaining.filter { $0.needed > 0 }.map { ($0.role, $0.needed) },
                        uniquingKeysWith: +
                    )
                )
            } ?? ""
        return
            "task \(task) is done, but its signatures do not meet its approval policy (\(approvals.count) approval(s)\(needed.isEmpty ? "" : "; still needed: \(needed)")): its state was set outside Accord, or a signature was removed"
    }

    /// The same check over a pack's signatures, which name people by handle.
    public func problem(packSignatures: [PackSignature]) -> String? {
        var ids: [String: Int64] = [:]
        func id(_ handle: String?) -> Int64? {
            guard let handle else { return nil }
            if let known = ids[handle] { return known }
            ids[handle] = Int64(ids.count + 1)
            return ids[handle]
        }
        var offline = self
        offline.assigneeID = id(assignee)
        offline.submitterID = id(submitter)
        let approvals = packSignatures.filter { $0.task == task && $0.current && $0.decision == .approve }.sorted { $0.id < $1.id }
            .map { CountedApproval(role: $0.role ?? "", signerID: id($0.signer)!, onBehalfOf: id($0.onBehalfOf)) }
        return offline.problem(approvals: approvals)
    }
}
