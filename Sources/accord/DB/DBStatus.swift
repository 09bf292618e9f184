import AccordStore
import ArgumentParser
import Foundation
import Postgres
import PostgresCluster

/// `accord db status`: is the database up, which server, which schema version.
struct DBStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether the database runs, its version and the schema's migration state.",
        discussion: "Exits 0 when the database answers, 3 when the embedded cluster is stopped or absent, 1 on errors."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let location = options.location
        if case .embedded(let home) = location {
            let cluster = LocalCluster(home: home)
            switch cluster.status() {
            case .notInitialised:
                print("embedded PostgreSQL: not created yet in \(home.path) (any accord command, or 'accord db start', creates it)")
                throw ExitCode(3)
            case .stopped:
                print("embedded PostgreSQL: stopped (data in \(cluster.dataDirectory.path)); start it with 'accord db start'")
                throw ExitCode(3)
            case .running(let pid):
                print("embedded PostgreSQL: running (pid \(pid))")
                print("  data:   \(cluster.dataDirectory.path)")
                print("  socket: \(cluster.socketDirectory.path)")
                print("  log:    \(cluster.logFile.path)")
            }
        } else {
            print("database: \(location.summary)")
        }
        try await withStore(options, migrate: false, maxConnections: 1) { store in
            print("  server: \(try await store.serverVersion())")
            let plan = try await store.migrationPlan()
            let pending = plan.pending.isEmpty ? "up to date" : "\(plan.pending.count) pending: \(plan.pending.map(\.name).joined(separator: ", "))"
            print("  schema: version \(plan.currentVersion) (\(plan.applied.count) applied, \(pending))")
            let role = try await store.currentRole()
            let how =
                switch store.roleMode {
                case .ownLogin: " (history tables are insert-only for it) through its own login, which cannot become the schema owner"
                case .setRole:
                    " (history tables are insert-only for it) by SET ROLE from the schema owner, which a compromised process could undo: give Accord its own login (docs/database.md)"
                case .loginRole: " (accord_app is not available; the triggers still protect history)"
                }
            print("  acts as: \(role)\(how)")
        }
    }
}
