public import AccordCore
import AccordPack
public import Foundation
import NIOConcurrencyHelpers
import Postgres

/// The outcome of `accord audit verify`.
public struct AuditVerification: Codable, Sendable, Equatable {
    public struct Chain: Codable, Sendable, Equatable {
        public var chain: String
        public var entries: Int
        public var verified: Int
        /// Whether a checkpoint was checked against this chain.
        public var checkpointChecked: Bool
    }
    public var chains: [Chain]
    public var signatures: Int
    public var evidence: Int
    /// Each problem found, naming the entry, signature or evidence; empty when all holds.
    public var problems: [String]
    public var ok: Bool { problems.isEmpty }
}

enum VerifySQL {
    static let chainLength = "SELECT length FROM accord.audit_chain WHERE chain = $1"
    static let entryHash = "SELECT hash FROM accord.audit_entry WHERE chain = $1 AND seq = $2"
    static let evidenceIntegrity: PostgresStatement = .perCall(
        "verify_evidence",
        """
        SELECT e.id, e.title, e.version, sha256(e.content) = e.sha256 AS intact FROM accord.evidence e
        JOIN accord.task t ON t.id = e.task_id WHERE ($1::bigint IS NULL OR t.program_id = $1) ORDER BY e.id
        """
    )
    static let signedAudit = """
        SELECT (after::jsonb ->> 'signature')::bigint AS signature FROM accord.audit_entry
        WHERE chain = $1 AND action IN ('task.sign', 'task.reject-signature')
        """
    /// Every done task with the approvals of its current round and evidence version, for re-evaluating
    /// its policy: the state column can be written by anyone with the app's rights, the signatures cannot.
    static let doneTasks: PostgresStatement = .perCall(
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
        """
    )
    /// What a verification covers, cheaply: each chain's length and head, and the signatures, evidence and
    /// done tasks in scope. $1 the chains, $2 the program (NULL for all).
    static let fingerprint: PostgresStatement = .perCall(
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
        """
    )
    static let head = """
        SELECT c.length, c.head_hash, now() AS at FROM accord.audit_chain c WHERE c.chain = $1
        """
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
            guard acting.isAdmin else { throw AccordError(.forbidden, "verifying every chain is for administrators; name a program with --program") }
            return (try await connection.query(AuditSQL.chains).map { try $0.decode(String.self, "chain") }, nil)
        }
        var fingerprint: String?
        if let reuseWithin, checkpoints.isEmpty {
            let key = try await pool.withConnection {
                try await $0.query(VerifySQL.fingerprint, [PostgresArray(chains), programID])[0].decode(String.self, "fingerprint")
            }
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
            let entries = try await pool.withConnection {
                try await $0.query(VerifySQL.chainLength, [chain]).firstRow?.decode(Int.self, "length") ?? 0
            }
            var checked = false
            if let problem = verification.problem { result.problems.append("\(chain): \(problem)") }
            for checkpoint in checkpoints where checkpoint.chain == chain {
                checked = true
                result.problems += try await check(checkpoint, verifiedEntries: verification.verified)
            }
            result.chains.append(.init(chain: chain, entries: entries, verified: verification.verified, checkpointChecked: checked))
        }
        for checkpoint in checkpoints where !chains.contains(checkpoint.chain) && everyChain {
            result.problems.append("\(checkpoint.chain): the checkpoint names a chain the database does not have: it was removed")
        }
        try await pool.withConnection { connection in
            let rows = try await connection.query(programID == nil ? SignatureSQL.all : SignatureSQL.forProgram, programID.map { [$0] } ?? [])
            var audited: [String: Set<Int64>] = [:]
            for row in rows {
                result.signatures += 1
                let record = try SignatureRecord(row: row)
                let chain = programChain(try row.decode(String.self, "program"))
                if audited[chain] == nil {
                    audited[chain] = Set(
                        try await connection.query(VerifySQL.signedAudit, [chain]).compactMap { try $0.decode(Int64?.self, "signature") }
                    )
                }
                let content = SignatureContent(
                    taskID: try row.decode(Int64.self, "task_id"),
                    taskRef: record.task,
                    reviewRound: record.reviewRound,
                    evidenceVersion: record.evidenceVersion,
                    signer: record.signer,
                    printedName: record.printedName,
                    signedAtMicros: try row.decode(Int64.self, "signed_at_us"),
                    decision: record.decision.rawValue,
                    meaning: record.meaning.rawValue,
                    comment: record.comment,
                    role: record.role,
                    onBehalfOf: record.onBehalfOf,
                    authMethod: record.authMethod,
                    subjectSHA256: try row.decode([UInt8].self, "subject_sha256")
                )
                let keyID = try row.decode(String.self, "key_id")
                if keyID != auditKey.id {
                    result.problems.append(
                        "signature \(record.id) on \(record.task) was made with another audit key (\(keyID)); verify with that key"
                    )
                } else if !auditKey.verify(try row.decode([UInt8].self, "mac"), for: content.canonicalBytes) {
                    result.problems.append(
                        "signature \(record.id) on \(record.task) by \(record.signer) does not match its MAC: it was altered, forged or copied"
                    )
                }
                if audited[chain]?.contains(record.id) != true {
                    result.problems.append("signature \(record.id) on \(record.task) has no audit entry: it was inserted outside Accord")
                }
                let digests = try await connection.query(EvidenceSQL.digestsAt, [content.taskID, record.evidenceVersion]).map {
                    EvidenceDigest(
                        title: try $0.decode(String.self, "title"),
                        version: try $0.decode(Int.self, "version"),
                        sha256: hexString(try $0.decode([UInt8].self, "sha256"))
                    )
                }
                let subject = SignedSubject(taskID: content.taskID, taskRef: record.task, evidenceVersion: record.evidenceVersion, evidence: digests)
                if hexString(subject.sha256) != record.subjectSHA256 {
                    result.problems.append("signature \(record.id) on \(record.task) no longer matches the evidence it signed")
                }
            }
            result.problems += try await Self.unapprovedDoneTasks(program: programID, on: connection)
            for row in try await connection.query(VerifySQL.evidenceIntegrity, [programID]) {
                result.evidence += 1
                if try !row.decode(Bool.self, "intact") {
                    result.problems.append(
                        "evidence \(try row.decode(Int64.self, "id")) ('\(try row.decode(String.self, "title"))' version \(try row.decode(Int.self, "version"))) does not match its SHA-256"
                    )
                }
            }
        }
        return result
    }

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
        for row in try await connection.query(VerifySQL.doneTasks, [program]) {
            let workflowID = try row.decode(String.self, "workflow_id")
            let current = try row.decode(Int.self, "workflow_version")
            let key = try row.decode(String.self, "template_key")
            var policies: [ApprovalPolicy?] = []
            for version in stride(from: current, through: 1, by: -1) {
                guard let workflow = try? await Self.workflow(workflowID, version: version, on: connection), let template = workflow.task(key) else {
                    continue
                }
                policies.append(template.approval)
            }
            let ref = try row.decode(String.self, "ref")
            guard !policies.isEmpty else {
                checks.append(
                    DoneTaskCheck(
                        task: ref,
                        policies: [],
                        standing: "its template '\(key)' is in no version of workflow \(workflowID) up to \(current)"
                    )
                )
                continue
            }
            // A template that never needed a sign-off is done when submitted.
            if policies.contains(where: { $0 == nil }) { continue }
            // The state, round and evidence version are columns the application may write: the task must also
            // have got to done by an approval recorded in its chain, and sign its newest evidence.
            var standing: String?
            if try row.decode(String?.self, "last_transition") != "task.approve" {
                standing = "its audit chain does not record it reaching done by an approval"
            } else if let latest = try row.decode(Int?.self, "latest_evidence"), latest != (try row.decode(Int.self, "evidence_version")) {
                standing =
                    "it points at evidence version \(try row.decode(Int.self, "evidence_version")), but its newest evidence is version \(latest)"
            }
            let approvals = try JSONDecoder().decode([Approval].self, from: Data(try row.decode(String.self, "approvals").utf8))
                .map { CountedApproval(role: $0.role ?? "", signerID: $0.signer, onBehalfOf: $0.for) }
            checks.append(
                DoneTaskCheck(
                    task: ref,
                    assigneeID: try row.decode(Int64?.self, "assignee_id"),
                    submitterID: try row.decode(Int64?.self, "submitted_by"),
                    assignee: try row.decode(String?.self, "assignee"),
                    submitter: try row.decode(String?.self, "submitter"),
                    policies: policies.compactMap { $0 },
                    approvals: approvals,
                    standing: standing
                )
            )
        }
        return checks
    }

    private func check(_ checkpoint: Checkpoint, verifiedEntries: Int) async throws -> [String] {
        guard checkpoint.isAuthentic(under: auditKey) else {
            return [
                "\(checkpoint.chain): the checkpoint's MAC does not match under this audit key (key \(auditKey.id), checkpoint key \(checkpoint.keyID)); it cannot be trusted"
            ]
        }
        return try await pool.withConnection { connection in
            let length = try await connection.query(VerifySQL.chainLength, [checkpoint.chain]).firstRow?.decode(Int64.self, "length") ?? 0
            let count = try await connection.query("SELECT count(*) AS n FROM accord.audit_entry WHERE chain = $1", [checkpoint.chain])[0].decode(
                Int64.self,
                "n"
            )
            guard max(length, count) >= checkpoint.position else {
                return [
                    "\(checkpoint.chain): the chain was cut: it has \(count) entries, but the checkpoint of \(checkpoint.at) saw \(checkpoint.position)"
                ]
            }
            guard let row = try await connection.query(VerifySQL.entryHash, [checkpoint.chain, checkpoint.position]).firstRow else {
                return ["\(checkpoint.chain): entry \(checkpoint.position), the checkpoint's head, is missing"]
            }
            if hexString(try row.decode([UInt8].self, "hash")) != checkpoint.headSHA256 {
                return ["\(checkpoint.chain): entry \(checkpoint.position) differs from the checkpoint of \(checkpoint.at): the chain was rewritten"]
            }
            return []
        }
    }

    /// Checkpoints of the program's chain (or of every chain), authenticated with the audit key, to keep outside
    /// the database. Taking one is itself recorded in the organisation chain, so the audit page can say when.
    public func checkpoints(program slug: String?, actor: String?) async throws -> [Checkpoint] {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            var chains: [String]
            if let slug {
                _ = try await Self.visibleProgram(slug, for: acting, on: connection)
                chains = [programChain(slug)]
            } else {
                guard acting.isAdmin else {
                    throw AccordError(.forbidden, "checkpoints of every chain are for administrators; name a program with --program")
                }
                chains = try await connection.query(AuditSQL.chains).map { try $0.decode(String.self, "chain") }
            }
            let checkpoints = try await chains.asyncMap { chain in
                let row = try await connection.query(VerifySQL.head, [chain])[0]
                return Checkpoint(
                    chain: chain,
                    position: try row.decode(Int64.self, "length"),
                    headSHA256: hexString(try row.decode([UInt8]?.self, "head_hash") ?? []),
                    at: try row.decode(Date.self, "at"),
                    key: auditKey
                )
            }
            for checkpoint in checkpoints {
                try await connection.appendAudit(
                    AuditRecord(
                        chain: organisationChain,
                        actor: acting.handle,
                        action: "audit.checkpoint",
                        objectType: "chain",
                        objectID: checkpoint.chain,
                        after: auditJSON(["position": String(checkpoint.position), "head": checkpoint.headSHA256])
                    )
                )
            }
            return checkpoints
        }
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

/// A chain's state for the audit page.
public struct ChainStatus: Codable, Sendable, Equatable {
    public var program: String
    public var chain: String
    public var entries: Int
    public var verified: Int
    public var problem: String?
    public var headSHA256: String
    /// When a checkpoint of this chain was last taken, and at which position.
    public var lastCheckpointAt: Date?
    public var lastCheckpointPosition: Int?
    public var latest: [AuditEntry]
}

enum AuditPageSQL {
    static let lastCheckpoint = """
        SELECT recorded_at, (after::jsonb ->> 'position')::bigint AS position FROM accord.audit_entry
        WHERE chain = 'org' AND action = 'audit.checkpoint' AND object_id = $1 ORDER BY seq DESC LIMIT 1
        """
}

extension Store {
    /// Every visible program's chain: verified count, head, last checkpoint and latest entries.
    public func chainStatuses(actor: String?, latest: Int = 10) async throws -> [ChainStatus] {
        var statuses: [ChainStatus] = []
        for program in try await programs(actor: actor) {
            let chain = programChain(program.slug)
            let verification = try await verifyChain(chain, reuseWithin: .seconds(300))
            let checkpoint = try await pool.withConnection { try await $0.query(AuditPageSQL.lastCheckpoint, [chain]).firstRow }
            statuses.append(
                ChainStatus(
                    program: program.slug,
                    chain: chain,
                    entries: verification.entries,
                    verified: verification.verified,
                    problem: verification.problem,
                    headSHA256: verification.headSHA256,
                    lastCheckpointAt: try checkpoint?.decode(Date.self, "recorded_at"),
                    lastCheckpointPosition: try checkpoint?.decode(Int.self, "position"),
                    latest: try await latestAuditEntries(chain: chain, limit: latest)
                )
            )
        }
        return statuses
    }
}

/// A verification result and what it covered, for `verifyAudit(reuseWithin:)`.
struct CachedVerification: Sendable {
    var fingerprint: String
    var at: ContinuousClock.Instant
    var result: AuditVerification
}

/// A chain's verification and the head it reached, for `verifyChain(_:reuseWithin:)`.
struct CachedChain: Sendable {
    var length: Int64
    var head: [UInt8]?
    var at: ContinuousClock.Instant
    var result: ChainVerification
}

extension Store {
    /// `verifyChain`, answered again from the last run within `reuseWithin` while the chain's length and
    /// head are what that run saw (the audit page: it shows every chain on every visit).
    public func verifyChain(_ chain: String, reuseWithin: Duration) async throws -> ChainVerification {
        let row = try await pool.withConnection { try await $0.query(VerifySQL.head, [chain]).firstRow }
        let length = try row?.decode(Int64.self, "length") ?? 0
        let head = try row?.decode([UInt8]?.self, "head_hash")
        if let cached = chainCache.withLockedValue({ $0[chain] }), cached.length == length, cached.head == head,
            cached.at.duration(to: .now) < reuseWithin
        {
            return cached.result
        }
        let result = try await verifyChain(chain)
        chainCache.withLockedValue { $0[chain] = CachedChain(length: length, head: head, at: .now, result: result) }
        return result
    }
}
