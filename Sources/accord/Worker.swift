import AccordMail
import AccordScheduler
import AccordStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `accord worker`: the scheduler alone, without the HTTP server.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the scheduler alone: deadlines, escalations, cycle openings and webhooks (graceful shutdown on SIGTERM)."
    )
    @OptionGroup var options: DatabaseOptions
    @OptionGroup var mail: MailOptions
    @Option(
        name: [.customLong("deadline-interval"), .customLong("interval")],
        help: "Seconds between deadline passes (as for 'accord serve'; --interval is the older spelling)."
    ) var interval = 60
    @Option(help: "Seconds between webhook delivery rounds.") var deliveryInterval = 5
    @Option(help: "The most database connections this worker opens.") var maxConnections = 4
    @Flag(help: "Deliver webhooks to loopback and private addresses too (refused by default: blind SSRF).") var allowPrivateWebhooks = false

    func validate() throws {
        guard interval >= 1, deliveryInterval >= 1 else { throw ValidationError("--deadline-interval and --delivery-interval are at least 1 second") }
    }

    func run() async throws {
        var logger = Logger(label: "accord.worker")
        logger.logLevel = .info
        let store = try await options.openStore(migrate: true, maxConnections: maxConnections, origin: nil, logger: logger)
        let scheduler = Scheduler(
            store: store,
            deadlineInterval: .seconds(interval),
            deliveryInterval: .seconds(deliveryInterval),
            allowPrivateWebhooks: allowPrivateWebhooks,
            mail: try mail.renderer(),
            logger: logger
        )
        logger.info("worker started: deadlines every \(interval) s, webhooks every \(deliveryInterval) s; database \(options.location.summary)")
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: store.pool), .init(service: scheduler)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
