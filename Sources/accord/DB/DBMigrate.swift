import AccordStore
import ArgumentParser
import Foundation
import Postgres

/// `accord db migrate [--dry-run]`: apply the schema migrations this build carries.
struct DBMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (each in its own transaction, under an advisory lock)."
    )

    @OptionGroup var options: DatabaseOptions

    @Option(
        name: .customLong("owner-database"),
        help: ArgumentHelp(
            "Migrate as the schema owner with this URL (default: ACCORD_OWNER_DATABASE_URL, else --database). The application's own URL then needs no rights on the schema.",
            valueName: "url"
        )
    )
    var ownerDatabase: String?

    @Flag(name: .long, help: "Print what would be applied, and check the applied ones, without changing anything.")
    var dryRun = false

    func run() async throws {
        let owner = (ownerDatabase ?? ProcessInfo.processInfo.environment["ACCORD_OWNER_DATABASE_URL"]).flatMap {
            $0.isEmpty ? nil : DatabaseLocation.url($0)
        }
        let store = try await options.openStore(migrate: false, maxConnections: 1, owner: owner, keepOwnerAccess: true)
        try await closing(store) { store in
            let plan = try await store.migrationPlan()
            if plan.pending.isEmpty {
                print("schema up to date at version \(plan.currentVersion) (\(plan.applied.count) migration(s) applied)")
            } else if dryRun {
                print("would apply \(plan.pending.count) migration(s) after version \(plan.currentVersion):")
                for migration in plan.pending { print("  \(migration.name)  sha256:\(migration.checksum.prefix(16))") }
            } else {
                let started = ContinuousClock.now
                let applied = try await store.migrate { print("applying \($0.name)") }
                print("applied \(applied.count) migration(s) in \(started.duration(to: .now).formatted(.units(allowed: [.seconds, .milliseconds])))")
            }
        }
    }
}
