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
    static let append = PostgresCommand<String, String, String, String?, String?, String?, String?, String?>(
        "audit_append",
        "SELECT accord.append_audit($1, $2, $3, $4, $5, $6::json, $7::json, $8)"
    )
    static let createChain = PostgresCommand<String>("audit_chain_create", "INSERT INTO accord.audit_chain (chain) VALUES ($1)")
    /// An entry's columns as `AuditEntry` reads them, and its table; followed by the condition on the chain ($1).
    static let chainEntries = """
        SELECT chain, seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, recorded_at, actor, action,
               object_type, object_id, before::text AS before, after::text AS after, reason, prev_hash, hash, origin
        FROM accord.audit_entry WHERE chain = $1
        """
    static let entries = PostgresQuery<String, AuditEntry>(
        "audit_entries",
        "\(chainEntries) ORDER BY seq",
        row: AuditEntry.init(row:)
    )
    /// The fields of the canonical encoding, in its order, as stored (text and JSON as UTF-8), by position.
    static let verifyBatch = PostgresQuery<String, Int64, Int, AuditHashedRow>(
        "audit_verify_batch",
        """
        SELECT seq, (extract(epoch FROM recorded_at) * 1000000)::bigint AS at_us, actor, action, object_type, object_id,
               before::text AS before, after::text AS after, reason, prev_hash, hash, origin
        FROM accord.audit_entry WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3
        """,
        row: AuditHashedRow.init(row:)
    )
    static let latest = PostgresQuery<String, Int, AuditEntry>(
        "audit_latest",
        "\(chainEntries) ORDER BY seq DESC LIMIT $2",
        row: AuditEntry.init(row:)
    )
    static let chains = PostgresQuery<String>("audit_chain_list", "SELECT chain, length FROM accord.audit_chain ORDER BY chain") {
        try $0.decode(String.self, "chain")
    }
    /// The entries a chain holds, counted (not its recorded length).
    static let entryCount = PostgresQuery<String, Int64>(
        "audit_entry_count",
        "SELECT count(*) AS n FROM accord.audit_entry WHERE chain = $1"
    ) { try $0.decode(Int64.self, "n") }

    static let catalogue: [any PostgresCheckable] = [append, createChain, entries, verifyBatch, latest, chains, entryCount]
}

/// One entry as `verifyChain` hashes it: the canonical encoding's fields as stored, read by position,
/// text and JSON as slices of the result's UTF-8 bytes (no `String` in between).
struct AuditHashedRow: Sendable {
    var seq: Int64
    var atMicros: Int64
    var actor: ArraySlice<UInt8>?
    var action: ArraySlice<UInt8>?
    var objectType: ArraySlice<UInt8>?
    var objectID: ArraySlice<UInt8>?
    var before: ArraySlice<UInt8>?
    var after: ArraySlice<UInt8>?
    var reason: ArraySlice<UInt8>?
    var previousHash: [UInt8]?
    var hash: [UInt8]
    var origin: ArraySlice<UInt8>?

    init(row: PostgresRow) throws {
        seq = try row.decode(Int64.self, at: 0)
        atMicros = try row.decode(Int64.self, at: 1)
        actor = row.cell(at: 2).bytes
        action = row.cell(at: 3).bytes
        objectType = row.cell(at: 4).bytes
        objectID = row.cell(at: 5).bytes
        before = row.cell(at: 6).bytes
        after = row.cell(at: 7).bytes
        reason = row.cell(at: 8).bytes
        previousHash = try row.decode([UInt8]?.self, at: 9)
        hash = try row.decode([UInt8].self, at: 10)
        origin = row.cell(at: 11).bytes
    }
}

extension PostgresConnection {
    /// Appends an audit entry; call it inside the transaction that makes the change. The append is
    /// deferred: it travels with the transaction's next statement or its COMMIT, in the same round trip.
    func appendAudit(_ record: AuditRecord) async throws {
        try await executeDeferred(
            AuditSQL.append,
            record.chain,
            record.actor,
            record.action,
            record.objectType,
            record.objectID,
            record.before.map(\.text),
            record.after.map(\.text),
            record.reason
        )
    }
}

/// JSON for an audit entry's before/after, keys sorted so equal states give equal text.
func auditJSON<T: Encodable>(_ value: T) -> PostgresJSON? {
    try? PostgresJSON(encoding: value)
}

/// An entry of the audit log, as read back.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// The chain it belongs to.
    public var chain: String
    /// Its position in the chain, from 1.
    public var seq: Int64
    /// When it was appended.
    public var recordedAt: Date
    /// Who did it: a handle, or `scheduler`.
    public var actor: String
    /// What was done, e.g. `task.sign`.
    public var action: String
    /// The kind of thing it was done to, e.g. `task`.
    public var objectType: String?
    /// Which one, e.g. a task ref.
    public var objectID: String?
    /// The state before, as the JSON text the hash covers.
    public var before: String?
    /// The state after, as the JSON text the hash covers.
    public var after: String?
    /// The reason given, if any.
    public var reason: String?
    /// The channel that wrote it when it was not the server: `cli user=OS_USER host=HOST`.
    public var origin: String?
    /// Its hash, in hex.
    public var hash: String
}

/// The outcome of recomputing a chain.
public struct ChainVerification: Sendable, Equatable {
    /// The chain recomputed.
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
                let entries = problem == nil ? verified : Int(try await connection.queryOne(AuditSQL.entryCount, chain))
                return ChainVerification(
                    chain: chain,
                    verified: verified,
                    problem: problem,
                    entries: entries,
                    headSHA256: previous.map(hexString) ?? ""
                )
            }
            var batch = try await connection.query(AuditSQL.verifyBatch, chain, Int64(0), Self.verifyBatch)
            while !batch.isEmpty {
                let last = batch[batch.count - 1].seq
                let full = batch.count == Self.verifyBatch
                // The next batch is read while this one is hashed.
                async let following = full ? connection.query(AuditSQL.verifyBatch, chain, last, Self.verifyBatch) : nil
                for entry in batch {
                    let seq = entry.seq
                    if seq != Int64(verified + 1) {
                        _ = try? await following
                        return try await outcome("entry \(seq) stands at position \(verified + 1): an entry is missing or was inserted")
                    }
                    if entry.previousHash != previous {
                        _ = try? await following
                        return try await outcome("entry \(seq) does not point to the hash of entry \(seq - 1)")
                    }
                    writer.begin()
                    writer.field(chainBytes)
                    writer.number(seq)
                    writer.number(entry.atMicros)
                    writer.field(entry.actor)
                    writer.field(entry.action)
                    writer.field(entry.objectType)
                    writer.field(entry.objectID)
                    writer.field(entry.before)
                    writer.field(entry.after)
                    writer.field(entry.reason)
                    if let origin = entry.origin { writer.field(origin) }
                    if writer.hash(previous: previous) != entry.hash {
                        _ = try? await following
                        let action = entry.action.map { String(decoding: $0, as: UTF8.self) } ?? "?"
                        let actor = entry.actor.map { String(decoding: $0, as: UTF8.self) } ?? "?"
                        return try await outcome("entry \(seq) (\(action) by \(actor)) was altered: its content does not match its hash")
                    }
                    previous = entry.hash
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
                throw AccordError(.forbidden, "the organisation-wide log is for administrators", remedy: .nameProgram)
            }
            return organisationChain
        }
        return try await auditLog(chain: chain)
    }

    /// The entries of a chain, oldest first.
    public func auditLog(chain: String) async throws -> [AuditEntry] {
        try await pool.withConnection { connection in
            try await connection.query(AuditSQL.entries, chain)
        }
    }

    /// The newest entries of a chain, newest first.
    public func latestAuditEntries(chain: String, limit: Int) async throws -> [AuditEntry] {
        try await pool.withConnection { connection in
            try await connection.query(AuditSQL.latest, chain, limit)
        }
    }
}

extension AuditEntry {
    init(row: PostgresRow) throws {
        self.init(
            chain: try row.decode(String.self, "chain"),
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
