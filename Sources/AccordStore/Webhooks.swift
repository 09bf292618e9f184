import AccordCore
import Crypto
public import Foundation
public import Postgres

/// A receiver of Accord's events.
public struct Webhook: Codable, Sendable, Equatable {
    /// Its number, for `accord webhook remove`.
    public var id: Int64
    /// Where events are POSTed.
    public var url: String
    /// The program it is limited to, when limited.
    public var program: String?
    /// The topics it receives; empty: every topic.
    public var topics: [String]
    /// When it was added.
    public var createdAt: Date
    /// The handle of the administrator who added it.
    public var createdBy: String
    /// Events delivered to it.
    public var delivered: Int
    /// Events still to deliver (waiting or being retried).
    public var pending: Int
    /// Events given up on.
    public var failed: Int
    /// The form its deliveries take.
    public var format: WebhookFormat = .standard
    /// The HMAC key; only set in the answer to `addWebhook`, never read back.
    public var secret: String?
}

/// The form a webhook's deliveries take.
public enum WebhookFormat: String, Codable, Sendable, CaseIterable {
    /// Accord's JSON event: `{"id", "topic", "created_at", "data"}`.
    case standard
    /// A Slack incoming-webhook message: a text fallback and blocks.
    case slack
    /// A Microsoft Teams workflow ("Post to a channel when a webhook request is received") message with an Adaptive Card.
    case teams
}

/// One delivery claimed for sending: lease held until `leasedUntil`, attempt number counted.
public struct WebhookDelivery: Sendable {
    /// The outbox event's id, sent as the body's `id`.
    public var eventID: UUID
    /// The webhook it goes to.
    public var webhookID: Int64
    /// This attempt's number, from 1.
    public var attempt: Int
    /// The claim's token: only the claimer that still holds the lease records the outcome.
    public var leaseToken: UUID
    /// Where to POST it.
    public var url: String
    /// The webhook's HMAC key, for the `Accord-Signature` header.
    public var secret: String
    /// The event's topic, e.g. `task.escalation`.
    public var topic: String
    /// The event: `{"id", "topic", "created_at", "data"}`.
    public var body: [UInt8]
    /// The form the webhook wants; `payload` is the body in it.
    public var format: WebhookFormat = .standard

    /// A delivery from its parts (the scheduler claims real ones from the outbox).
    public init(
        eventID: UUID,
        webhookID: Int64,
        attempt: Int,
        leaseToken: UUID,
        url: String,
        secret: String,
        topic: String,
        body: [UInt8],
        format: WebhookFormat = .standard
    ) {
        self.eventID = eventID
        self.webhookID = webhookID
        self.attempt = attempt
        self.leaseToken = leaseToken
        self.url = url
        self.secret = secret
        self.topic = topic
        self.body = body
        self.format = format
    }
}

/// The topics Accord emits.
public let webhookTopics = [
    "task.reminder", "task.overdue", "task.escalation", "cycle.opened", "cycle.closed",
    "finding.opened", "finding.closed", "incident.reported",
]

/// A delivery is tried this many times, with the wait doubling from `webhookFirstRetry` up to an hour, then given up.
public let webhookMaximumAttempts = 12
/// The first wait before a retry, in seconds.
public let webhookFirstRetry: TimeInterval = 10

enum WebhookSQL {
    static let insert = PostgresQuery<String, String, Int64?, PostgresArray<String>?, Int64, WebhookFormat, Int64>(
        "webhook_insert",
        """
        INSERT INTO accord.webhook (url, secret, program_id, topics, created_by, format) VALUES ($1, $2, $3, $4::text[], $5, $6) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let list = PostgresQuery<Webhook>(
        "webhook_list",
        """
        SELECT w.id, w.url, w.format, p.slug AS program, to_json(coalesce(w.topics, '{}')) AS topics, w.created_at, c.handle AS created_by,
               count(d.*) FILTER (WHERE d.delivered_at IS NOT NULL) AS delivered,
               count(d.*) FILTER (WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.outbox_id IS NOT NULL) AS pending,
               count(d.*) FILTER (WHERE d.failed_at IS NOT NULL) AS failed
        FROM accord.webhook w LEFT JOIN accord.program p ON p.id = w.program_id JOIN accord.person c ON c.id = w.created_by
        LEFT JOIN accord.webhook_delivery d ON d.webhook_id = w.id
        WHERE w.removed_at IS NULL GROUP BY w.id, p.slug, c.handle ORDER BY w.id
        """,
        row: Webhook.init(row:)
    )
    static let remove = PostgresQuery<Int64, String>(
        "webhook_remove",
        "UPDATE accord.webhook SET removed_at = now() WHERE id = $1 AND removed_at IS NULL RETURNING url"
    ) { try $0.decode(String.self, "url") }
    static let dropPending = PostgresCommand<Int64>(
        "webhook_drop_pending",
        "UPDATE accord.webhook_delivery SET failed_at = now(), last_error = 'webhook removed' WHERE webhook_id = $1 AND delivered_at IS NULL AND failed_at IS NULL"
    )
    /// Leases up to $2 due deliveries nobody else holds; a crashed sender's lease runs out and the row is claimed again.
    static let claim = PostgresQuery<Date, Int, WebhookDelivery>(
        "webhook_claim",
        """
        UPDATE accord.webhook_delivery d SET leased_until = now() + interval '2 minutes', lease_token = gen_random_uuid(), attempts = d.attempts + 1
        FROM (SELECT outbox_id, webhook_id FROM accord.webhook_delivery
              WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < now())
              ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) c,
             accord.webhook w, accord.outbox o
        WHERE d.outbox_id = c.outbox_id AND d.webhook_id = c.webhook_id AND w.id = d.webhook_id AND o.id = d.outbox_id
        RETURNING d.outbox_id, d.webhook_id, d.attempts, d.lease_token, w.url, w.secret, w.format, o.topic,
                  json_build_object('id', o.id, 'topic', o.topic, 'created_at', o.created_at, 'data', o.payload)::text AS body
        """,
        row: WebhookDelivery.init(row:)
    )
    /// $1 event, $2 webhook, $3 HTTP status, $4 the lease token.
    static let delivered = PostgresCommand<UUID, Int64, Int, UUID>(
        "webhook_delivered",
        """
        UPDATE accord.webhook_delivery SET delivered_at = now(), leased_until = NULL, lease_token = NULL, last_status = $3, last_error = NULL
        WHERE outbox_id = $1 AND webhook_id = $2 AND lease_token = $4
        """
    )
    /// $1 event, $2 webhook, $3 HTTP status, $4 error, $5 next attempt, $6 the last attempt, $7 the lease token.
    static let retry = PostgresCommand<UUID, Int64, Int?, String, Date, Int, UUID>(
        "webhook_retry",
        """
        UPDATE accord.webhook_delivery SET leased_until = NULL, lease_token = NULL, last_status = $3, last_error = $4,
            next_attempt_at = CASE WHEN attempts >= $6 THEN next_attempt_at ELSE $5 END,
            failed_at = CASE WHEN attempts >= $6 THEN now() END
        WHERE outbox_id = $1 AND webhook_id = $2 AND lease_token = $7
        """
    )

    static let catalogue: [any PostgresCheckable] = [insert, list, remove, dropPending, claim, delivered, retry]
}

extension Webhook {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        url = try row.decode(String.self, "url")
        program = try row.decode(String?.self, "program")
        createdAt = try row.decode(Date.self, "created_at")
        createdBy = try row.decode(String.self, "created_by")
        delivered = try row.decode(Int.self, "delivered")
        pending = try row.decode(Int.self, "pending")
        failed = try row.decode(Int.self, "failed")
        format = try row.decode(WebhookFormat.self, "format")
        // Last: a catalogue probe's placeholder is no JSON array (see `PostgresQuery.check`).
        topics = try row.decode(PostgresJSON.self, "topics").decode([String].self)
    }
}

extension WebhookFormat: PostgresTextEnum {}

extension WebhookDelivery {
    init(row: PostgresRow) throws {
        eventID = try row.decode(UUID.self, "outbox_id")
        webhookID = try row.decode(Int64.self, "webhook_id")
        attempt = try row.decode(Int.self, "attempts")
        leaseToken = try row.decode(UUID.self, "lease_token")
        url = try row.decode(String.self, "url")
        secret = try row.decode(String.self, "secret")
        topic = try row.decode(String.self, "topic")
        body = Array(try row.decode(String.self, "body").utf8)
        format = try row.decode(WebhookFormat.self, "format")
    }
}

extension Store {
    /// Registers a webhook; its secret is generated and returned once. Administrators only.
    public func addWebhook(url: String, program: String?, topics: [String], format: WebhookFormat = .standard, actor: String?) async throws -> Webhook
    {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host?.isEmpty == false else {
            throw AccordError(.invalid, "'\(url)' is not an http(s) URL")
        }
        for topic in topics where !webhookTopics.contains(topic) {
            throw AccordError(.invalid, "unknown topic '\(topic)'; topics are \(webhookTopics.joined(separator: ", "))")
        }
        let secret = standardWebhookSecret()
        let id = try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator adds webhooks; '\(acting.handle)' is not one") }
            let programRow = try await program.asyncMap { try await Self.visibleProgram($0, for: acting, on: connection) }
            let id = try await connection.queryOne(
                WebhookSQL.insert,
                url,
                secret,
                programRow?.id,
                topics.isEmpty ? nil : PostgresArray(topics),
                acting.id,
                format
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "webhook.add",
                    objectType: "webhook",
                    objectID: String(id),
                    after: auditJSON(["url": url, "program": program ?? "", "topics": topics.joined(separator: ","), "format": format.rawValue])
                )
            )
            return id
        }
        var webhook = try await webhooks(actor: actor).first { $0.id == id }!
        webhook.secret = secret
        return webhook
    }

    /// The webhooks in use, with their delivery counts. Administrators only.
    public func webhooks(actor: String?) async throws -> [Webhook] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator sees webhooks; '\(acting.handle)' is not one") }
            return try await connection.query(WebhookSQL.list)
        }
    }

    /// Stops a webhook; its undelivered events are given up.
    public func removeWebhook(_ id: Int64, actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator removes webhooks; '\(acting.handle)' is not one") }
            guard let url = try await connection.queryFirst(WebhookSQL.remove, id) else { throw AccordError(.notFound, "no webhook \(id)") }
            try await connection.execute(WebhookSQL.dropPending, id)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "webhook.remove",
                    objectType: "webhook",
                    objectID: String(id),
                    before: auditJSON(["url": url])
                )
            )
        }
    }

    /// Leases up to `limit` deliveries due at `now`, for one sender.
    public func claimWebhookDeliveries(now: Date = Date(), limit: Int = 32) async throws -> [WebhookDelivery] {
        try await pool.withTransaction { connection in
            try await connection.query(WebhookSQL.claim, now, limit)
        }
    }

    /// Records a delivery's outcome: delivered, or retried after a doubling wait, or given up after the last attempt.
    public func recordWebhookOutcome(_ delivery: WebhookDelivery, status: Int?, error: String?, now: Date = Date()) async throws {
        try await pool.withConnection { connection in
            if let status, (200..<300).contains(status) {
                try await connection.execute(WebhookSQL.delivered, delivery.eventID, delivery.webhookID, status, delivery.leaseToken)
            } else {
                let wait = min(webhookFirstRetry * pow(2, Double(delivery.attempt - 1)), 3600)
                try await connection.execute(
                    WebhookSQL.retry,
                    delivery.eventID,
                    delivery.webhookID,
                    status,
                    String((error ?? "HTTP \(status ?? 0)").prefix(500)),
                    now.addingTimeInterval(wait),
                    webhookMaximumAttempts,
                    delivery.leaseToken
                )
            }
        }
    }
}

/// A new signing secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes, the key.
public func standardWebhookSecret() -> String {
    var generator = SystemRandomNumberGenerator()
    return "whsec_" + Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
}

/// The `webhook-signature` header of Standard Webhooks (standardwebhooks.com): `v1,` and the base64 of
/// HMAC-SHA256 over `ID.TIMESTAMP.BODY`, keyed with the bytes the secret's base64 after `whsec_` encodes.
/// A secret made before Accord used that form (its text is not standard base64) keys with its UTF-8 text,
/// which receivers using the Standard Webhooks libraries cannot reproduce: such a webhook is re-created.
public func standardWebhookSignature(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
    let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
    let key = Data(base64Encoded: encoded).map { SymmetricKey(data: $0) } ?? SymmetricKey(data: Array(secret.utf8))
    let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key)
    return "v1," + Data(mac).base64EncodedString()
}

/// The `Accord-Signature` header: `t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX." + body))`, as receivers check it.
public func webhookSignature(secret: String, timestamp: Int, body: [UInt8]) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
    return "t=\(timestamp),v1=" + hexString(mac)
}
