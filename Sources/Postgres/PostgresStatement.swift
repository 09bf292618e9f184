/// One SQL statement as the driver runs it: its text, the name it is prepared under on each connection
/// (so `pg_stat_statements`, `pg_prepared_statements` and the server's logs say which query it is),
/// and how it is planned.
///
/// A plain `String` is a statement too (prepared under a generated name); declare a named one where the
/// name or the planning matters.
public struct PostgresStatement: Sendable, Hashable, ExpressibleByStringLiteral {
    /// How the server plans a statement.
    public enum Planning: Sendable, Hashable {
        /// Prepared once per connection, parsed and planned once (the default).
        case prepared
        /// Sent unnamed and planned for each call's parameters: for statements with optional filters
        /// (`$1 IS NULL OR …`), whose generic plan can scan whole tables (PostgreSQL switches a prepared
        /// statement to its generic plan after five calls when that looks no dearer).
        case perCall
    }

    /// The SQL, with `$1`, `$2`… placeholders.
    public let sql: String
    /// The prepared statement's name; `nil` for a generated one.
    public let name: String?
    /// How the server plans it.
    public let planning: Planning

    /// A statement with a name and a planning.
    public init(_ name: String?, _ sql: String, planning: Planning = .prepared) {
        self.sql = sql
        self.name = name
        self.planning = planning
    }

    /// An unnamed statement, prepared under a generated name.
    public init(stringLiteral sql: String) {
        self.init(nil, sql)
    }

    /// A named statement, prepared once per connection.
    public static func named(_ name: String, _ sql: String) -> PostgresStatement { PostgresStatement(name, sql) }

    /// A named statement planned for each call's parameters.
    public static func perCall(_ name: String, _ sql: String) -> PostgresStatement { PostgresStatement(name, sql, planning: .perCall) }
}
