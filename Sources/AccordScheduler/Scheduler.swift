import AccordCore
public import AccordMail
public import AccordStore
import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Postgres
public import ServiceLifecycle

/// What one scheduler pass did: deadlines fired, cycles opened, webhook deliveries tried.
public struct SchedulerPass: Sendable {
    /// What the deadline pass fired and which cycles it opened; `nil` when this pass skipped deadlines.
    public var deadlines: DeadlinePass?
    /// Webhook deliveries answered with a 2xx status.
    public var delivered: Int
    /// Delivery attempts that failed (refused target, network error, timeout, or a non-2xx answer); retried later with backoff, up to a limit.
    public var failedAttempts: Int
    /// Mail messages the SMTP server accepted.
    public var mailSent = 0
    /// Mail attempts that failed (retried later, or given up on a permanent refusal).
    public var mailFailed = 0
    /// Daily digests made.
    public var digests = 0
}

/// Background work of `accord serve` (unless `--no-scheduler`) and `accord worker`: deadlines and cycle
/// openings every `deadlineInterval`, webhook deliveries every `deliveryInterval`. Any number may run
/// against one database: deadlines fire once by unique key, deliveries are leased with SKIP LOCKED.
public struct Scheduler: Service {
    /// The store whose deadlines, cycles and webhook outbox the scheduler works on.
    public let store: Store
    /// How often deadlines fire and due cycles open (a minute by default).
    public var deadlineInterval: Duration
    /// The pause between passes, and so between webhook polls (5 seconds by default); a NOTIFY on
    /// `accord_outbox` triggers a delivery at once in between.
    public var deliveryInterval: Duration
    /// Whether webhooks may target loopback and private addresses (`--allow-private-webhooks`).
    public var allowPrivateWebhooks: Bool
    /// How mail is worded and sent; `nil`: mail is off, messages wait in the outbox.
    public var mail: MailRenderer?
    let logger: Logger

    /// A scheduler over a store; nothing runs until the service group calls `run()`.
    public init(
        store: Store,
        deadlineInterval: Duration = .seconds(60),
        deliveryInterval: Duration = .seconds(5),
        allowPrivateWebhooks: Bool = false,
        mail: MailRenderer? = nil,
        logger: Logger = Logger(label: "accord.scheduler")
    ) {
        self.store = store
        self.mail = mail
        self.allowPrivateWebhooks = allowPrivateWebhooks
        self.deadlineInterval = deadlineInterval
        self.deliveryInterval = deliveryInterval
        self.logger = logger
    }

    /// Runs until cancelled or graceful shutdown: the pass loop, and a LISTEN on `accord_outbox` that delivers at once.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            // NOTIFY accord_outbox (sent by accord.emit) wakes deliveries at once; the loop below is the fallback.
            group.addTask { [store, logger, allowPrivateWebhooks] in
                // As the pool logs in (the application's own role), not as the schema owner.
                for try await _ in PostgresNotifications.listen(conninfo: store.pool.configuration.conninfo, channels: ["accord_outbox"]) {
                    do { _ = try await Self.deliverWebhooks(store: store, allowPrivate: allowPrivateWebhooks) } catch {
                        logger.warning("webhook delivery failed: \(error)")
                    }
                }
            }
            // NOTIFY accord_mail (a message written) wakes the mail sender the same way.
            if let mail {
                group.addTask { [store, logger] in
                    for try await _ in PostgresNotifications.listen(conninfo: store.pool.configuration.conninfo, channels: ["accord_mail"]) {
                        do { _ = try await MailDelivery.deliver(store: store, renderer: mail) } catch {
                            logger.warning("mail delivery failed: \(error)")
                        }
                    }
                }
            }
            group.addTask { try await loop() }
            try await group.next()
            group.cancelAll()
        }
    }

    private func loop() async throws {
        let clock = ContinuousClock()
        var nextDeadlines = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let runDeadlines = clock.now >= nextDeadlines
            if runDeadlines { nextDeadlines = clock.now.advanced(by: deadlineInterval) }
            do {
                let pass = try await Self.pass(store: store, deadlines: runDeadlines, allowPrivateWebhooks: allowPrivateWebhooks, mail: mail)
                if let d = pass.deadlines, !d.fired.isEmpty || !d.cyclesOpened.isEmpty {
                    logger.info(
                        "deadlines: \(d.reminders) reminder(s), \(d.overdue) overdue, \(d.escalations) escalation(s), cycles opened: \(d.cyclesOpened.count)"
                    )
                }
                if pass.delivered + pass.failedAttempts > 0 {
                    logger.info("webhooks: \(pass.delivered) delivered, \(pass.failedAttempts) attempt(s) failed")
                }
                if pass.mailSent + pass.mailFailed + pass.digests > 0 {
                    logger.info("mail: \(pass.mailSent) sent, \(pass.mailFailed) attempt(s) failed, \(pass.digests) digest(s) made")
                }
            } catch {
                // The database may be restarting: log, and try again next round.
                logger.error("scheduler pass failed: \(error)")
            }
            try? await gracefulShutdown(sleeping: deliveryInterval)
        }
    }

    private func gracefulShutdown(sleeping duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    /// One pass: the deadlines (when asked), the webhook deliveries due at `now`, and, with mail on, the
    /// digests due and the messages waiting.
    public static func pass(
        store: Store,
        now: Date = Date(),
        deadlines: Bool = true,
        allowPrivateWebhooks: Bool = false,
        mail: MailRenderer? = nil
    ) async throws -> SchedulerPass {
        let fired = deadlines ? try await store.runDeadlines(now: now) : nil
        if deadlines { try await store.pruneSecurityRows() }
        let (delivered, failed) = try await deliverWebhooks(store: store, now: now, allowPrivate: allowPrivateWebhooks)
        var pass = SchedulerPass(deadlines: fired, delivered: delivered, failedAttempts: failed)
        if let mail {
            pass.digests = try await store.makeDigests(now: now)
            (pass.mailSent, pass.mailFailed) = try await MailDelivery.deliver(store: store, renderer: mail, now: now)
        }
        return pass
    }

    /// Sends every delivery due, concurrently, each with its own timeout, so one receiver that is down delays nothing else.
    /// - Parameter allowPrivate: deliver to loopback and private addresses too (`--allow-private-webhooks`).
    public static func deliverWebhooks(
        store: Store,
        now: Date = Date(),
        timeout: TimeInterval = 10,
        allowPrivate: Bool = false
    ) async throws -> (delivered: Int, failed: Int) {
        var delivered = 0
        var failed = 0
        while true {
            let batch = try await store.claimWebhookDeliveries(now: now)
            if batch.isEmpty { break }
            let outcomes = await withTaskGroup(of: (WebhookDelivery, Int?, String?).self) { group in
                for delivery in batch {
                    group.addTask {
                        let (status, error) = await send(delivery, timeout: timeout, allowPrivate: allowPrivate)
                        return (delivery, status, error)
                    }
                }
                var outcomes: [(WebhookDelivery, Int?, String?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            for (delivery, status, error) in outcomes {
                try await store.recordWebhookOutcome(delivery, status: status, error: error, now: now)
                if let status, (200..<300).contains(status) { delivered += 1 } else { failed += 1 }
            }
        }
        return (delivered, failed)
    }

    /// Where a delivery may go: refused with the reason, or allowed, with the checked address the
    /// connection is pinned to (so a name that resolves differently a moment later cannot send it inside).
    enum Target: Equatable {
        case refused(String)
        case allowed(host: String, pinnedTo: String?)
    }

    /// Only http(s), and, unless `allowPrivate`, never an address off the public internet (loopback,
    /// private, link-local such as cloud metadata services), checked on every address the name resolves
    /// to, at each delivery (blind SSRF).
    static func target(of url: URL, allowPrivate: Bool) async -> Target {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            return .refused("refused: a webhook URL is http:// or https:// with a host")
        }
        if allowPrivate { return .allowed(host: host, pinnedTo: nil) }
        let addresses = (try? await NIOThreadPool.singleton.runIfActive { resolveAddresses(of: host) }) ?? []
        guard let first = addresses.first else { return .refused("refused: \(host) does not resolve") }
        if let inside = addresses.first(where: \.isInternal) {
            return .refused(
                "refused: \(host) resolves to \(inside), which is not a public address (start the server with --allow-private-webhooks to allow it)"
            )
        }
        return .allowed(host: host, pinnedTo: first.description)
    }

    /// POSTs one delivery with AsyncHTTPClient: the JSON body, its id, topic and HMAC signature in headers.
    /// The connection goes to the address checked (`dnsOverride`: TLS still verifies the certificate for the
    /// URL's host). Redirects are not followed (a redirect could point inside the network): a 3xx is a
    /// failed attempt.
    static func send(_ delivery: WebhookDelivery, timeout: TimeInterval, allowPrivate: Bool = false) async -> (Int?, String?) {
        guard let url = URL(string: delivery.url) else { return (nil, "invalid URL") }
        let pinned: String?
        let host: String
        switch await target(of: url, allowPrivate: allowPrivate) {
        case .refused(let reason): return (nil, reason)
        case .allowed(let name, let address):
            host = name
            pinned = address
        }
        let limit = TimeAmount.milliseconds(Int64(timeout * 1000))
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: limit, read: limit)
        )
        if let pinned { configuration.dnsOverride = [host: pinned] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "accord-webhook/1")
        // Standard Webhooks headers (webhook-id is the event's: the same on every retry), which receivers'
        // libraries verify; the Accord-* headers stay for one release for receivers built on them.
        let id = delivery.eventID.uuidString.lowercased()
        let timestamp = Int(Date().timeIntervalSince1970)
        let payload = delivery.payload
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: standardWebhookSignature(secret: delivery.secret, id: id, timestamp: timestamp, body: payload)
        )
        request.headers.add(name: "Accord-Delivery", value: id)
        request.headers.add(name: "Accord-Event", value: delivery.topic)
        request.headers.add(name: "Accord-Attempt", value: String(delivery.attempt))
        request.headers.add(name: "Accord-Signature", value: webhookSignature(secret: delivery.secret, timestamp: timestamp, body: payload))
        // Slack and Teams take their own message form; the signature headers sign what is sent.
        request.body = .bytes(ByteBuffer(bytes: payload))
        let outcome: (Int?, String?)
        do {
            let response = try await client.execute(request, timeout: limit)
            // The answer's body is not read; at most 64 KiB of it is drained so the connection ends cleanly.
            _ = try? await response.body.collect(upTo: 64 << 10)
            outcome = (Int(response.status.code), nil)
        } catch {
            outcome = (nil, String(describing: error))
        }
        try? await client.shutdown()
        return outcome
    }
}
