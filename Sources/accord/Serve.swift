import AccordServer
import AccordStore
import ArgumentParser
import Hummingbird
import Logging

/// `accord serve`: the HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web front and JSON API (graceful shutdown on SIGTERM)."
    )

    @OptionGroup var options: DatabaseOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on.")
    var port = 8080

    @Option(help: "The most database connections this instance opens.")
    var maxConnections = 16

    @Flag(help: "Do not apply pending migrations at start (for operators who migrate separately).")
    var noMigrate = false

    @Flag(help: "The site is reached over TLS (directly or through a TLS proxy): Secure __Host- cookies and HSTS.")
    var tls = false

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    }

    func run() async throws {
        var logger = Logger(label: "accord.server")
        logger.logLevel = .info
        let store = try await options.openStore(migrate: !noMigrate, maxConnections: maxConnections, logger: logger)
        logger.info("database: \(options.location.summary)")
        let app = try makeApplication(store: store, configuration: ServerConfiguration(host: host, port: port, tls: tls), logger: logger)
        try await app.runService()
    }
}
