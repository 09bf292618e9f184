public import AccordCore
public import Foundation
import HummingbirdBcrypt
import NIOPosix
import Postgres

/// A recorded decision, as every view shows it.
public struct SignatureRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var task: String
    public var signer: String
    public var printedName: String
    public var onBehalfOf: String?
    public var role: String?
    public var decision: SigningDecision
    public var meaning: SignatureMeaning
    public var comment: String?
    public var signedAt: Date
    public var authMethod: String
    public var reviewRound: Int
    /// The task evidence version this signature binds.
    public var evidenceVersion: Int
    /// The task's evidence version now; when larger, the signature is superseded.
    public var currentEvidenceVersion: Int
    public var subjectSHA256: String
    /// Whether it still counts: same review round and evidence version as the task now.
    public var current: Bool

    /// "signed version N, current M" when superseded.
    public var versionNote: String {
        evidenceVersion == currentEvidenceVersion
            ? "signed version \(evidenceVersion)" : "signed version \(evidenceVersion), current \(currentEvidenceVersion)"
    }
}

/// What a sign or reject command did.
public struct SigningOutcome: Codable, Sendable, Equatable {
    public var signature: SignatureRecord
    /// The task's state afterwards.
    public var taskState: TaskState
    /// Signatures still needed per role, when the task is still in review.
    public var remaining: [String: Int]
    /// False when the same signature was already recorded and nothing new was written.
    public var recorded: Bool
}

extension SigningOutcome {
    /// The JSON the API answers with (keys sorted, dates in ISO 8601), and remembers for an Idempotency-Key.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

enum SignatureSQL {
    static let signer = """
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash, p.password_hash IS NOT NULL AS can_sign,
               p.disabled_at IS NOT NULL AS disabled
        FROM accord.person p WHERE p.handle = $1
        """
    /// The task to sign, locked, with its program, workflow checksum, review state and the signer's standing.
    static let lockedForSigning = """
        SELECT t.id, t.program_id, p.slug AS program, t.template_key, t.system_id, s.slug AS system, t.owner_role, t.state,
               t.assignee_id, a.handle AS assignee, t.instance, t.finding_id, t.incident_id,
               t.review_round, t.evidence_version, t.submitted_by, (extract(epoch FROM now()) * 1000000)::bigint AS now_us, now() AS now,
               p.title AS program_title, p.workflow_id, p.workflow_version, to_char(p.starts_on, 'YYYY-MM-DD') AS starts_on, w.checksum,
               EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = t.program_id AND b.person_id = $2) AS member,
               (SELECT disabled_at IS NULL FROM accord.person WHERE id = $2) AS signer_active
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        JOIN accord.workflow_version w ON w.workflow_id = p.workflow_id AND w.version = p.workflow_version
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $1 FOR UPDATE OF t
        """
    /// Read after the lock, in the same round trip (its own statement, so its own snapshot sees every
    /// signature committed before the lock was granted): the current round's signatures.
    static let roundNow = """
        SELECT s.id, s.role, s.signer_id, s.on_behalf_of, s.decision FROM accord.signature s JOIN accord.task t ON t.id = s.task_id
        WHERE s.task_id = $1 AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version ORDER BY s.id
        """
    /// The signer's authority in the task's program now: the roles they hold ('held'), those delegated to
    /// them ('deputy', with the delegation and its holder), and those they have delegated to someone
    /// else ('away', with the deputy), which they do not sign for while the delegation is in force.
    static let authorityNow = """
        SELECT 'held' AS kind, role, NULL::bigint AS delegation_id, NULL::bigint AS other_id, NULL::text AS other_handle
        FROM accord.role_binding WHERE program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND person_id = $2
        UNION ALL
        SELECT 'deputy', d.role, d.id, f.id, f.handle FROM accord.delegation d JOIN accord.person f ON f.id = d.from_id
        WHERE d.program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND d.to_id = $2 AND \(DelegationSQL.inForce)
        UNION ALL
        SELECT 'away', d.role, d.id, t.id, t.handle FROM accord.delegation d JOIN accord.person t ON t.id = d.to_id
        WHERE d.program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND d.from_id = $2 AND \(DelegationSQL.inForce)
        ORDER BY 3 NULLS FIRST
        """
    /// The evidence the signature binds: the task's current version.
    static let digestsNow = """
        SELECT DISTINCT ON (e.title) e.title, e.version, e.sha256, e.uploaded_by
        FROM accord.evidence e JOIN accord.task t ON t.id = e.task_id
        WHERE e.task_id = $1 AND e.task_version <= t.evidence_version ORDER BY e.title, e.version DESC
        """
    /// The signature's id, taken before the decision so that everything written after it can go in one round trip.
    static let nextID = "SELECT nextval(pg_get_serial_sequence('accord.signature', 'id')) AS next_id"
    static let approvals = """
        SELECT role, signer_id FROM accord.signature
        WHERE task_id = $1 AND review_round = $2 AND evidence_version = $3 AND decision = 'approve' ORDER BY id
        """
    static let insert = """
        INSERT INTO accord.signature (id, task_id, review_round, evidence_version, signer_id, printed_name, signed_at, decision, meaning, comment,
                                      role, on_behalf_of, delegation_id, auth_method, subject_sha256, key_id, mac)
        OVERRIDING SYSTEM VALUE
        VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """
    static let columns = """
        SELECT s.id, s.task_id, s.review_round, s.evidence_version, t.evidence_version AS current_version, t.review_round AS current_round,
               p.handle AS signer, s.printed_name, b.handle AS on_behalf_of, s.role, s.decision, s.meaning, s.comment, s.signed_at,
               (extract(epoch FROM s.signed_at) * 1000000)::bigint AS signed_at_us, s.auth_method, s.subject_sha256, s.key_id, s.mac,
               pr.slug AS program, t.template_key, sy.slug AS system, t.instance
        FROM accord.signature s
        JOIN accord.task t ON t.id = s.task_id
        JOIN accord.program pr ON pr.id = t.program_id
        LEFT JOIN accord.ai_system sy ON sy.id = t.system_id
        JOIN accord.person p ON p.id = s.signer_id
        LEFT JOIN accord.person b ON b.id = s.on_behalf_of
        """
    static let byID = columns + "\nWHERE s.id = $1"
    static let forTask = columns + "\nWHERE s.task_id = $1 ORDER BY s.id"
    static let forProgram = columns + "\nWHERE pr.id = $1 ORDER BY s.id"
    static let all = columns + "\nORDER BY s.id"
}

/// Five wrong passwords in a row lock signing for fifteen minutes.
public let signingLockThreshold = 5
let signingLockDuration = "15 minutes"

extension SignatureRecord {
    init(row: PostgresRow) throws {
        let ref = try row.taskRef()
        let version = try row.decode(Int.self, "evidence_version")
        let current = try row.decode(Int.self, "current_version")
        id = try row.decode(Int64.self, "id")
        task = ref
        signer = try row.decode(String.self, "signer")
        printedName = try row.decode(String.self, "printed_name")
        onBehalfOf = try row.decode(String?.self, "on_behalf_of")
        role = try row.decode(String?.self, "role")
        decision = try row.decode(SigningDecision.self, "decision")
        meaning = try row.decode(SignatureMeaning.self, "meaning")
        comment = try row.decode(String?.self, "comment")
        signedAt = try row.decode(Date.self, "signed_at")
        authMethod = try row.decode(String.self, "auth_method")
        reviewRound = try row.decode(Int.self, "review_round")
        evidenceVersion = version
        currentEvidenceVersion = current
        subjectSHA256 = hexString(try row.decode([UInt8].self, "subject_sha256"))
        let currentRound = try row.decode(Int.self, "current_round")
        self.current = version == current && reviewRound == currentRound
    }
}

extension Store {
    /// Signs or rejects a task in review. The signer's password is checked again every time; the
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
        password: String,
        actor: String?,
        idempotency: IdempotencyClaim? = nil
    ) async throws -> SigningOutcome {
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        if decision == .reject && comment == nil { throw AccordError(.invalid, "a rejection needs a comment saying why (--comment)") }
        if decision == .approve, meaning == .rejection {
            throw AccordError(
                .invalid,
                "an approval means one of \(SignatureMeaning.chosen.map(\.rawValue).joined(separator: ", ")); 'rejection' is what a rejection records"
            )
        }
        let signer = try await checkSigningPassword(actor: actor, password: password)
        return try await pool.withTransaction { connection in
            // One round trip (with the BEGIN) for the task, locked, with its program, workflow checksum,
            // review state, the signer's membership and standing; then, read after the lock, the round's
            // signatures, the signer's authority, the evidence to bind and the signature's id. The writes
            // that follow travel with the COMMIT: the sign path is measured (make bench).
            let id: Int64
            if let numeric = Int64(ref) { id = numeric } else { id = try await Self.resolveTask(ref, for: signer, on: connection) }
            var statements: [(sql: String, parameters: [(any PostgresEncodable)?])] = [
                (SignatureSQL.lockedForSigning, [id, signer.id]), (SignatureSQL.roundNow, [id]),
                (SignatureSQL.authorityNow, [id, signer.id]), (SignatureSQL.digestsNow, [id]), (SignatureSQL.nextID, []),
            ]
            if let claim = idempotency { statements.insert(claim.statement, at: 0) }
            var reads = try await connection.pipeline(statements)
            if idempotency != nil {
                // Another request with this key committed first (this one waited for it): replay its answer.
                guard reads.removeFirst().firstRow != nil else { throw IdempotencyReplay() }
            }
            guard let row = reads[0].firstRow else {
                throw AccordError(.notFound, "no task \(id)")
            }
            guard try row.decode(Bool.self, "signer_active") else { throw AccordError(.forbidden, "'\(signer.handle)' is disabled") }
            let acting = signer
            let program = try ProgramRow(
                id: row.decode(Int64.self, "program_id"),
                slug: row.decode(String.self, "program"),
                title: row.decode(String.self, "program_title"),
                workflowID: row.decode(String.self, "workflow_id"),
                workflowVersion: row.decode(Int.self, "workflow_version"),
                startsOn: CalendarDate(row.decode(String.self, "starts_on"))!
            )
            if !acting.isAdmin, try !row.decode(Bool.self, "member") {
                throw AccordError(.notFound, "no task \(id)")
            }
            let task = try TaskRow(lockedRow: row, id: id)
            let workflow = try await Self.workflow(
                program.workflowID,
                version: program.workflowVersion,
                checksum: row.decode(String.self, "checksum"),
                on: connection
            )
            guard let policy = workflow.task(task.templateKey)?.approval else {
                throw AccordError(.conflict, "task '\(task.ref)' needs no sign-off; submitting it finishes it")
            }
            let event: TaskEvent = decision == .approve ? .approve : .reject
            guard task.state == .inReview else {
                throw AccordError(.conflict, TaskStateMachine.refusal(task: task.ref, state: task.state, event: event, needsSignOff: true))
            }
            let round = try row.decode(Int.self, "review_round")
            let version = try row.decode(Int.self, "evidence_version")
            let submitter = try row.decode(Int64?.self, "submitted_by")

            // This round's signatures, once: the signer's own (a double submit of the same decision is
            // harmless, the first one stands) and the approvals counted against the policy.
            let signedRound = try reads[1].map {
                (
                    id: try $0.decode(Int64.self, "id"), role: try $0.decode(String.self, "role"), signerID: try $0.decode(Int64.self, "signer_id"),
                    onBehalfOf: try $0.decode(Int64?.self, "on_behalf_of"), decision: try $0.decode(SigningDecision.self, "decision")
                )
            }
            if let mine = signedRound.first(where: { $0.signerID == acting.id }) {
                guard mine.decision == decision else {
                    throw AccordError(.conflict, "\(acting.handle) has already signed this version of '\(task.ref)' with another decision")
                }
                let existing = try SignatureRecord(row: try await connection.query(SignatureSQL.byID, [mine.id])[0])
                let outcome = SigningOutcome(signature: existing, taskState: task.state, remaining: [:], recorded: false)
                try await idempotency?.finish(RememberedResponse(status: 200, body: try outcome.json()), on: connection)
                return outcome
            }

            var authority = SigningAuthority(held: [])
            var delegations: [String: (id: Int64, from: Int64, fromHandle: String)] = [:]
            for row in reads[2] {
                let role = try row.decode(String.self, "role")
                switch try row.decode(String.self, "kind") {
                case "held":
                    authority.held.insert(role)
                case "away":
                    let deputy = try row.decode(String.self, "other_handle")
                    if authority.delegatedAway[role] == nil { authority.delegatedAway[role] = deputy }
                default:
                    if delegations[role] == nil {
                        let holder = SigningAuthority.Holder(
                            id: try row.decode(Int64.self, "other_id"),
                            handle: try row.decode(String.self, "other_handle")
                        )
                        delegations[role] = (try row.decode(Int64.self, "delegation_id"), holder.id, holder.handle)
                        authority.deputyFor[role] = holder
                    }
                }
            }
            let approvals = signedRound.filter { $0.decision == .approve }.map {
                CountedApproval(role: $0.role, signerID: $0.signerID, onBehalfOf: $0.onBehalfOf)
            }
            let uploaders = Set(try reads[3].map { try $0.decode(Int64.self, "uploaded_by") })
            let evaluation = ApprovalEvaluation(policy: policy, approvals: approvals)
            let slot: String
            let delegation: (id: Int64, from: Int64, fromHandle: String)?
            switch evaluation.slot(
                signerID: acting.id,
                signerName: acting.handle,
                authority: authority,
                assigneeID: task.assigneeID,
                submitterID: submitter,
                uploaderIDs: uploaders
            ) {
            case .success(let filled):
                slot = filled.role
                delegation = filled.onBehalfOf == nil ? nil : delegations[filled.role]
            case .failure(let refusal) where decision == .reject && [.quorumFilled, .sequentialOrder].contains(refusal.rule):
                // A signer may object even when their slot is filled or not yet their turn, in a slot no rule keeps them from.
                guard
                    let objection = evaluation.rejectionSlot(
                        signerID: acting.id,
                        signerName: acting.handle,
                        authority: authority,
                        assigneeID: task.assigneeID,
                        submitterID: submitter,
                        uploaderIDs: uploaders
                    )
                else {
                    throw AccordError(.forbidden, "\(refusal.message) (task '\(task.ref)')")
                }
                slot = objection.role
                delegation = objection.onBehalfOf == nil ? nil : delegations[slot]
            case .failure(let refusal):
                throw AccordError(.forbidden, "\(refusal.message) (task '\(task.ref)')")
            }

            let digests = try reads[3].map {
                EvidenceDigest(
                    title: try $0.decode(String.self, "title"),
                    version: try $0.decode(Int.self, "version"),
                    sha256: hexString(try $0.decode([UInt8].self, "sha256"))
                )
            }
            let signatureID = try reads[4][0].decode(Int64.self, "next_id")
            let subject = SignedSubject(taskID: id, taskRef: task.ref, evidenceVersion: version, evidence: digests)
            let signedAtMicros = try row.decode(Int64.self, "now_us")
            let recordedMeaning: SignatureMeaning = decision == .reject ? .rejection : meaning ?? .approval
            let content = SignatureContent(
                taskID: id,
                taskRef: task.ref,
                reviewRound: round,
                evidenceVersion: version,
                signer: acting.handle,
                printedName: acting.name,
                signedAtMicros: signedAtMicros,
                decision: decision.rawValue,
                meaning: recordedMeaning.rawValue,
                comment: comment,
                role: slot,
                onBehalfOf: delegation?.fromHandle,
                authMethod: "password",
                subjectSHA256: subject.sha256
            )
            try await connection.executeDeferred(
                SignatureSQL.insert,
                [
                    id, round, version, acting.id, acting.name, try row.decode(Date.self, "now"), decision.rawValue, recordedMeaning.rawValue,
                    comment,
                    slot, delegation?.from, delegation?.id, "password", subject.sha256, auditKey.id, auditKey.mac(content.canonicalBytes),
                    signatureID,
                ]
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: decision == .approve ? "task.sign" : "task.reject-signature",
                    objectType: "task",
                    objectID: task.ref,
                    after: auditJSON(
                        SignatureAuditRecord(
                            signature: signatureID,
                            decision: decision.rawValue,
                            meaning: recordedMeaning.rawValue,
                            role: slot,
                            onBehalfOf: delegation?.fromHandle,
                            evidenceVersion: version,
                            subject: hexString(subject.sha256)
                        )
                    ),
                    reason: comment
                )
            )
            var state = task.state
            var remaining = ApprovalEvaluation(
                policy: policy,
                approvals: approvals + [CountedApproval(role: slot, signerID: acting.id, onBehalfOf: delegation?.from)]
            )
            if decision == .reject {
                try await Self.transition(task, .reject, workflow: workflow, program: program, actor: acting, reason: comment, on: connection)
                state = .inProgress
                remaining = evaluation
            } else if remaining.isMet {
                try await Self.transition(
                    task,
                    .approve,
                    workflow: workflow,
                    program: program,
                    actor: acting,
                    reason: "approval policy met",
                    on: connection
                )
                state = .done
            }
            let record = SignatureRecord(
                id: signatureID,
                task: task.ref,
                signer: acting.handle,
                printedName: acting.name,
                onBehalfOf: delegation?.fromHandle,
                role: slot,
                decision: decision,
                meaning: recordedMeaning,
                comment: comment,
                signedAt: try row.decode(Date.self, "now"),
                authMethod: "password",
                reviewRound: round,
                evidenceVersion: version,
                currentEvidenceVersion: version,
                subjectSHA256: hexString(subject.sha256),
                current: true
            )
            let left =
                state == .inReview ? Dictionary(remaining.remaining.filter { $0.needed > 0 }.map { ($0.role, $0.needed) }, uniquingKeysWith: +) : [:]
            let outcome = SigningOutcome(signature: record, taskState: state, remaining: left, recorded: true)
            try await idempotency?.finish(RememberedResponse(status: 200, body: try outcome.json()), on: connection)
            return outcome
        }
    }

    /// Re-checks a signer's password. The attempt is counted before bcrypt runs (`ThrottlePolicy.signing`,
    /// the same mechanism as logins), so concurrent guesses cannot pass the limit: after
    /// `signingLockThreshold` wrong ones in a row signing is locked for that person, longer each time.
    /// Returns the signer.
    /// - Parameter refused: what a wrong password leaves undone, for its message.
    func checkSigningPassword(actor: String?, password: String, refused: String = "nothing was signed") async throws -> Person {
        guard let handle = actor, !handle.isEmpty else { throw AccordError(.unauthenticated, "say who is signing: --as HANDLE or ACCORD_USER") }
        let row: PostgresRow = try await pool.withConnection { connection in
            guard let row = try await connection.query(SignatureSQL.signer, [handle]).firstRow else {
                throw AccordError(.unauthenticated, "the acting user '\(handle)' does not exist")
            }
            return row
        }
        let person = try Person(row: row)
        guard !(try row.decode(Bool.self, "disabled")) else { throw AccordError(.forbidden, "'\(handle)' is disabled") }
        guard let hash = try row.decode(String?.self, "password_hash") else {
            throw AccordError(.forbidden, "\(handle) has no password, so cannot sign; an administrator sets one")
        }
        guard password.utf8.count <= SessionPolicy.maxPasswordLength else {
            throw AccordError(.invalid, "a password has at most \(SessionPolicy.maxPasswordLength) bytes")
        }
        let policy = ThrottlePolicy.signing
        let matches: Bool
        let failures: Int
        do {
            (matches, failures) = try await throttled([ThrottleKey(key: "sign:\(person.id)", policy: policy)]) {
                try await verifyPassword(password, hash: hash, purpose: .signing)
            }
        } catch let blocked as ThrottleBlocked {
            throw AccordError(
                .locked,
                "signing is locked for \(handle) until \(ISO8601DateFormatter().string(from: blocked.until)) after \(signingLockThreshold) wrong passwords"
            )
        }
        guard matches else {
            try await pool.withTransaction { connection in
                try await connection.appendAudit(
                    AuditRecord(
                        chain: organisationChain,
                        actor: handle,
                        action: "sign.password-refused",
                        objectType: "person",
                        objectID: handle
                    )
                )
            }
            if let block = policy.block(after: failures) {
                throw AccordError(
                    .unauthenticated,
                    "wrong password; signing is now locked for \(handle) for \(block.components.seconds / 60) minutes"
                )
            }
            throw AccordError(
                .unauthenticated,
                "wrong password; \(refused) (\(failures) of \(policy.limit) before signing locks for \(signingLockDuration))"
            )
        }
        return person
    }

    /// A task's signatures, oldest first.
    public func signatures(of ref: String, actor: String?) async throws -> [SignatureRecord] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await connection.query(SignatureSQL.forTask, [id]).map(SignatureRecord.init(row:))
        }
    }
}

struct SignatureAuditRecord: Encodable {
    var signature: Int64
    var decision: String
    var meaning: String
    var role: String
    var onBehalfOf: String?
    var evidenceVersion: Int
    var subject: String
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
