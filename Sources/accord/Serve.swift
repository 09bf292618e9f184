import AccordCore
import AccordMail
import AccordScheduler
import AccordServer
import AccordStore
import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `accord serve`: the HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web front and JSON API (graceful shutdown on SIGTERM)."
    )

    @OptionGroup var options: DatabaseOptions
    @OptionGroup var mail: MailOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on.")
    var port = 8080

    @Option(help: "The most database connections this instance opens.")
    var maxConnections = 16

    @Flag(help: "Do not apply pending migrations at start (for operators who migrate separately).")
    var noMigrate = false

    @Flag(help: "Seed a demo organisation when the database has nobody yet; its passwords are printed once.")
    var demo = false

    @Flag(help: "The site is served over TLS: Secure __Host- cookies and HSTS.")
    var tls = false

    @Flag(help: "The site is reached through a proxy that terminates TLS: Secure __Host- cookies and HSTS, as with --tls.")
    var behindTLSProxy = false

    @Option(
        name: .customLong("trusted-proxy"),
        parsing: .singleValue,
        help: ArgumentHelp(
            "A proxy (address or CIDR, repeatable) whose X-Forwarded-For is believed for the client's address; from anyone else it is ignored.",
            valueName: "cidr"
        )
    )
    var trustedProxies: [String] = []

    @Flag(help: "Deliver webhooks to loopback and private addresses too (refused by default: blind SSRF).")
    var allowPrivateWebhooks = false

    @Flag(help: "Do not run the scheduler (deadlines, escalations, cycle openings, webhooks) in this instance; run 'accord worker' instead.")
    var noScheduler = false

    @Option(help: "Seconds between the scheduler's deadline passes.")
    var deadlineInterval = 60

    @Option(
        help:
            "Seconds that SIGTERM keeps serving with /readyz answering 503, so a load balancer's health check takes this instance out before it stops accepting (0: stop at once)."
    )
    var shutdownDelay = 0.0

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard (0...600).contains(shutdownDelay) else { throw ValidationError("--shutdown-delay must be between 0 and 600 seconds") }
        guard deadlineInterval >= 1 else { throw ValidationError("--deadline-interval must be at least 1 second") }
        for proxy in trustedProxies where IPNetwork(proxy) == nil {
            throw ValidationError("--trusted-proxy '\(proxy)' is not an address or CIDR network (e.g. 10.0.0.0/8)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "accord.server")
        logger.logLevel = .info
        let store = try await options.openStore(migrate: !noMigrate, maxConnections: maxConnections, origin: nil, logger: logger)
        logger.info("database: \(options.location.summary)")
        if demo {
            let accounts = try await store.seedDemo()
            if accounts.isEmpty {
                print("demo: the database already has people; nothing was seeded")
            } else {
                print("demo organisation seeded: program 'acme'. Log in at http://\(host):\(port)/login with (shown once):")
                for a in accounts { print("  \(a.handle.padding(toLength: 6, withPad: " ", startingAt: 0))  \(a.password)  \(a.name), \(a.roles)") }
            }
            fflush(nil)  // flush stdout before the server runs, even when it is a file
        }
        let renderer = try mail.renderer(defaultPublicURL: "http://\(host):\(port)")
        logger.info("\(renderer.map { "mail: through \($0.settings.url) from \($0.settings.from.address)" } ?? "mail: off (no --smtp-url)")")
        let scheduler =
            noScheduler
            ? nil
            : Scheduler(
                store: store,
                deadlineInterval: .seconds(deadlineInterval),
                allowPrivateWebhooks: allowPrivateWebhooks,
                mail: renderer,
                logger: Logger(label: "accord.scheduler")
            )
        let configuration = ServerConfiguration(
            host: host,
            port: port,
            tls: tls || behindTLSProxy,
            trustedProxies: trustedProxies.compactMap(IPNetwork.init),
            mailRelay: renderer.map { "\($0.settings.url) from \($0.settings.from.address)" },
            publicURL: mail.publicURL ?? ProcessInfo.processInfo.environment["ACCORD_PUBLIC_URL"],
            drain: ShutdownDrain(delay: .milliseconds(Int(shutdownDelay * 1000)), logger: logger)
        )
        if let warning = configuration.exposureWarning { logger.warning("\(warning)") }
        try await serve(store: store, configuration: configuration, scheduler: scheduler, logger: logger)
    }
}
