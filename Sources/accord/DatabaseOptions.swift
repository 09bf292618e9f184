import AccordStore
import ArgumentParser
import Logging

/// `--database`, shared by every command that touches the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A PostgreSQL conninfo or postgres:// URL. Default: DATABASE_URL, then PG* variables, then the embedded cluster.", valueName: "url"))
    var database: String?

    /// Where the database is, per the flag and the environment.
    var location: DatabaseLocation { DatabaseLocation.resolve(flag: database) }

    /// Opens the store (starting the embedded cluster when it is the location) and applies pending migrations.
    func openStore(migrate: Bool = true, maxConnections: Int = 4, logger: Logger = Logger(label: "accord")) async throws -> Store {
        try await Store.open(location, migrate: migrate, maxConnections: maxConnections, logger: logger)
    }
}
