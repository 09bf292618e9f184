/// One approval counted towards a policy.
public struct CountedApproval: Sendable, Equatable {
    /// The policy role whose slot the approval fills.
    public var role: String
    /// The database id of the person who signed.
    public var signerID: Int64
    /// The holder a deputy signed for: the approval counts as theirs too.
    public var onBehalfOf: Int64?
    /// Creates the value from its fields.
    public init(role: String, signerID: Int64, onBehalfOf: Int64? = nil) {
        self.role = role
        self.signerID = signerID
        self.onBehalfOf = onBehalfOf
    }

    /// Everyone this approval counts as: the signer and, for a deputy, the holder.
    public var people: [Int64] { [signerID] + (onBehalfOf.map { [$0] } ?? []) }
}

/// What a signer may sign for in one program now.
public struct SigningAuthority: Sendable, Equatable {
    /// A role held by someone who delegated it to the signer.
    public struct Holder: Sendable, Equatable {
        /// The holder's database id, checked by the separation-of-duties and one-slot rules.
        public var id: Int64
        /// The holder's handle, for messages and the signature's `onBehalfOf`.
        public var handle: String
        /// Creates the value from its fields.
        public init(id: Int64, handle: String) {
            self.id = id
            self.handle = handle
        }
    }
    /// Roles the signer holds.
    public var held: Set<String>
    /// Roles the signer holds but has delegated, with the deputy's handle: while that delegation is in
    /// force only the deputy signs for them.
    public var delegatedAway: [String: String]
    /// Roles delegated to the signer, with their holder.
    public var deputyFor: [String: Holder]

    /// Creates the value from its fields; only `held` is needed when nothing is delegated.
    public init(held: Set<String>, delegatedAway: [String: String] = [:], deputyFor: [String: Holder] = [:]) {
        self.held = held
        self.delegatedAway = delegatedAway
        self.deputyFor = deputyFor
    }
}

/// The slot a signature fills: a role, and the holder when a deputy signs for them.
public struct SigningSlot: Sendable, Equatable {
    /// The policy role the signature is recorded in.
    public var role: String
    /// The holder the signer signs for as a deputy; `nil` when signing in their own right.
    public var onBehalfOf: SigningAuthority.Holder?
    /// Creates the value from its fields.
    public init(role: String, onBehalfOf: SigningAuthority.Holder? = nil) {
        self.role = role
        self.onBehalfOf = onBehalfOf
    }
}

/// Decides, for one task in review, which slot of its approval policy a signer fills, or which rule refuses them.
///
/// A deputy's signature counts as both the deputy's and the holder's under every rule: neither may be the
/// assignee, the submitter or an uploader of the evidence signed (separation of duties), and neither may
/// fill a second slot of the same quorum. A holder who has delegated a role does not sign for it while
/// the delegation is in force.
public struct ApprovalEvaluation: Sendable {
    /// The task template's approval policy being filled.
    public let policy: ApprovalPolicy
    /// Approvals of the current round and evidence version.
    public let approvals: [CountedApproval]

    /// An evaluation of these approvals against the policy.
    public init(policy: ApprovalPolicy, approvals: [CountedApproval]) {
        self.policy = policy
        self.approvals = approvals
    }

    /// Signatures still needed per role, in policy order.
    public var remaining: [(role: String, needed: Int)] {
        policy.signers.map { requirement in
            (requirement.role, max(0, requirement.quorum - approvals.filter { $0.role == requirement.role }.count))
        }
    }

    /// Whether every requirement has its quorum.
    public var isMet: Bool { remaining.allSatisfy { $0.needed == 0 } }

    /// Whether these approvals meet the policy's quorums with the rules that can be checked from the
    /// approvals alone: each in a role of the policy, no person (signer or holder) counted twice, none by
    /// the assignee or submitter under separation of duties. (Order and the uploader rule are checked when
    /// a signature is given.) `audit verify` re-evaluates done tasks with it.
    public func isSatisfied(assigneeID: Int64?, submitterID: Int64?) -> Bool {
        var seen: Set<Int64> = []
        var counted: [CountedApproval] = []
        for approval in approvals where policy.signers.contains(where: { $0.role == approval.role }) {
            if policy.separationOfDuties, approval.people.contains(where: { $0 == assigneeID || $0 == submitterID }) { continue }
            if approval.people.contains(where: seen.contains) { continue }
            seen.formUnion(approval.people)
            counted.append(approval)
        }
        return ApprovalEvaluation(policy: policy, approvals: counted).isMet
    }

    /// The role whose slot this signer fills (see `slot(signerID:signerName:authority:assigneeID:submitterID:uploaderIDs:)`).
    /// - Parameters:
    ///   - canSignFor: the roles they hold (none delegated in or away).
    public func slot(
        signerID: Int64,
        signerName: String,
        canSignFor: Set<String>,
        assigneeID: Int64?,
        submitterID: Int64?
    ) -> Result<String, SigningRefusal> {
        slot(
            signerID: signerID,
            signerName: signerName,
            authority: SigningAuthority(held: canSignFor),
            assigneeID: assigneeID,
            submitterID: submitterID
        )
        .map(\.role)
    }

    /// The roles of the policy a signer may sign in now, each with the holder when as a deputy: their own
    /// (not delegated away) and those delegated to them by a holder no rule excludes; and the first
    /// exclusion met, for the refusal.
    private func capacities(
        signerName: String,
        authority: SigningAuthority,
        excluded: (Int64, String) -> SigningRefusal?
    ) -> ([String: SigningAuthority.Holder?], SigningRefusal?) {
        let roles = policy.signers.map(\.role)
        var capacities: [String: SigningAuthority.Holder?] = [:]
        var deputyRefusal: SigningRefusal?
        for (role, holder) in authority.deputyFor.sorted(by: { $0.key < $1.key }) where roles.contains(role) {
            if let refusal = excluded(holder.id, "\(holder.handle) (for whom \(signerName) signs as deputy)") {
                deputyRefusal = deputyRefusal ?? refusal
                continue
            }
            capacities[role] = .some(holder)
        }
        for role in authority.held where roles.contains(role) && authority.delegatedAway[role] == nil { capacities[role] = .some(nil) }
        return (capacities, deputyRefusal)
    }

    /// The slot an objection is recorded in when the signer's own slot is filled or not yet their turn:
    /// the first role of the policy they may sign in, with the same exclusions as an approval.
    public func rejectionSlot(
        signerID: Int64,
        signerName: String,
        authority: SigningAuthority,
        assigneeID: Int64?,
        submitterID: Int64?,
        uploaderIDs: Set<Int64> = []
    ) -> SigningSlot? {
        let (capacities, _) = capacities(signerName: signerName, authority: authority) { id, _ in
            // A filled slot does not stop an objection; being the assignee, the submitter or an uploader does.
            policy.separationOfDuties && (id == assigneeID || id == submitterID || uploaderIDs.contains(id))
                ? SigningRefusal(rule: .separationOfDuties, "") : nil
        }
        return policy.signers.map(\.role).first { capacities[$0] != nil }.map { SigningSlot(role: $0, onBehalfOf: capacities[$0]!) }
    }

    /// The slot this signer fills.
    /// - Parameters:
    ///   - signerID: the person signing.
    ///   - signerName: their handle, for messages.
    ///   - authority: the roles they hold, have delegated away, and sign for as a deputy.
    ///   - assigneeID: the task's assignee; `submitterID`: who submitted it; `uploaderIDs`: who uploaded the
    ///     evidence being signed. All are refused under separation of duties, as signer or as holder.
    /// - Returns: the slot, or the refusal naming the rule.
    public func slot(
        signerID: Int64,
        signerName: String,
        authority: SigningAuthority,
        assigneeID: Int64?,
        submitterID: Int64?,
        uploaderIDs: Set<Int64> = []
    ) -> Result<SigningSlot, SigningRefusal> {
        /// The rule that keeps this person out of any slot of this task, if one does.
        func excluded(_ id: Int64, _ name: String) -> SigningRefusal? {
            if policy.separationOfDuties {
                if id == assigneeID {
                    return SigningRefusal(
                        rule: .separationOfDuties,
                        "separation of duties: \(name) is the task's assignee and may not approve their own work"
                    )
                }
                if id == submitterID {
                    return SigningRefusal(rule: .separationOfDuties, "separation of duties: \(name) submitted the task and may not approve it")
                }
                if uploaderIDs.contains(id) {
                    return SigningRefusal(rule: .separationOfDuties, "separation of duties: \(name) uploaded evidence this signature would approve")
                }
            }
            if approvals.contains(where: { $0.people.contains(id) }) {
                return SigningRefusal(
                    rule: .oneSlotPerPerson,
                    (policy.separationOfDuties ? "one person fills one slot: " : "") + "\(name) has already signed this version"
                )
            }
            return nil
        }
        if let refusal = excluded(signerID, signerName) { return .failure(refusal) }
        let roles = policy.signers.map(\.role)
        let (capacities, deputyRefusal) = capacities(signerName: signerName, authority: authority, excluded: excluded)
        guard roles.contains(where: { capacities[$0] != nil }) else {
            if let deputyRefusal { return .failure(deputyRefusal) }
            if let role = roles.first(where: { authority.held.contains($0) && authority.delegatedAway[$0] != nil }) {
                return .failure(
                    SigningRefusal(
                        rule: .delegated,
                        "\(signerName) has delegated '\(role)' to \(authority.delegatedAway[role]!); while the delegation is in force only the deputy signs for it"
                    )
                )
            }
            return .failure(
                SigningRefusal(
                    rule: .notASigner,
                    "\(signerName) holds none of the signing roles (\(roles.joined(separator: ", "))) and signs for none by delegation"
                )
            )
        }
        let needs = remaining
        for (index, need) in needs.enumerated() where need.needed > 0 {
            guard let capacity = capacities[need.role] else { continue }
            if policy.order == .sequential, let earlier = needs[..<index].first(where: { $0.needed > 0 }) {
                return .failure(SigningRefusal(rule: .sequentialOrder, "sequential sign-off: \(earlier.role) must sign before \(need.role)"))
            }
            return .success(SigningSlot(role: need.role, onBehalfOf: capacity))
        }
        return .failure(SigningRefusal(rule: .quorumFilled, "the slots \(signerName) could fill are already signed"))
    }
}

/// Why a signature is refused.
public struct SigningRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that refused the signature; the store lets a rejection through some of them (a filled quorum, the order).
    public enum Rule: String, Sendable {
        case separationOfDuties = "separation-of-duties"
        case oneSlotPerPerson = "one-slot-per-person"
        case notASigner = "not-a-signer"
        case sequentialOrder = "sequential-order"
        case quorumFilled = "quorum-filled"
        case delegated = "delegated"
    }
    /// Which rule refused it.
    public let rule: Rule
    /// The refusal in words for the signer, naming the rule and the people concerned.
    public let message: String
    /// Creates a refusal under a rule with its message.
    public init(rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }
    /// The message, as shown to the signer.
    public var description: String { message }
}
