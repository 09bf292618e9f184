import AccordStore
import ArgumentParser
import Foundation
import Postgres
import PostgresCluster

/// `accord db start`: create (first time) and start the embedded cluster, then migrate.
struct DBStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the embedded PostgreSQL (creating it on first use) and apply migrations."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        guard case .embedded(let home) = options.location else {
            throw CommandFailure(
                "'accord db start' manages the embedded cluster, but the database is \(options.location.summary); start that server yourself"
            )
        }
        let plan = try await withStore(options) { try await $0.migrationPlan() }
        var pid = ""
        if case .running(let p) = LocalCluster(home: home).status() { pid = " (pid \(p))" }
        print("embedded PostgreSQL running\(pid) in \(home.path); schema at version \(plan.currentVersion)")
    }
}
