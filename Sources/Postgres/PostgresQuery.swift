/// A statement together with the Swift types of its parameters and the decoder of its rows: the
/// whole contract between one SQL text and the code that runs it, in one value (in the spirit of
/// postgres-nio's `PostgresPreparedStatement`).
///
/// ```swift
/// static let byHandle = PostgresQuery<String, Person>("person_by_handle", """
///     SELECT id, handle, name FROM accord.person WHERE handle = $1
///     """, row: Person.init(row:))
///
/// let people = try await connection.query(PeopleSQL.byHandle, handle)   // [Person]
/// ```
///
/// Calling it with parameters of other types, or another number of them, does not compile. Its SQL,
/// parameter types and decoder are checked against the real schema by `PostgresQuery.check` (each
/// module's catalogue test runs it for every query): a renamed column, a parameter of a type its
/// position cannot take or a placeholder the Swift side does not pass fails that one named test.
public struct PostgresQuery<each Parameter: PostgresEncodable, Row>: Sendable {
    /// The SQL, its prepared name and its planning.
    public let statement: PostgresStatement
    /// The type OIDs the parameters are sent as, in order (0: the server infers it, as for text).
    public let parameterTypes: [UInt32]
    let decodeRow: @Sendable (PostgresRow) throws -> Row

    /// A query whose rows decode with `row`.
    /// - Parameters:
    ///   - name: its prepared-statement name (prefixed `accord_` on the server), unique in the program.
    ///   - sql: one statement with `$1`, `$2`… placeholders, one per parameter.
    ///   - planning: `.perCall` for statements with optional filters (see `PostgresStatement.Planning`).
    ///   - row: how one row becomes a `Row`, reading columns by name.
    public init(
        _ name: String,
        _ sql: String,
        planning: PostgresStatement.Planning = .prepared,
        row: @escaping @Sendable (PostgresRow) throws -> Row
    ) {
        self.statement = PostgresStatement(name, sql, planning: planning)
        var types: [UInt32] = []
        for type in repeat (each Parameter).self { types.append(type.postgresType) }
        self.parameterTypes = types
        self.decodeRow = row
    }

    /// The statement with these parameters, ready to run alone or in a pipeline.
    public func bind(_ parameter: repeat each Parameter) -> PostgresBoundQuery<Row> {
        var binds: [PostgresBind] = []
        var index = 0
        for value in repeat each parameter {
            var bind = value.postgresBind
            // NULL is sent with its declared type, so a statement is prepared once whichever values are NULL.
            if bind.bytes == nil { bind.oid = parameterTypes[index] }
            binds.append(bind)
            index += 1
        }
        return PostgresBoundQuery(statement: statement, binds: binds, decodeRow: decodeRow)
    }
}

extension PostgresQuery where Row == Void {
    /// A statement whose rows nobody reads (INSERT, UPDATE, DELETE without RETURNING, a lock).
    public init(_ name: String, _ sql: String, planning: PostgresStatement.Planning = .prepared) {
        self.init(name, sql, planning: planning) { _ in () }
    }
}

/// A statement that returns no rows anybody reads.
public typealias PostgresCommand<each Parameter: PostgresEncodable> = PostgresQuery<repeat each Parameter, Void>

/// A query with its parameter values: what a connection runs.
public struct PostgresBoundQuery<Row>: Sendable {
    /// The statement.
    public let statement: PostgresStatement
    let binds: [PostgresBind]
    let decodeRow: @Sendable (PostgresRow) throws -> Row

    /// Decodes every row of a result this statement returned.
    public func decode(_ result: PostgresResult) throws -> [Row] {
        try result.map(decodeRow)
    }
}

extension PostgresConnection {
    /// Runs a typed query and returns its rows, decoded.
    public func query<each Parameter, Row>(
        _ query: PostgresQuery<repeat each Parameter, Row>,
        _ parameter: repeat each Parameter
    )
        async throws -> [Row]
    {
        try await run(query.bind(repeat each parameter))
    }

    /// Runs a typed query and returns its first row, or `nil` when it returned none.
    public func queryFirst<each Parameter, Row>(
        _ query: PostgresQuery<repeat each Parameter, Row>,
        _ parameter: repeat each Parameter
    ) async throws -> Row? {
        let bound = query.bind(repeat each parameter)
        guard let row = try await self.query(bound.statement, binds: bound.binds).firstRow else { return nil }
        return try bound.decodeRow(row)
    }

    /// Runs a typed query that returns exactly one row (an aggregate, an `INSERT … RETURNING`).
    /// - Throws: `PostgresError` with code `.decoding` when it returned no row.
    public func queryOne<each Parameter, Row>(
        _ query: PostgresQuery<repeat each Parameter, Row>,
        _ parameter: repeat each Parameter
    ) async throws -> Row {
        guard let row = try await queryFirst(query, repeat each parameter) else {
            throw PostgresError(.decoding, "statement '\(query.statement.name ?? "unnamed")' returned no row")
        }
        return row
    }

    /// Runs a bound query and returns its rows, decoded.
    public func run<Row>(_ bound: PostgresBoundQuery<Row>) async throws -> [Row] {
        try bound.decode(try await query(bound.statement, binds: bound.binds))
    }

    /// Runs a typed statement and returns how many rows it changed.
    @discardableResult
    public func execute<each Parameter, Row>(
        _ query: PostgresQuery<repeat each Parameter, Row>,
        _ parameter: repeat each Parameter
    )
        async throws -> Int
    {
        let bound = query.bind(repeat each parameter)
        return try await self.query(bound.statement, binds: bound.binds).affectedRows
    }

    /// Queues a typed statement whose result nobody reads, to travel with the next one (see
    /// `executeDeferred(_:_:)`).
    public func executeDeferred<each Parameter>(
        _ command: PostgresCommand<repeat each Parameter>,
        _ parameter: repeat each Parameter
    )
        async throws
    {
        let bound = command.bind(repeat each parameter)
        try await executeDeferred(bound.statement, binds: bound.binds)
    }

    /// Runs several bound queries in one round trip (see `pipeline(_:)`) and returns each one's rows, decoded,
    /// as a tuple in the same order: no result is read by index.
    public func pipeline<each Row>(_ bound: repeat PostgresBoundQuery<each Row>) async throws -> (repeat [each Row]) {
        var statements: [(statement: PostgresStatement, binds: [PostgresBind])] = []
        for query in repeat each bound { statements.append((query.statement, query.binds)) }
        let results = try await pipelineBound(statements)
        var index = 0
        func next<R>(_ query: PostgresBoundQuery<R>) throws -> [R] {
            defer { index += 1 }
            return try query.decode(results[index])
        }
        return (repeat try next(each bound))
    }

    /// Runs bound queries of one row type in one round trip, in order.
    public func pipeline<Row>(_ bound: [PostgresBoundQuery<Row>]) async throws -> [[Row]] {
        let results = try await pipelineBound(bound.map { ($0.statement, $0.binds) })
        return try zip(bound, results).map { try $0.decode($1) }
    }
}

/// A query the catalogue test can check against the schema without running it.
public protocol PostgresCheckable: Sendable {
    /// The statement checked.
    var statement: PostgresStatement { get }
    /// The problems found with this query against the connected database's schema; empty when none.
    func check(on connection: PostgresConnection) async throws -> [String]
}

extension PostgresQuery: PostgresCheckable {
    /// Prepares the SQL with the Swift parameter types (the server refuses a type its position cannot
    /// take), compares the placeholders with the parameters, and runs the row decoder on one row of
    /// placeholders of the described column types (it fails on a column the statement does not return
    /// or returns with a type the decoder cannot read).
    public func check(on connection: PostgresConnection) async throws -> [String] {
        let label = statement.name ?? String(statement.sql.prefix(60))
        let described: (parameters: [UInt32], columns: [PostgresColumn])
        do {
            described = try await connection.describe(statement.sql, parameterTypes: parameterTypes)
        } catch let error as PostgresError {
            return ["\(label): the server refuses it with these parameter types: \(error.message)"]
        }
        var problems: [String] = []
        let highest = Self.highestPlaceholder(statement.sql)
        if highest != parameterTypes.count || described.parameters.count != parameterTypes.count {
            problems.append("\(label): the SQL uses $1…$\(highest), the Swift side passes \(parameterTypes.count) parameters")
        }
        if Row.self != Void.self {
            let probe = PostgresResult.probe(described.columns)
            do {
                _ = try decodeRow(probe[0])
            } catch let error as PostgresError {
                problems.append("\(label): the row decoder does not fit the columns: \(error.message)")
            } catch {
                // A decoder that parses a column's content (JSON) cannot read a placeholder; the columns it
                // read before that fitted.
            }
        }
        return problems
    }

    /// The highest `$n` in the text, outside quoted strings and identifiers.
    static func highestPlaceholder(_ sql: String) -> Int {
        var highest = 0
        var quote: Character?
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "$" {
                var digits = ""
                var next = sql.index(after: index)
                while next < sql.endIndex, let digit = sql[next].wholeNumberValue, sql[next].isASCII {
                    digits.append(String(digit))
                    next = sql.index(after: next)
                }
                if let number = Int(digits) { highest = max(highest, number) }
            }
            index = sql.index(after: index)
        }
        return highest
    }
}

extension PostgresResult {
    /// One row of placeholders of the columns' types, in binary form, marked as a probe.
    static func probe(_ columns: [PostgresColumn]) -> PostgresResult {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        for column in columns {
            let bytes = placeholder(column.oid)
            offsets.append(storage.count)
            lengths.append(Int32(bytes.count))
            storage += bytes
        }
        return PostgresResult(
            columns: columns,
            rowCount: 1,
            affectedRows: 1,
            commandTag: "PROBE",
            storage: storage,
            offsets: offsets,
            lengths: lengths,
            isProbe: true
        )
    }

    private static func placeholder(_ oid: UInt32) -> [UInt8] {
        switch oid {
        case PostgresOID.bool: [0]
        case PostgresOID.int2: [UInt8](repeating: 0, count: 2)
        case PostgresOID.int4, PostgresOID.oid, PostgresOID.float4, PostgresOID.date: [UInt8](repeating: 0, count: 4)
        case PostgresOID.int8, PostgresOID.float8, PostgresOID.timestamp, PostgresOID.timestamptz: [UInt8](repeating: 0, count: 8)
        case PostgresOID.uuid: [UInt8](repeating: 0, count: 16)
        case PostgresOID.numeric: [UInt8](repeating: 0, count: 8)
        case PostgresOID.bytea: []
        case PostgresOID.jsonb: [1] + Array("{}".utf8)
        case PostgresOID.json: Array("{}".utf8)
        default: Array("0".utf8)
        }
    }
}
