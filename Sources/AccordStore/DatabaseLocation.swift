public import Foundation
import Postgres
import PostgresCluster

/// Where Accord's database is: a server given by the operator, or the embedded cluster.
public enum DatabaseLocation: Sendable, Equatable {
    /// A libpq conninfo string or `postgres://` URL (from `--database` or `DATABASE_URL`).
    case url(String)
    /// libpq's own `PG*` variables, `.pgpass` and service files, as `psql` reads them.
    case environment
    /// Accord's private cluster in this folder (`ACCORD_HOME`).
    case embedded(home: URL)

    /// The libpq variables that name a server; setting any of them means "use that server".
    public static let connectionVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// Chooses the location: `--database`, else `DATABASE_URL`, else any `PG*` connection variable,
    /// else the embedded cluster under `ACCORD_HOME`.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseLocation {
        if let flag, !flag.isEmpty { return .url(flag) }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return .url(url) }
        if connectionVariables.contains(where: { environment[$0].map { !$0.isEmpty } ?? false }) { return .environment }
        return .embedded(home: LocalCluster.defaultHome(environment: environment))
    }

    /// The conninfo libpq connects with (empty means libpq's environment variables).
    public var conninfo: String {
        switch self {
        case .url(let url): url
        case .environment: ""
        case .embedded(let home): LocalCluster(home: home).conninfo
        }
    }

    /// A description for people, without any password the URL may carry.
    public var summary: String {
        switch self {
        case .url(let url): "PostgreSQL at \(redactPassword(url))"
        case .environment: "PostgreSQL from the PG* environment variables"
        case .embedded(let home): "embedded PostgreSQL in \(home.path)"
        }
    }
}

/// Hides the password of a URL (`postgres://u:secret@h/db`) or conninfo (`password=secret`).
public func redactPassword(_ conninfo: String) -> String {
    if let range = conninfo.range(of: "://"), let at = conninfo[range.upperBound...].firstIndex(of: "@") {
        let credentials = conninfo[range.upperBound..<at]
        if let colon = credentials.firstIndex(of: ":") {
            return String(conninfo[..<colon]) + ":***" + String(conninfo[at...])
        }
    }
    return conninfo.replacingOccurrences(of: #"password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, with: "password=***", options: .regularExpression)
}
