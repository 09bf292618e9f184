import AccordCore
public import AccordStore
public import Foundation
public import Logging
import NIOPosix
import Postgres
public import ServiceLifecycle

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one scheduler pass did: deadlines fired, cycles opened, webhook deliveries tried.
public struct SchedulerPass: Sendable {
    public var deadlines: DeadlinePass?
    public var delivered: Int
    public var failedAttempts: Int
}

/// Background work of `accord serve` (unless `--no-scheduler`) and `accord worker`: deadlines and cycle
/// openings every `deadlineInterval`, webhook deliveries every `deliveryInterval`. Any number may run
/// against one database: deadlines fire once by unique key, deliveries are leased with SKIP LOCKED.
public struct Scheduler: Service {
    public let store: Store
    public var deadlineInterval: Duration
    public var deliveryInterval: Duration
    /// Whether webhooks may target loopback and private addresses (`--allow-private-webhooks`).
    public var allowPrivateWebhooks: Bool
    let logger: Logger

    public init(
        store: Store,
        deadlineInterval: Duration = .seconds(60),
        deliveryInterval: Duration = .seconds(5),
        allowPrivateWebhooks: Bool = false,
        logger: Logger = Logger(label: "accord.scheduler")
    ) {
        self.store = store
        self.allowPrivateWebhooks = allowPrivateWebhooks
        self.deadlineInterval = deadlineInterval
        self.deliveryInterval = deliveryInterval
        self.logger = logger
    }

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
                let pass = try await Self.pass(store: store, deadlines: runDeadlines, allowPrivateWebhooks: allowPrivateWebhooks)
                if let d = pass.deadlines, !d.fired.isEmpty || !d.cyclesOpened.isEmpty {
                    logger.info(
                        "deadlines: \(d.reminders) reminder(s), \(d.overdue) overdue, \(d.escalations) escalation(s), cycles opened: \(d.cyclesOpened.count)"
                    )
                }
                if pass.delivered + pass.failedAttempts > 0 {
                    logger.info("webhooks: \(pass.delivered) delivered, \(pass.failedAttempts) attempt(s) failed")
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

    /// One pass: the deadlines (when asked), then the webhook deliveries due at `now`.
    public static func pass(
        store: Store,
        now: Date = Date(),
        deadlines: Bool = true,
        allowPrivateWebhooks: Bool = false
    ) async throws -> SchedulerPass {
        let fired = deadlines ? try await store.runDeadlines(now: now) : nil
        if deadlines { try await store.pruneSecurityRows() }
        let (delivered, failed) = try await deliverWebhooks(store: store, now: now, allowPrivate: allowPrivateWebhooks)
        return SchedulerPass(deadlines: fired, delivered: delivered, failedAttempts: failed)
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

    /// Why a webhook's address is refused, or `nil`: only http(s), and, unless `allowPrivate`, never an
    /// address off the public internet (loopback, private, link-local such as cloud metadata services),
    /// checked on every address the name resolves to, at each delivery (blind SSRF).
    static func refusal(of url: URL, allowPrivate: Bool) async -> String? {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            return "refused: a webhook URL is http:// or https:// with a host"
        }
        if allowPrivate { return nil }
        let addresses = (try? await NIOThreadPool.singleton.runIfActive { resolveAddresses(of: host) }) ?? []
        guard !addresses.isEmpty else { return "refused: \(host) does not resolve" }
        if let inside = addresses.first(where: \.isInternal) {
            return
                "refused: \(host) resolves to \(inside), which is not a public address (start the server with --allow-private-webhooks to allow it)"
        }
        return nil
    }

    /// POSTs one delivery: the JSON body, its id, topic and HMAC signature in headers. Redirects are not
    /// followed (a redirect could point inside the network): a 3xx is a failed attempt.
    static func send(_ delivery: WebhookDelivery, timeout: TimeInterval, allowPrivate: Bool = false) async -> (Int?, String?) {
        guard let url = URL(string: delivery.url) else { return (nil, "invalid URL") }
        if let refused = await refusal(of: url, allowPrivate: allowPrivate) { return (nil, refused) }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(delivery.body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("accord-webhook/1", forHTTPHeaderField: "User-Agent")
        request.setValue(delivery.eventID.uuidString.lowercased(), forHTTPHeaderField: "Accord-Delivery")
        request.setValue(delivery.topic, forHTTPHeaderField: "Accord-Event")
        request.setValue(String(delivery.attempt), forHTTPHeaderField: "Accord-Attempt")
        request.setValue(
            webhookSignature(secret: delivery.secret, timestamp: Int(Date().timeIntervalSince1970), body: delivery.body),
            forHTTPHeaderField: "Accord-Signature"
        )
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        do {
            let (_, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode, nil)
        } catch {
            return (nil, (error as NSError).localizedDescription)
        }
    }
}

/// Refuses every redirect: the 3xx answer itself is the outcome.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
