import ArgumentParser

/// `accord db`: the database Accord runs on.
struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the database: the embedded cluster, migrations, the connection URL.",
        subcommands: [DBStart.self, DBStop.self, DBStatus.self, DBMigrate.self, DBURL.self]
    )
}
