import AccordCore
import Foundation
import Postgres

/// The would-be signer, as the password check reads them.
struct SignerRow {
    var person: Person
    var passwordHash: String?
    /// Whether local passwords are on, or the signer is a break-glass administrator.
    var passwordAllowed: Bool
}

/// The task to sign, locked, with what signing needs of its program and of the signer's standing.
struct SigningTaskRow {
    var task: TaskRow
    var program: ProgramRow
    /// The checksum of the program's workflow version.
    var checksum: String
    var reviewRound: Int
    var evidenceVersion: Int
    var submittedBy: Int64?
    /// The transaction's `now()`, in microseconds since 1970 (what the signature's MAC covers) and as a date.
    var nowMicros: Int64
    var now: Date
    /// Whether the signer holds a role in the program.
    var member: Bool
    /// Whether the signer is not disabled.
    var signerActive: Bool
}

/// A signature of the task's current round and evidence version.
struct RoundSignature {
    var id: Int64
    var role: String
    var signerID: Int64
    var onBehalfOf: Int64?
    var decision: SigningDecision
}

/// One line of the signer's authority in a program: a role they hold, sign for as a deputy, or have delegated away.
enum SigningStanding {
    case held(role: String)
    /// Delegated to the signer by its holder.
    case deputy(role: String, delegationID: Int64, holder: SigningAuthority.Holder)
    /// Delegated by the signer to `deputy`, who signs for it meanwhile.
    case away(role: String, deputy: String)
}

/// A signature with the stored columns verification and evidence packs read besides the record.
struct StoredSignature {
    var record: SignatureRecord
    var taskID: Int64
    /// The program's slug.
    var program: String
    var signedAtMicros: Int64
    var keyID: String
    var mac: [UInt8]
    var subjectSHA256: [UInt8]
}

enum SignatureSQL {
    static let signer = PostgresQuery<String, SignerRow>(
        "signature_signer",
        """
        SELECT p.id, p.handle, p.name, p.email, p.is_admin, p.password_hash, p.password_hash IS NOT NULL AS can_sign,
               p.disabled_at IS NOT NULL AS disabled, p.time_zone,
               (SELECT local_passwords FROM accord.sso_setting) OR (p.break_glass AND p.is_admin) AS password_allowed
        FROM accord.person p WHERE p.handle = $1
        """
    ) {
        SignerRow(
            person: try Person(row: $0),
            passwordHash: try $0.decode(String?.self, "password_hash"),
            passwordAllowed: try $0.decode(Bool.self, "password_allowed")
        )
    }
    /// The task to sign, locked, with its program, workflow checksum, review state and the signer's standing.
    static let lockedForSigning = PostgresQuery<Int64, Int64, SigningTaskRow>(
        "signature_locked_for_signing",
        """
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
        """,
        row: SigningTaskRow.init(row:)
    )
    /// Read after the lock, in the same round trip (its own statement, so its own snapshot sees every
    /// signature committed before the lock was granted): the current round's signatures.
    static let roundNow = PostgresQuery<Int64, RoundSignature>(
        "signature_round_now",
        """
        SELECT s.id, s.role, s.signer_id, s.on_behalf_of, s.decision FROM accord.signature s JOIN accord.task t ON t.id = s.task_id
        WHERE s.task_id = $1 AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version ORDER BY s.id
        """
    ) {
        RoundSignature(
            id: try $0.decode(Int64.self, "id"),
            role: try $0.decode(String.self, "role"),
            signerID: try $0.decode(Int64.self, "signer_id"),
            onBehalfOf: try $0.decode(Int64?.self, "on_behalf_of"),
            decision: try $0.decode(SigningDecision.self, "decision")
        )
    }
    /// The signer's authority in the task's program now: the roles they hold ('held'), those delegated to
    /// them ('deputy', with the delegation and its holder), and those they have delegated to someone
    /// else ('away', with the deputy), which they do not sign for while the delegation is in force.
    static let authorityNow = PostgresQuery<Int64, Int64, SigningStanding>(
        "signature_authority_now",
        """
        SELECT 'held' AS kind, role, NULL::bigint AS delegation_id, NULL::bigint AS other_id, NULL::text AS other_handle
        FROM accord.role_binding WHERE program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND person_id = $2
        UNION ALL
        SELECT 'deputy', d.role, d.id, f.id, f.handle FROM accord.delegation d JOIN accord.person f ON f.id = d.from_id
        WHERE d.program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND d.to_id = $2 AND \(DelegationSQL.inForce)
        UNION ALL
        SELECT 'away', d.role, d.id, t.id, t.handle FROM accord.delegation d JOIN accord.person t ON t.id = d.to_id
        WHERE d.program_id = (SELECT program_id FROM accord.task WHERE id = $1) AND d.from_id = $2 AND \(DelegationSQL.inForce)
        ORDER BY 3 NULLS FIRST
        """,
        row: SigningStanding.init(row:)
    )
    /// The evidence the signature binds: the task's current version.
    static let digestsNow = PostgresQuery<Int64, (digest: EvidenceDigest, uploadedBy: Int64)>(
        "signature_digests_now",
        """
        SELECT DISTINCT ON (e.title) e.title, e.version, e.sha256, e.uploaded_by
        FROM accord.evidence e JOIN accord.task t ON t.id = e.task_id
        WHERE e.task_id = $1 AND e.task_version <= t.evidence_version ORDER BY e.title, e.version DESC
        """
    ) { (digest: try EvidenceDigest(row: $0), uploadedBy: try $0.decode(Int64.self, "uploaded_by")) }
    /// The signature's id, taken before the decision so that everything written after it can go in one round trip.
    static let nextID = PostgresQuery<Int64>(
        "signature_next_id",
        "SELECT nextval(pg_get_serial_sequence('accord.signature', 'id')) AS next_id"
    ) { try $0.decode(Int64.self, "next_id") }
    static let approvals = PostgresQuery<Int64, Int, Int, CountedApproval>(
        "signature_approvals",
        """
        SELECT role, signer_id FROM accord.signature
        WHERE task_id = $1 AND review_round = $2 AND evidence_version = $3 AND decision = 'approve' ORDER BY id
        """
    ) { CountedApproval(role: try $0.decode(String.self, "role"), signerID: try $0.decode(Int64.self, "signer_id")) }
    static let insert = PostgresCommand<
        Int64, Int, Int, Int64, String, Date, SigningDecision, SignatureMeaning, String?, String, Int64?, Int64?, String, [UInt8], String,
        [UInt8], Int64
    >(
        "signature_insert",
        """
        INSERT INTO accord.signature (id, task_id, review_round, evidence_version, signer_id, printed_name, signed_at, decision, meaning, comment,
                                      role, on_behalf_of, delegation_id, auth_method, subject_sha256, key_id, mac)
        OVERRIDING SYSTEM VALUE
        VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """
    )
    /// The columns `SignatureRecord` and `StoredSignature` read, from the signature `s` with its task `t`.
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
    static let byID = PostgresQuery<Int64, SignatureRecord>("signature_by_id", "\(columns)\nWHERE s.id = $1", row: SignatureRecord.init(row:))
    static let forTask = PostgresQuery<Int64, SignatureRecord>(
        "signature_for_task",
        "\(columns)\nWHERE s.task_id = $1 ORDER BY s.id",
        row: SignatureRecord.init(row:)
    )
    static let forProgram = PostgresQuery<Int64, StoredSignature>(
        "signature_for_program",
        "\(columns)\nWHERE pr.id = $1 ORDER BY s.id",
        row: StoredSignature.init(row:)
    )
    static let all = PostgresQuery<StoredSignature>("signature_all", "\(columns)\nORDER BY s.id", row: StoredSignature.init(row:))

    static let catalogue: [any PostgresCheckable] = [
        signer, lockedForSigning, roundNow, authorityNow, digestsNow, nextID, approvals, insert, byID, forTask, forProgram, all,
    ]
}

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

extension StoredSignature {
    init(row: PostgresRow) throws {
        self.init(
            record: try SignatureRecord(row: row),
            taskID: try row.decode(Int64.self, "task_id"),
            program: try row.decode(String.self, "program"),
            signedAtMicros: try row.decode(Int64.self, "signed_at_us"),
            keyID: try row.decode(String.self, "key_id"),
            mac: try row.decode([UInt8].self, "mac"),
            subjectSHA256: try row.decode([UInt8].self, "subject_sha256")
        )
    }
}

extension SigningTaskRow {
    init(row: PostgresRow) throws {
        self.init(
            task: try TaskRow(row: row),
            program: ProgramRow(
                id: try row.decode(Int64.self, "program_id"),
                slug: try row.decode(String.self, "program"),
                title: try row.decode(String.self, "program_title"),
                workflowID: try row.decode(String.self, "workflow_id"),
                workflowVersion: try row.decode(Int.self, "workflow_version"),
                startsOn: try row.decode(CalendarDateColumn.self, "starts_on").date
            ),
            checksum: try row.decode(String.self, "checksum"),
            reviewRound: try row.decode(Int.self, "review_round"),
            evidenceVersion: try row.decode(Int.self, "evidence_version"),
            submittedBy: try row.decode(Int64?.self, "submitted_by"),
            nowMicros: try row.decode(Int64.self, "now_us"),
            now: try row.decode(Date.self, "now"),
            member: try row.decode(Bool.self, "member"),
            signerActive: try row.decode(Bool.self, "signer_active")
        )
    }
}

extension SigningStanding {
    init(row: PostgresRow) throws {
        let role = try row.decode(String.self, "role")
        switch try row.decode(String.self, "kind") {
        case "held":
            self = .held(role: role)
        case "away":
            self = .away(role: role, deputy: try row.decode(String.self, "other_handle"))
        default:
            self = .deputy(
                role: role,
                delegationID: try row.decode(Int64.self, "delegation_id"),
                holder: SigningAuthority.Holder(id: try row.decode(Int64.self, "other_id"), handle: try row.decode(String.self, "other_handle"))
            )
        }
    }
}

/// What the sign path reads in its first round trip, after the lock.
struct SigningReads {
    /// The task, locked; `nil` when there is no such task.
    var task: SigningTaskRow?
    var round: [RoundSignature]
    var standing: [SigningStanding]
    var digests: [(digest: EvidenceDigest, uploadedBy: Int64)]
    var signatureID: Int64

    /// From the pipeline's results, in its order.
    init(
        task: [SigningTaskRow],
        round: [RoundSignature],
        standing: [SigningStanding],
        digests: [(digest: EvidenceDigest, uploadedBy: Int64)],
        nextID: [Int64]
    ) throws {
        guard let signatureID = nextID.first else { throw PostgresError(.decoding, "statement 'signature_next_id' returned no row") }
        self.task = task.first
        self.round = round
        self.standing = standing
        self.digests = digests
        self.signatureID = signatureID
    }
}
