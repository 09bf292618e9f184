import CLibPQ
import Foundation

/// Helpers for libpq connection strings, in either form (`key=value …` or `postgres://…`).
public enum Conninfo {
    /// Parses a conninfo or URL with libpq's own parser into its set keywords.
    /// - Throws: `.connectionFailed` with libpq's reason when the string is malformed.
    public static func parse(_ conninfo: String) throws -> [(key: String, value: String)] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "malformed connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(.connectionFailed, "invalid connection string: \(reason.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        defer { PQconninfoFree(options) }
        var pairs: [(key: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { pairs.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return pairs
    }

    /// The same connection settings with another database name, as a `key=value` conninfo.
    public static func replacingDatabase(in conninfo: String, with database: String) throws -> String {
        try replacing("dbname", in: conninfo, with: database)
    }

    /// The same connection settings with one setting (`dbname`, `user`…) replaced, as a `key=value` conninfo.
    public static func replacing(_ key: String, in conninfo: String, with value: String) throws -> String {
        var pairs = try parse(conninfo).filter { $0.key != key }
        pairs.append((key: key, value: value))
        return pairs.map { "\($0.key)=\(quoteConninfo($0.value))" }.joined(separator: " ")
    }
}

/// Quotes a conninfo value when it needs it (spaces, quotes, backslashes, empty).
public func quoteConninfo(_ value: String) -> String {
    if !value.isEmpty, !value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" }) { return value }
    return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}
