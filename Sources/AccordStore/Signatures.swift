public import AccordCore
import Foundation
import Postgres

/// The locked task being signed, with its workflow and approval policy.
private struct TaskUnderReview {
    var row: SigningTaskRow
    var workflow: Workflow
    var policy: ApprovalPolicy
    var task: TaskRow { row.task }
    var program: ProgramRow { row.program }
}

/// A delegation the signer signs under, as a deputy.
private struct SigningDelegation {
    var id: Int64
    /// The holder's id and handle.
    var from: Int64
    var fromHandle: String
}

/// The slot a signature fills, with the approvals of the round it was evaluated against.
private struct SigningSlot {
    var role: String
    var delegation: SigningDelegation?
    var approvals: [CountedApproval]
    var evaluation: ApprovalEvaluation
}

extension Store {
    /// Signs or rejects a task in review. The signer's proof (password or fresh SSO) is checked every time; the
    /// approval policy (roles, quorum, order, separation of duties) is enforced under the task's row
    /// lock, so concurrent signers never overshoot; the signature binds the hash of the task and its
    /// current evidence and is authenticated with the audit key. The last needed approval completes the
    /// task and unblocks its dependents; a rejection sends it back to work with the reason.
    ///
    /// With an `idempotency` claim (see `Store.idempotent`) the key is claimed first in the same
    /// transaction and the answer recorded before COMMIT, so the key, the signature and the answer commit
    /// together or not at all.
    public func sign(
        _ ref: String,
        decision: SigningDecision,
        meaning: SignatureMeaning?,
        comment: String?,
        proof: SigningProof,
        actor: String?,
        idempotency: IdempotencyClaim? = nil
    ) async throws -> SigningOutcome {
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        if decision == .reject && comment == nil { throw AccordError(.invalid, "a rejection needs a comment saying why", field: "comment") }
        if decision == .approve, meaning == .rejection {
            throw AccordError(
                .invalid,
                "an approval means one of \(SignatureMeaning.chosen.map(\.rawValue).joined(separator: ", ")); 'rejection' is what a rejection records"
            )
        }
        let (signer, method, held) = try await checkSigner(actor: actor, proof: proof)
        // The password's throttle claim is settled with this transaction's COMMIT.
        return try await withTransaction(settling: held) { connection in
            // One round trip (with the BEGIN) for the task, locked, with its program, workflow checksum,
            // review state, the signer's membership and standing; then, read after the lock, the round's
            // signatures, the signer's authority, the evidence to bind and the signature's id. The writes
            // that follow travel with the COMMIT: the sign path is measured (make bench).
            let id: Int64
            if let numeric = Int64(ref) { id = numeric } else { id = try await Self.resolveTask(ref, for: signer, on: connection) }
            let reads = try await Self.signingReads(task: id, signer: signer, idempotency: idempotency, on: connection)
            let review = try await Self.taskUnderReview(reads.task, id: id, signer: signer, decision: decision, on: connection)
            if let repeated = try await Self.repeatedSignature(by: signer, decision: decision, of: review, round: reads.round, on: connection) {
                try await idempotency?.finish(RememberedResponse(status: 200, body: try repeated.json()), on: connection)
                return repeated
            }
            let slot = try Self.signingSlot(for: signer, decision: decision, of: review, reads: reads)
            let record = try await self.recordSignature(
                decision,
                meaning: meaning,
                comment: comment,
                by: signer,
                method: method,
                of: review,
                in: slot,
                reads: reads,
                on: connection
            )
            let outcome = try await Self.settleReview(after: record, by: signer, of: review, in: slot, on: connection)
            try await idempotency?.finish(RememberedResponse(status: 200, body: try outcome.json()), on: connection)
            return outcome
        }
    }

    /// The first round trip of the sign path: the idempotency claim (when there is one), the task locked,
    /// then the round's signatures, the signer's authority, the evidence to bind and the signature's id.
    /// - Throws: `IdempotencyReplay` when another request with the key committed first (this one waited for it).
    private static func signingReads(
        task id: Int64,
        signer: Person,
        idempotency: IdempotencyClaim?,
        on connection: PostgresConnection
    ) async throws -> SigningReads {
        let locked = SignatureSQL.lockedForSigning.bind(id, signer.id)
        let round = SignatureSQL.roundNow.bind(id)
        let authority = SignatureSQL.authorityNow.bind(id, signer.id)
        let digests = SignatureSQL.digestsNow.bind(id)
        let nextID = SignatureSQL.nextID.bind()
        if let claim = idempotency {
            let (claimed, task, signatures, standing, evidence, next) = try await connection.pipeline(
                claim.statement,
                locked,
                round,
                authority,
                digests,
                nextID
            )
            guard !claimed.isEmpty else { throw IdempotencyReplay() }
            return try SigningReads(task: task, round: signatures, standing: standing, digests: evidence, nextID: next)
        }
        let (task, signatures, standing, evidence, next) = try await connection.pipeline(locked, round, authority, digests, nextID)
        return try SigningReads(task: task, round: signatures, standing: standing, digests: evidence, nextID: next)
    }

    /// The task, checked: it exists and the signer may see it, is enabled, and the task needs sign-off and is in review.
    private static func taskUnderReview(
        _ row: SigningTaskRow?,
        id: Int64,
        signer: Person,
        decision: SigningDecision,
        on connection: PostgresConnection
    ) async throws -> TaskUnderReview {
        guard let row else { throw AccordError(.notFound, "no task \(id)") }
        guard row.signerActive else { throw AccordError(.forbidden, "'\(signer.handle)' is disabled") }
        if !signer.isAdmin, !row.member {
            throw AccordError(.notFound, "no task \(id)")
        }
        let task = row.task
        let workflow = try await Self.workflow(row.program.workflowID, version: row.program.workflowVersion, checksum: row.checksum, on: connection)
        guard let policy = workflow.task(task.templateKey)?.approval else {
            throw AccordError(.conflict, "task '\(task.ref)' needs no sign-off; submitting it finishes it")
        }
        let event: TaskEvent = decision == .approve ? .approve : .reject
        guard task.state == .inReview else {
            throw AccordError(.conflict, TaskStateMachine.refusal(task: task.ref, state: task.state, event: event, needsSignOff: true))
        }
        return TaskUnderReview(row: row, workflow: workflow, policy: policy)
    }

    /// The signer's own signature of this round, when there is one: a double submit of the same decision
    /// is harmless (the first one stands, and is the answer); another decision is refused.
    private static func repeatedSignature(
        by signer: Person,
        decision: SigningDecision,
        of review: TaskUnderReview,
        round: [RoundSignature],
        on connection: PostgresConnection
    ) async throws -> SigningOutcome? {
        guard let mine = round.first(where: { $0.signerID == signer.id }) else { return nil }
        guard mine.decision == decision else {
            throw AccordError(.conflict, "\(signer.handle) has already signed this version of '\(review.task.ref)' with another decision")
        }
        let existing = try await connection.queryOne(SignatureSQL.byID, mine.id)
        return SigningOutcome(signature: existing, taskState: review.task.state, remaining: [:], recorded: false)
    }

    /// The roles the signer may sign for, and the delegations they would sign under, from their standing.
    private static func signingAuthority(_ standing: [SigningStanding]) -> (SigningAuthority, [String: SigningDelegation]) {
        var authority = SigningAuthority(held: [])
        var delegations: [String: SigningDelegation] = [:]
        for line in standing {
            switch line {
            case .held(let role):
                authority.held.insert(role)
            case .away(let role, let deputy):
                if authority.delegatedAway[role] == nil { authority.delegatedAway[role] = deputy }
            case .deputy(let role, let delegationID, let holder):
                if delegations[role] == nil {
                    delegations[role] = SigningDelegation(id: delegationID, from: holder.id, fromHandle: holder.handle)
                    authority.deputyFor[role] = holder
                }
            }
        }
        return (authority, delegations)
    }

    /// The policy slot the signature fills, evaluated against the round's approvals (quorum, order,
    /// separation of duties). A rejection may also take a slot that is filled or not yet its turn.
    private static func signingSlot(
        for signer: Person,
        decision: SigningDecision,
        of review: TaskUnderReview,
        reads: SigningReads
    ) throws -> SigningSlot {
        let (authority, delegations) = signingAuthority(reads.standing)
        let approvals = reads.round.filter { $0.decision == .approve }.map {
            CountedApproval(role: $0.role, signerID: $0.signerID, onBehalfOf: $0.onBehalfOf)
        }
        let uploaders = Set(reads.digests.map(\.uploadedBy))
        let evaluation = ApprovalEvaluation(policy: review.policy, approvals: approvals)
        let task = review.task
        let submitter = review.row.submittedBy
        switch evaluation.slot(
            signerID: signer.id,
            signerName: signer.handle,
            authority: authority,
            assigneeID: task.assigneeID,
            submitterID: submitter,
            uploaderIDs: uploaders
        ) {
        case .success(let filled):
            let delegation = filled.onBehalfOf == nil ? nil : delegations[filled.role]
            return SigningSlot(role: filled.role, delegation: delegation, approvals: approvals, evaluation: evaluation)
        case .failure(let refusal) where decision == .reject && [.quorumFilled, .sequentialOrder].contains(refusal.rule):
            // A signer may object even when their slot is filled or not yet their turn, in a slot no rule keeps them from.
            guard
                let objection = evaluation.rejectionSlot(
                    signerID: signer.id,
                    signerName: signer.handle,
                    authority: authority,
                    assigneeID: task.assigneeID,
                    submitterID: submitter,
                    uploaderIDs: uploaders
                )
            else {
                throw AccordError(.forbidden, "\(refusal.message) (task '\(task.ref)')")
            }
            let delegation = objection.onBehalfOf == nil ? nil : delegations[objection.role]
            return SigningSlot(role: objection.role, delegation: delegation, approvals: approvals, evaluation: evaluation)
        case .failure(let refusal):
            throw AccordError(.forbidden, "\(refusal.message) (task '\(task.ref)')")
        }
    }

    /// Writes the signature, bound to the task's current evidence and authenticated with the audit key,
    /// and its audit entry (both travel with the next statement). Returns it as views show it.
    private func recordSignature(
        _ decision: SigningDecision,
        meaning: SignatureMeaning?,
        comment: String?,
        by signer: Person,
        method: String,
        of review: TaskUnderReview,
        in slot: SigningSlot,
        reads: SigningReads,
        on connection: PostgresConnection
    ) async throws -> SignatureRecord {
        let task = review.task
        let round = review.row.reviewRound
        let version = review.row.evidenceVersion
        let subject = SignedSubject(taskID: task.id, taskRef: task.ref, evidenceVersion: version, evidence: reads.digests.map(\.digest))
        let recordedMeaning: SignatureMeaning = decision == .reject ? .rejection : meaning ?? .approval
        let content = SignatureContent(
            taskID: task.id,
            taskRef: task.ref,
            reviewRound: round,
            evidenceVersion: version,
            signer: signer.handle,
            printedName: signer.name,
            signedAtMicros: review.row.nowMicros,
            decision: decision.rawValue,
            meaning: recordedMeaning.rawValue,
            comment: comment,
            role: slot.role,
            onBehalfOf: slot.delegation?.fromHandle,
            authMethod: method,
            subjectSHA256: subject.sha256
        )
        try await connection.executeDeferred(
            SignatureSQL.insert,
            task.id,
            round,
            version,
            signer.id,
            signer.name,
            review.row.now,
            decision,
            recordedMeaning,
            comment,
            slot.role,
            slot.delegation?.from,
            slot.delegation?.id,
            method,
            subject.sha256,
            auditKey.id,
            auditKey.mac(content.canonicalBytes),
            reads.signatureID
        )
        try await connection.appendAudit(
            AuditRecord(
                chain: programChain(review.program.slug),
                actor: signer.handle,
                action: decision == .approve ? "task.sign" : "task.reject-signature",
                objectType: "task",
                objectID: task.ref,
                after: auditJSON(
                    SignatureAuditRecord(
                        signature: reads.signatureID,
                        decision: decision.rawValue,
                        meaning: recordedMeaning.rawValue,
                        role: slot.role,
                        onBehalfOf: slot.delegation?.fromHandle,
                        evidenceVersion: version,
                        subject: hexString(subject.sha256)
                    )
                ),
                reason: comment
            )
        )
        return SignatureRecord(
            id: reads.signatureID,
            task: task.ref,
            signer: signer.handle,
            printedName: signer.name,
            onBehalfOf: slot.delegation?.fromHandle,
            role: slot.role,
            decision: decision,
            meaning: recordedMeaning,
            comment: comment,
            signedAt: review.row.now,
            authMethod: method,
            reviewRound: round,
            evidenceVersion: version,
            currentEvidenceVersion: version,
            subjectSHA256: hexString(subject.sha256),
            current: true
        )
    }

    /// What the signature does to the task: a rejection sends it back to work with the reason; the last
    /// needed approval completes it (and unblocks its dependents). Returns the outcome with what is still needed.
    private static func settleReview(
        after record: SignatureRecord,
        by signer: Person,
        of review: TaskUnderReview,
        in slot: SigningSlot,
        on connection: PostgresConnection
    ) async throws -> SigningOutcome {
        let task = review.task
        var state = task.state
        var remaining = ApprovalEvaluation(
            policy: review.policy,
            approvals: slot.approvals + [CountedApproval(role: slot.role, signerID: signer.id, onBehalfOf: slot.delegation?.from)]
        )
        if record.decision == .reject {
            try await transition(
                task,
                .reject,
                workflow: review.workflow,
                program: review.program,
                actor: signer,
                reason: record.comment,
                on: connection
            )
            state = .inProgress
            remaining = slot.evaluation
        } else if remaining.isMet {
            try await transition(
                task,
                .approve,
                workflow: review.workflow,
                program: review.program,
                actor: signer,
                reason: "approval policy met",
                on: connection
            )
            state = .done
        }
        let left =
            state == .inReview ? Dictionary(remaining.remaining.filter { $0.needed > 0 }.map { ($0.role, $0.needed) }, uniquingKeysWith: +) : [:]
        return SigningOutcome(signature: record, taskState: state, remaining: left, recorded: true)
    }

    /// A task's signatures, oldest first.
    public func signatures(of ref: String, actor: String?) async throws -> [SignatureRecord] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await connection.query(SignatureSQL.forTask, id)
        }
    }
}
