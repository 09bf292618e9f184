public import AccordCore
import Foundation
import Postgres

extension Store {
    /// What is wrong with a chain against a checkpoint of it: a MAC that does not hold, a cut tail, a
    /// missing or rewritten head entry. Empty when it holds.
    func checkpointProblems(_ checkpoint: Checkpoint, verifiedEntries: Int) async throws -> [String] {
        guard checkpoint.isAuthentic(under: auditKey) else {
            return [
                "\(checkpoint.chain): the checkpoint's MAC does not match under this audit key (key \(auditKey.id), checkpoint key \(checkpoint.keyID)); it cannot be trusted"
            ]
        }
        return try await pool.withConnection { connection in
            let length = try await connection.queryFirst(VerifySQL.chainLength, checkpoint.chain) ?? 0
            let count = try await connection.queryOne(AuditSQL.entryCount, checkpoint.chain)
            guard max(length, count) >= checkpoint.position else {
                return [
                    "\(checkpoint.chain): the chain was cut: it has \(count) entries, but the checkpoint of \(checkpoint.at) saw \(checkpoint.position)"
                ]
            }
            guard let hash = try await connection.queryFirst(VerifySQL.entryHash, checkpoint.chain, checkpoint.position) else {
                return ["\(checkpoint.chain): entry \(checkpoint.position), the checkpoint's head, is missing"]
            }
            if hexString(hash) != checkpoint.headSHA256 {
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
                    throw AccordError(.forbidden, "checkpoints of every chain are for administrators", remedy: .nameProgram)
                }
                chains = try await connection.query(AuditSQL.chains)
            }
            let checkpoints = try await chains.asyncMap { chain in
                let head = try await connection.queryOne(VerifySQL.head, chain)
                return Checkpoint(chain: chain, position: head.length, headSHA256: hexString(head.hash ?? []), at: head.at, key: auditKey)
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
