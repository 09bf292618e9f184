import AccordCore
public import Foundation
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
               object_type, object_id, before::text AS before, after::text AS after, reason, prev_hash, hash, origin
        FROM accord.audit_entry WHERE chain = $1
        """
    static let entries = chainEntries + " ORDER BY seq"
    /// The fields of the canonical encoding, in its order, as stored (text and JSON as UTF-8), by position.
    static let verifyBatch = """
        SELECT seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, actor, action, object_type, object_id,
               before::text AS before, after::text AS after, reason, prev_hash, hash, origin
        FROM accord.audit_entry WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3
        """
    static let latest = chainEntries + " ORDER BY seq DESC LIMIT $2"
    static let chains = "SELECT chain, length FROM accord.audit_chain ORDER BY chain"
}

extension PostgresConnection {
    /// Appends an audit entry; call it inside the transaction that makes the change. The append is
    /// deferred: it travels with the transaction's next statement or its COMMIT, in the same round trip.
    func appendAudit(_ record: AuditRecord) async throws {
        try await executeDeferred(
            AuditSQL.append,
            [
                record.chain, record.actor, record.action, record.objectType, record.objectID,
                record.before.map(\.text), record.after.map(\.text), record.reason,
            ]
        )
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
    /// The channel that wrote it when it was not the server: `cli user=OS_USER host=HOST`.
    public var origin: String?
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
    ///
    /// The chain is read in batches of `verifyBatch` entries by position, the next batch read while the
    /// current one is hashed, and each entry's canonical bytes are written straight from the row's
    /// bytes: memory stays flat however long the chain, and reading overlaps hashing.
    public func verifyChain(_ chain: String) async throws -> ChainVerification {
        try await pool.withConnection { connection in
            var previous: [UInt8]?
            var verified = 0
            var writer = AuditCanonicalWriter()
            let chainBytes = Array(chain.utf8)
            func outcome(_ problem: String?) async throws -> ChainVerification {
                let entries =
                    problem == nil
                    ? verified
                    : try await connection.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE chain = $1", [chain])[0].decode(
                        Int.self,
                        "n"
                    )
                return ChainVerification(
                    chain: chain,
                    verified: verified,
                    problem: problem,
                    entries: entries,
                    headSHA256: previous.map(hexString) ?? ""
                )
            }
            var batch = try await connection.query(AuditSQL.verifyBatch, [chain, Int64(0), Self.verifyBatch])
            while !batch.isEmpty {
                let last = try batch[batch.count - 1].decode(Int64.self, at: 0)
                let full = batch.count == Self.verifyBatch
                // The next batch is read while this one is hashed.
                async let following = full ? connection.query(AuditSQL.verifyBatch, [chain, last, Self.verifyBatch]) : nil
                for row in batch {
                    let seq = try row.decode(Int64.self, at: 0)
                    if seq != Int64(verified + 1) {
                        _ = try? await following
                        return try await outcome("entry \(seq) stands at position \(verified + 1): an entry is missing or was inserted")
                    }
                    let storedPrevious = try row.decode([UInt8]?.self, at: 9)
                    if storedPrevious != previous {
                        _ = try? await following
                        return try await outcome("entry \(seq) does not point to the hash of entry \(seq - 1)")
                    }
                    writer.begin()
                    writer.field(chainBytes)
                    writer.number(seq)
                    writer.number(try row.decode(Int64.self, at: 1))
                    for column in 2...8 { writer.field(row.cell(at: column).bytes) }
                    if let origin = row.cell(at: 11).bytes { writer.field(origin) }
                    let stored = try row.decode([UInt8].self, at: 10)
                    if writer.hash(previous: previous) != stored {
                        _ = try? await following
                        let action = (try? row.decode(String.self, at: 3)) ?? "?"
                        let actor = (try? row.decode(String.self, at: 2)) ?? "?"
                        return try await outcome("entry \(seq) (\(action) by \(actor)) was altered: its content does not match its hash")
                    }
                    previous = stored
                    verified += 1
                }
                guard let next = try await following else { break }
                batch = next
            }
            return try await outcome(nil)
        }
    }

    /// Entries read per batch by `verifyChain`.
    static let verifyBatch = 10_000

    /// A program's audit entries (or the organisation-wide ones, for administrators), oldest first.
    public func auditLog(program slug: String?, actor: String?) async throws -> [AuditEntry] {
        let chain: String = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            if let slug {
                _ = try await Self.visibleProgram(slug, for: acting, on: connection)
                return programChain(slug)
            }
            guard acting.isAdmin else {
                throw AccordError(.forbidden, "the organisation-wide log is for administrators; name a program with --program")
            }
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
            chain: chain,
            seq: try row.decode(Int64.self, "seq"),
            recordedAt: try row.decode(Date.self, "recorded_at"),
            actor: try row.decode(String.self, "actor"),
            action: try row.decode(String.self, "action"),
            objectType: try row.decode(String?.self, "object_type"),
            objectID: try row.decode(String?.self, "object_id"),
            before: try row.decode(String?.self, "before"),
            after: try row.decode(String?.self, "after"),
            reason: try row.decode(String?.self, "reason"),
            origin: try row.decode(String?.self, "origin"),
            hash: hexString(try row.decode([UInt8].self, "hash"))
        )
    }
}
