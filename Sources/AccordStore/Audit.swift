import AccordCore
import Foundation
import Postgres

/// The audit chain of organisation-wide events (people, workflows).
public let organisationChain = "org"

/// The audit chain of a program.
func programChain(_ slug: String) -> String { "program:\(slug)" }

/// One entry to append, in the same transaction as the change it records.
struct AuditRecord {
    var chain: String
    var actor: String
    var action: String
    var objectType: String?
    var objectID: String?
    var before: PostgresJSON?
    var after: PostgresJSON?
    var reason: String?
}

enum AuditSQL {
    static let append = "SELECT accord.append_audit($1, $2, $3, $4, $5, $6::json, $7::json, $8)"
    static let createChain = "INSERT INTO accord.audit_chain (chain) VALUES ($1)"
    static let chainEntries = """
        SELECT chain, seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, recorded_at, actor, action,
               object_type, object_id, before::text AS before, after::text AS after, reason, prev_hash, hash
        FROM accord.audit_entry WHERE chain = $1
        """
    static let entries = chainEntries + " ORDER BY seq"
    static let latest = chainEntries + " ORDER BY seq DESC LIMIT $2"
    static let chains = "SELECT chain, length FROM accord.audit_chain ORDER BY chain"
}

extension PostgresConnection {
    /// Appends an audit entry; call it inside the transaction that makes the change. The append is
    /// deferred: it travels with the transaction's next statement or its COMMIT, in the same round trip.
    func appendAudit(_ record: AuditRecord) async throws {
        try await executeDeferred(AuditSQL.append, [
            record.chain, record.actor, record.action, record.objectType, record.objectID,
            record.before.map(\.text), record.after.map(\.text), record.reason,
        ])
    }
}

/// JSON for an audit entry's before/after, keys sorted so equal states give equal text.
func auditJSON<T: Encodable>(_ value: T) -> PostgresJSON? {
    try? PostgresJSON(encoding: value)
}

/// An entry of the audit log, as read back.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var chain: String
    public var seq: Int64
    public var recordedAt: Date
    public var actor: String
    public var action: String
    public var objectType: String?
    public var objectID: String?
    public var before: String?
    public var after: String?
    public var reason: String?
    public var hash: String
}

/// The outcome of recomputing a chain.
public struct ChainVerification: Sendable, Equatable {
    public var chain: String
    /// Entries whose links held.
    public var verified: Int
    /// The first bad entry and what is wrong with it, if any.
    public var problem: String?
    /// Entries in the chain as read.
    public var entries: Int = 0
    /// The hash of the last entry read, in hex (empty for an empty chain).
    public var headSHA256: String = ""
}

extension Store {
    /// Recomputes every link of one chain from its entries: each entry's hash, its previous-hash
    /// pointer and its position. Names the first bad entry.
    public func verifyChain(_ chain: String) async throws -> ChainVerification {
        try await pool.withConnection { connection in
            let rows = try await connection.query(AuditSQL.entries, [chain])
            let head = try rows.last.map { hexString(try $0.decode([UInt8].self, "hash")) } ?? ""
            func outcome(_ verified: Int, _ problem: String?) -> ChainVerification {
                ChainVerification(chain: chain, verified: verified, problem: problem, entries: rows.count, headSHA256: head)
            }
            var previous: [UInt8]?
            var verified = 0
            for (i, row) in rows.enumerated() {
                let seq = try row.decode(Int64.self, "seq")
                let content = AuditEntryContent(
                    chain: chain, seq: seq, recordedAtMicros: try row.decode(Int64.self, "at_us"),
                    actor: try row.decode(String.self, "actor"), action: try row.decode(String.self, "action"),
                    objectType: try row.decode(String?.self, "object_type"), objectID: try row.decode(String?.self, "object_id"),
                    before: try row.decode(String?.self, "before"), after: try row.decode(String?.self, "after"),
                    reason: try row.decode(String?.self, "reason")
                )
                let stored = try row.decode([UInt8].self, "hash")
                let storedPrevious = try row.decode([UInt8]?.self, "prev_hash")
                if seq != Int64(i + 1) {
                    return outcome(verified, "entry \(seq) stands at position \(i + 1): an entry is missing or was inserted")
                }
                if storedPrevious != previous {
                    return outcome(verified, "entry \(seq) does not point to the hash of entry \(seq - 1)")
                }
                if content.hash(previous: previous) != stored {
                    return outcome(verified, "entry \(seq) (\(content.action) by \(content.actor)) was altered: its content does not match its hash")
                }
                previous = stored
                verified += 1
            }
            return outcome(verified, nil)
        }
    }

    /// A program's audit entries (or the organisation-wide ones, for administrators), oldest first.
    public func auditLog(program slug: String?, actor: String?) async throws -> [AuditEntry] {
        let chain: String = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let slug {
                _ = try await Self.visibleProgram(slug, for: acting, on: connection)
                return programChain(slug)
            }
            guard acting.isAdmin else { throw AccordError(.forbidden, "the organisation-wide log is for administrators; name a program with --program") }
            return organisationChain
        }
        return try await auditLog(chain: chain)
    }

    /// The entries of a chain, oldest first.
    public func auditLog(chain: String) async throws -> [AuditEntry] {
        try await pool.withConnection { connection in
            try await connection.query(AuditSQL.entries, [chain]).map { try AuditEntry(row: $0, chain: chain) }
        }
    }

    /// The newest entries of a chain, newest first.
    public func latestAuditEntries(chain: String, limit: Int) async throws -> [AuditEntry] {
        try await pool.withConnection { connection in
            try await connection.query(AuditSQL.latest, [chain, limit]).map { try AuditEntry(row: $0, chain: chain) }
        }
    }
}

extension AuditEntry {
    init(row: PostgresRow, chain: String) throws {
        self.init(
            chain: chain, seq: try row.decode(Int64.self, "seq"), recordedAt: try row.decode(Date.self, "recorded_at"),
            actor: try row.decode(String.self, "actor"), action: try row.decode(String.self, "action"),
            objectType: try row.decode(String?.self, "object_type"), objectID: try row.decode(String?.self, "object_id"),
            before: try row.decode(String?.self, "before"), after: try row.decode(String?.self, "after"),
            reason: try row.decode(String?.self, "reason"), hash: hexString(try row.decode([UInt8].self, "hash"))
        )
    }
}
