import AccordCore
import AccordStore
import ArgumentParser
import Foundation
import Logging

/// `--database`, shared by every command that touches the database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PostgreSQL conninfo or postgres:// URL. Default: DATABASE_URL, then PG* variables, then the embedded cluster.",
            valueName: "url"
        )
    )
    var database: String?

    /// Where the database is, per the flag and the environment.
    var location: DatabaseLocation { DatabaseLocation.resolve(flag: database) }

    /// Opens the store (starting the embedded cluster when it is the location) and applies pending migrations.
    /// - Parameters:
    ///   - owner: where migrations connect, when not `location` (`accord db migrate --owner-database`).
    ///   - origin: what every audit entry records of this process; the CLI's operating-system user by
    ///     default, `nil` for the server and the worker.
    ///   - keepOwnerAccess: keep the owner's conninfo for `store.migrate()` (`accord db migrate` only).
    func openStore(
        migrate: Bool = true,
        maxConnections: Int = 4,
        owner: DatabaseLocation? = nil,
        origin: String? = cliOrigin(),
        keepOwnerAccess: Bool = false,
        logger: Logger = Logger(label: "accord")
    ) async throws -> Store {
        try await Store.open(
            location,
            owner: owner,
            migrate: migrate,
            maxConnections: maxConnections,
            origin: origin,
            keepOwnerAccess: keepOwnerAccess,
            logger: logger
        )
    }
}

/// What the audit log records of a CLI command: the CLI is an operator's tool, and `--as` names who the
/// operator acts for, not who they are, so every entry it writes also names the operating-system user
/// (and the one who ran sudo) and the host.
func cliOrigin(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    var user = "uid=\(geteuid())"
    if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { user = String(cString: name) }
    var origin = "cli user=\(user)"
    if let sudo = environment["SUDO_USER"], !sudo.isEmpty { origin += " sudo_user=\(sudo)" }
    var host = [CChar](repeating: 0, count: 256)
    if gethostname(&host, host.count) == 0 { origin += " host=\(cText(host))" }
    return origin
}
