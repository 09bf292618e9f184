public import AccordCore
import AccordPack
import Foundation
import NIOConcurrencyHelpers
import Postgres

/// The outcome of `accord audit verify`.
public struct AuditVerification: Codable, Sendable, Equatable {
    /// What was verified of one chain.
    public struct Chain: Codable, Sendable, Equatable {
        /// The chain's name (`org`, `program:SLUG`).
        public var chain: String
        /// The chain's recorded length.
        public var entries: Int
        /// Entries whose links held.
        public var verified: Int
        /// Whether a checkpoint was checked against this chain.
        public var checkpointChecked: Bool
    }
    /// Every chain verified, in order.
    public var chains: [Chain]
    /// Signatures whose MAC, audit entry and evidence binding were checked.
    public var signatures: Int
    /// Evidence versions checked against their SHA-256.
    public var evidence: Int
    /// Each problem found, naming the entry, signature or evidence; empty when all holds.
    public var problems: [String]
    /// Whether nothing was found wrong.
    public var ok: Bool { problems.isEmpty }
}

enum VerifySQL {
    static let chainLength = PostgresQuery<String, Int64>("verify_chain_length", "SELECT length FROM accord.audit_chain WHERE chain = $1") {
        try $0.decode(Int64.self, "length")
    }
    static let entryHash = PostgresQuery<String, Int64, [UInt8]>(
        "verify_entry_hash",
        "SELECT hash FROM accord.audit_entry WHERE chain = $1 AND seq = $2"
    ) { try $0.decode([UInt8].self, "hash") }
    static let evidenceIntegrity = PostgresQuery<Int64?, (id: Int64, title: String, version: Int, intact: Bool)>(
        "verify_evidence",
        """
        SELECT e.id, e.title, e.version, sha256(e.content) = e.sha256 AS intact FROM accord.evidence e
        JOIN accord.task t ON t.id = e.task_id WHERE ($1::bigint IS NULL OR t.program_id = $1) ORDER BY e.id
        """,
        planning: .perCall
    ) {
        (
            id: try $0.decode(Int64.self, "id"), title: try $0.decode(String.self, "title"), version: try $0.decode(Int.self, "version"),
            intact: try $0.decode(Bool.self, "intact")
        )
    }
    /// The signatures the chain's sign and reject entries name.
    static let signedAudit = PostgresQuery<String, Int64?>(
        "verify_signed_audit",
        """
        SELECT (after::jsonb ->> 'signature')::bigint AS signature FROM accord.audit_entry
        WHERE chain = $1 AND action IN ('task.sign', 'task.reject-signature')
        """
    ) { try $0.decode(Int64?.self, "signature") }
    /// Every done task with the approvals of its current round and evidence version, for re-evaluating
    /// its policy: the state column can be written by anyone with the app's rights, the signatures cannot.
    static let doneTasks = PostgresQuery<Int64?, DoneTaskRow>(
        "verify_done_tasks",
        """
        SELECT t.id, accord.task_ref(p.slug, t.template_key, sy.slug, t.instance) AS ref, t.template_key, t.assignee_id, t.submitted_by,
               a.handle AS assignee, sb.handle AS submitter, p.workflow_id, p.workflow_version,
               coalesce((SELECT json_agg(json_build_object('role', s.role, 'signer', s.signer_id, 'for', s.on_behalf_of) ORDER BY s.id)
                         FROM accord.signature s
                         WHERE s.task_id = t.id AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version
                           AND s.decision = 'approve'), '[]')::text AS approvals,
               t.evidence_version, (SELECT max(e.task_version) FROM accord.evidence e WHERE e.task_id = t.id) AS latest_evidence,
               (SELECT a.action FROM accord.audit_entry a
                WHERE a.object_type = 'task' AND a.object_id = accord.task_ref(p.slug, t.template_key, sy.slug, t.instance)
                  AND a.chain = 'program:' || p.slug AND (a.after::jsonb ? 'state')
                ORDER BY a.seq DESC LIMIT 1) AS last_transition
        FROM accord.task t JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system sy ON sy.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id LEFT JOIN accord.person sb ON sb.id = t.submitted_by
        WHERE t.state = 'done' AND ($1::bigint IS NULL OR t.program_id = $1)
        ORDER BY t.id
        """,
        planning: .perCall,
        row: DoneTaskRow.init(row:)
    )
    /// What a verification covers, cheaply: each chain's length and head, and the signatures, evidence and
    /// done tasks in scope. $1 the chains, $2 the program (NULL for all).
    static let fingerprint = PostgresQuery<PostgresArray<String>, Int64?, String>(
        "verify_fingerprint",
        """
        SELECT coalesce((SELECT string_agg(c.chain || ':' || c.length || ':' || coalesce(encode(c.head_hash, 'hex'), ''), ',' ORDER BY c.chain)
                         FROM accord.audit_chain c WHERE c.chain = ANY($1::text[])), '')
            || '|' || (SELECT count(*) || ':' || coalesce(max(s.id), 0) FROM accord.signature s JOIN accord.task t ON t.id = s.task_id
                       WHERE $2::bigint IS NULL OR t.program_id = $2)
            || '|' || (SELECT count(*) || ':' || coalesce(max(e.id), 0) FROM accord.evidence e JOIN accord.task t ON t.id = e.task_id
                       WHERE $2::bigint IS NULL OR t.program_id = $2)
            || '|' || (SELECT count(*) || ':' || coalesce(md5(string_agg(t.id || '/' || t.review_round || '/' || t.evidence_version, ',' ORDER BY t.id)), '')
                       FROM accord.task t WHERE t.state = 'done' AND ($2::bigint IS NULL OR t.program_id = $2)) AS fingerprint
        """,
        planning: .perCall
    ) { try $0.decode(String.self, "fingerprint") }
    /// A chain's length and head hash, and the time they were read.
    static let head = PostgresQuery<String, (length: Int64, hash: [UInt8]?, at: Date)>(
        "verify_chain_head",
        """
        SELECT c.length, c.head_hash, now() AS at FROM accord.audit_chain c WHERE c.chain = $1
        """
    ) { (length: try $0.decode(Int64.self, "length"), hash: try $0.decode([UInt8]?.self, "head_hash"), at: try $0.decode(Date.self, "at")) }

    static let catalogue: [any PostgresCheckable] = [chainLength, entryHash, evidenceIntegrity, signedAudit, doneTasks, fingerprint, head]
}

extension Store {
    /// Recomputes every link of the program's chain (or of every chain), checks each signature's MAC
    /// with the audit key and its binding to the evidence it names, each evidence file against its
    /// SHA-256, and, with checkpoints, that no chain was cut or rewritten since. Names each problem.
    ///
    /// - Parameter reuseWithin: a result computed within this long is answered again while nothing it
    ///   covers has moved (chain heads, signature, evidence and done-task counts): the API and the audit
    ///   page use it, so that asking again and again does not rehash everything each time. The CLI never does.
    public func verifyAudit(
        program slug: String?,
        checkpoints: [Checkpoint] = [],
        actor: String?,
        reuseWithin: Duration? = nil
    ) async throws -> AuditVerification {
        let (chains, programID): ([String], Int64?) = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let slug {
                let program = try await Self.visibleProgram(slug, for: acting, on: connection)
                return ([programChain(slug)], program.id)
            }
            guard acting.isAdmin else { throw AccordError(.forbidden, "verifying every chain is for administrators", remedy: .nameProgram) }
            return (try await connection.query(AuditSQL.chains), nil)
        }
        var fingerprint: String?
        if let reuseWithin, checkpoints.isEmpty {
            let key = try await pool.withConnection { try await $0.queryOne(VerifySQL.fingerprint, PostgresArray(chains), programID) }
            fingerprint = key
            if let cached = verificationCache.withLockedValue({ $0[slug ?? "*"] }), cached.fingerprint == key,
                cached.at.duration(to: .now) < reuseWithin
            {
                return cached.result
            }
        }
        let result = try await verifyAuditNow(chains: chains, programID: programID, checkpoints: checkpoints, everyChain: slug == nil)
        if let fingerprint {
            verificationCache.withLockedValue { $0[slug ?? "*"] = CachedVerification(fingerprint: fingerprint, at: .now, result: result) }
        }
        return result
    }

    private func verifyAuditNow(chains: [String], programID: Int64?, checkpoints: [Checkpoint], everyChain: Bool) async throws -> AuditVerification {
        var result = AuditVerification(chains: [], signatures: 0, evidence: 0, problems: [])
        for chain in chains {
            let verification = try await verifyChain(chain)
            let entries = try await pool.withConnection { try await $0.queryFirst(VerifySQL.chainLength, chain).map(Int.init) ?? 0 }
            var checked = false
            if let problem = verification.problem { result.problems.append("\(chain): \(problem)") }
            for checkpoint in checkpoints where checkpoint.chain == chain {
                checked = true
                result.problems += try await checkpointProblems(checkpoint, verifiedEntries: verification.verified)
            }
            result.chains.append(.init(chain: chain, entries: entries, verified: verification.verified, checkpointChecked: checked))
        }
        for checkpoint in checkpoints where !chains.contains(checkpoint.chain) && everyChain {
            result.problems.append("\(checkpoint.chain): the checkpoint names a chain the database does not have: it was removed")
        }
        try await pool.withConnection { connection in
            let signatures =
                if let programID { try await connection.query(SignatureSQL.forProgram, programID) } else {
                    try await connection.query(SignatureSQL.all)
                }
            var audited: [String: Set<Int64>] = [:]
            for stored in signatures {
                result.signatures += 1
                let record = stored.record
                let chain = programChain(stored.program)
                if audited[chain] == nil {
                    audited[chain] = Set(try await connection.query(VerifySQL.signedAudit, chain).compactMap { $0 })
                }
                let content = SignatureContent(
                    taskID: stored.taskID,
                    taskRef: record.task,
                    reviewRound: record.reviewRound,
                    evidenceVersion: record.evidenceVersion,
                    signer: record.signer,
                    printedName: record.printedName,
                    signedAtMicros: stored.signedAtMicros,
                    decision: record.decision.rawValue,
                    meaning: record.meaning.rawValue,
                    comment: record.comment,
                    role: record.role,
                    onBehalfOf: record.onBehalfOf,
                    authMethod: record.authMethod,
                    subjectSHA256: stored.subjectSHA256
                )
                let keyID = stored.keyID
                if keyID != auditKey.id {
                    result.problems.append(
                        "signature \(record.id) on \(record.task) was made with another audit key (\(keyID)); verify with that key"
                    )
                } else if !auditKey.verify(stored.mac, for: content.canonicalBytes) {
                    result.problems.append(
                        "signature \(record.id) on \(record.task) by \(record.signer) does not match its MAC: it was altered, forged or copied"
                    )
                }
                if audited[chain]?.contains(record.id) != true {
                    result.problems.append("signature \(record.id) on \(record.task) has no audit entry: it was inserted outside Accord")
                }
                let digests = try await connection.query(EvidenceSQL.digestsAt, content.taskID, record.evidenceVersion)
                let subject = SignedSubject(taskID: content.taskID, taskRef: record.task, evidenceVersion: record.evidenceVersion, evidence: digests)
                if hexString(subject.sha256) != record.subjectSHA256 {
                    result.problems.append("signature \(record.id) on \(record.task) no longer matches the evidence it signed")
                }
            }
            result.problems += try await Self.unapprovedDoneTasks(program: programID, on: connection)
            for evidence in try await connection.query(VerifySQL.evidenceIntegrity, programID) {
                result.evidence += 1
                if !evidence.intact {
                    result.problems.append(
                        "evidence \(evidence.id) ('\(evidence.title)' version \(evidence.version)) does not match its SHA-256"
                    )
                }
            }
        }
        return result
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
