import AccordCore
public import Foundation
import NIOConcurrencyHelpers
import Postgres

/// A chain's state for the audit page.
public struct ChainStatus: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// The chain's name (`program:SLUG`).
    public var chain: String
    /// Entries in the chain.
    public var entries: Int
    /// Entries whose links held.
    public var verified: Int
    /// The first bad entry and what is wrong with it, if any.
    public var problem: String?
    /// The hash of the chain's last entry, in hex.
    public var headSHA256: String
    /// When a checkpoint of this chain was last taken, and at which position.
    public var lastCheckpointAt: Date?
    /// The chain's length when that checkpoint was taken.
    public var lastCheckpointPosition: Int?
    /// The newest entries, newest first.
    public var latest: [AuditEntry]
}

enum AuditPageSQL {
    static let lastCheckpoint = PostgresQuery<String, (at: Date, position: Int)>(
        "audit_last_checkpoint",
        """
        SELECT recorded_at, (after::jsonb ->> 'position')::bigint AS position FROM accord.audit_entry
        WHERE chain = 'org' AND action = 'audit.checkpoint' AND object_id = $1 ORDER BY seq DESC LIMIT 1
        """
    ) { (at: try $0.decode(Date.self, "recorded_at"), position: try $0.decode(Int.self, "position")) }

    static let catalogue: [any PostgresCheckable] = [lastCheckpoint]
}

extension Store {
    /// Every visible program's chain: verified count, head, last checkpoint and latest entries.
    public func chainStatuses(actor: String?, latest: Int = 10) async throws -> [ChainStatus] {
        var statuses: [ChainStatus] = []
        for program in try await programs(actor: actor) {
            let chain = programChain(program.slug)
            let verification = try await verifyChain(chain, reuseWithin: .seconds(300))
            let checkpoint = try await pool.withConnection { try await $0.queryFirst(AuditPageSQL.lastCheckpoint, chain) }
            statuses.append(
                ChainStatus(
                    program: program.slug,
                    chain: chain,
                    entries: verification.entries,
                    verified: verification.verified,
                    problem: verification.problem,
                    headSHA256: verification.headSHA256,
                    lastCheckpointAt: checkpoint?.at,
                    lastCheckpointPosition: checkpoint?.position,
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
        let now = try await pool.withConnection { try await $0.queryFirst(VerifySQL.head, chain) }
        let length = now?.length ?? 0
        let head = now?.hash
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
