public import Logging
public import ServiceLifecycle
import Synchronization

/// What a graceful shutdown (SIGTERM) does before the server stops accepting connections.
///
/// Behind a load balancer, closing the listening socket at once races the balancer: a connection it
/// opened a moment before, still in the kernel's accept queue, is reset, and that request fails. So on
/// SIGTERM `/readyz` first answers 503 ("shutting down") for `delay` while every request is still served,
/// the balancer's health check takes the instance out, and only then does the server stop accepting and
/// finish the requests in flight. With no delay (the default, for a lone instance), it stops at once.
public final class ShutdownDrain: Service, Sendable {
    /// How long `/readyz` answers 503 before the server stops accepting.
    public let delay: Duration
    private let draining = Atomic<Bool>(false)
    private let logger: Logger

    /// A drain of `delay`; `.zero` stops accepting as soon as SIGTERM arrives.
    public init(delay: Duration = .zero, logger: Logger = Logger(label: "accord.server")) {
        self.delay = delay
        self.logger = logger
    }

    /// Whether a graceful shutdown has begun: `/readyz` then answers 503.
    public var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Waits for the graceful shutdown, then marks the instance as draining for `delay`. Placed after the
    /// application in a service group, it is shut down first, so the server keeps serving meanwhile.
    public func run() async throws {
        try? await gracefulShutdown()
        draining.store(true, ordering: .releasing)
        guard delay > .zero else { return }
        logger.info("shutting down: /readyz answers 503 for \(delay) while requests are still served")
        try? await Task.sleep(for: delay)
    }
}
