import AccordCore
import Foundation
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
    static let evidenceIntegrity = """
        SELECT e.id, e.title, e.version, sha256(e.content) = e.sha256 AS intact FROM accord.evidence e
        JOIN accord.task t ON t.id = e.task_id WHERE ($1::bigint IS NULL OR t.program_id = $1) ORDER BY e.id
        """
    static let signedAudit = """
        SELECT (after::jsonb ->> 'signature')::bigint AS signature FROM accord.audit_entry
        WHERE chain = $1 AND action IN ('task.sign', 'task.reject-signature')
        """
    static let head = """
        SELECT c.length, c.head_hash, now() AS at FROM accord.audit_chain c WHERE c.chain = $1
        """
}

extension Store {
    /// Recomputes every link of the program's chain (or of every chain), checks each signature's MAC
    /// with the audit key and its binding to the evidence it names, each evidence file against its
    /// SHA-256, and, with checkpoints, that no chain was cut or rewritten since. Names each problem.
    public func verifyAudit(program slug: String?, checkpoints: [Checkpoint] = [], actor: String?) async throws -> AuditVerification {
        let (chains, programID): ([String], Int64?) = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let slug {
                let program = try await Self.visibleProgram(slug, for: acting, on: connection)
                return ([programChain(slug)], program.id)
            }
            guard acting.isAdmin else { throw AccordError(.forbidden, "verifying every chain is for administrators; name a program with --program") }
            return (try await connection.query(AuditSQL.chains).map { try $0.decode(String.self, "chain") }, nil)
        }
        var result = AuditVerification(chains: [], signatures: 0, evidence: 0, problems: [])
        for chain in chains {
            let verification = try await verifyChain(chain)
            let entries = try await pool.withConnection { try await $0.query(VerifySQL.chainLength, [chain]).firstRow?.decode(Int.self, "length") ?? 0 }
            var checked = false
            if let problem = verification.problem { result.problems.append("\(chain): \(problem)") }
            for checkpoint in checkpoints where checkpoint.chain == chain {
                checked = true
                result.problems += try await check(checkpoint, verifiedEntries: verification.verified)
            }
            result.chains.append(.init(chain: chain, entries: entries, verified: verification.verified, checkpointChecked: checked))
        }
        for checkpoint in checkpoints where !chains.contains(checkpoint.chain) && slug == nil {
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
                    audited[chain] = Set(try await connection.query(VerifySQL.signedAudit, [chain]).compactMap { try $0.decode(Int64?.self, "signature") })
                }
                let content = SignatureContent(
                    taskID: try row.decode(Int64.self, "task_id"), taskRef: record.task, reviewRound: record.reviewRound, evidenceVersion: record.evidenceVersion,
                    signer: record.signer, printedName: record.printedName, signedAtMicros: try row.decode(Int64.self, "signed_at_us"),
                    decision: record.decision, meaning: record.meaning, comment: record.comment, role: record.role, onBehalfOf: record.onBehalfOf,
                    authMethod: record.authMethod, subjectSHA256: try row.decode([UInt8].self, "subject_sha256")
                )
                let keyID = try row.decode(String.self, "key_id")
                if keyID != auditKey.id {
                    result.problems.append("signature \(record.id) on \(record.task) was made with another audit key (\(keyID)); verify with that key")
                } else if !auditKey.verify(try row.decode([UInt8].self, "mac"), for: content.canonicalBytes) {
                    result.problems.append("signature \(record.id) on \(record.task) by \(record.signer) does not match its MAC: it was altered, forged or copied")
                }
                if audited[chain]?.contains(record.id) != true {
                    result.problems.append("signature \(record.id) on \(record.task) has no audit entry: it was inserted outside Accord")
                }
                let digests = try await connection.query(EvidenceSQL.digestsAt, [content.taskID, record.evidenceVersion]).map {
                    EvidenceDigest(title: try $0.decode(String.self, "title"), version: try $0.decode(Int.self, "version"), sha256: hexString(try $0.decode([UInt8].self, "sha256")))
                }
                let subject = SignedSubject(taskID: content.taskID, taskRef: record.task, evidenceVersion: record.evidenceVersion, evidence: digests)
                if hexString(subject.sha256) != record.subjectSHA256 {
                    result.problems.append("signature \(record.id) on \(record.task) no longer matches the evidence it signed")
                }
            }
            for row in try await connection.query(VerifySQL.evidenceIntegrity, [programID]) {
                result.evidence += 1
                if try !row.decode(Bool.self, "intact") {
                    result.problems.append("evidence \(try row.decode(Int64.self, "id")) ('\(try row.decode(String.self, "title"))' version \(try row.decode(Int.self, "version"))) does not match its SHA-256")
                }
            }
        }
        return result
    }

    private func check(_ checkpoint: Checkpoint, verifiedEntries: Int) async throws -> [String] {
        guard checkpoint.isAuthentic(under: auditKey) else {
            return ["\(checkpoint.chain): the checkpoint's MAC does not match under this audit key (key \(auditKey.id), checkpoint key \(checkpoint.keyID)); it cannot be trusted"]
        }
        return try await pool.withConnection { connection in
            let length = try await connection.query(VerifySQL.chainLength, [checkpoint.chain]).firstRow?.decode(Int64.self, "length") ?? 0
            let count = try await connection.query("SELECT count(*) AS n FROM accord.audit_entry WHERE chain = $1", [checkpoint.chain])[0].decode(Int64.self, "n")
            guard max(length, count) >= checkpoint.position else {
                return ["\(checkpoint.chain): the chain was cut: it has \(count) entries, but the checkpoint of \(checkpoint.at) saw \(checkpoint.position)"]
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
                guard acting.isAdmin else { throw AccordError(.forbidden, "checkpoints of every chain are for administrators; name a program with --program") }
                chains = try await connection.query(AuditSQL.chains).map { try $0.decode(String.self, "chain") }
            }
            let checkpoints = try await chains.asyncMap { chain in
                let row = try await connection.query(VerifySQL.head, [chain])[0]
                return Checkpoint(chain: chain, position: try row.decode(Int64.self, "length"),
                                  headSHA256: hexString(try row.decode([UInt8]?.self, "head_hash") ?? []), at: try row.decode(Date.self, "at"), key: auditKey)
            }
            for checkpoint in checkpoints {
                try await connection.appendAudit(AuditRecord(
                    chain: organisationChain, actor: acting.handle, action: "audit.checkpoint", objectType: "chain", objectID: checkpoint.chain,
                    after: auditJSON(["position": String(checkpoint.position), "head": checkpoint.headSHA256])))
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
            let verification = try await verifyChain(chain)
            let checkpoint = try await pool.withConnection { try await $0.query(AuditPageSQL.lastCheckpoint, [chain]).firstRow }
            statuses.append(ChainStatus(
                program: program.slug, chain: chain, entries: verification.entries, verified: verification.verified, problem: verification.problem,
                headSHA256: verification.headSHA256, lastCheckpointAt: try checkpoint?.decode(Date.self, "recorded_at"),
                lastCheckpointPosition: try checkpoint?.decode(Int.self, "position"), latest: try await latestAuditEntries(chain: chain, limit: latest)))
        }
        return statuses
    }
}
