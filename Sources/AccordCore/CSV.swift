import Foundation

/// A minimal RFC 4180 CSV reader and writer: commas, double-quoted fields with `""` escapes,
/// newlines inside quotes, CRLF or LF line ends.
public enum CSV {
    /// A malformed file: the line where the problem is.
    public struct Malformed: Error, CustomStringConvertible {
        /// The line of the text, from 1, where the problem is (for an unclosed quote, where its row starts).
        public let line: Int
        /// What is wrong and how to fix it.
        public let message: String
        /// `line N: message`, as printed to whoever supplied the file.
        public var description: String { "line \(line): \(message)" }
    }

    /// The rows of a CSV text, each with the line it starts on. Empty lines are skipped.
    public static func parse(_ text: String) throws -> [(line: Int, fields: [String])] {
        var rows: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var quotedField = false
        var line = 1
        var rowLine = 1
        var characters = Array(text.unicodeScalars)
        if characters.first == "\u{FEFF}" { characters.removeFirst() }  // a BOM from spreadsheet exports
        var i = 0
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !quotedField) { rows.append((rowLine, fields)) }
            fields = []
            field = ""
            quotedField = false
        }
        while i < characters.count {
            let c = characters[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < characters.count && characters[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"":
                    guard field.isEmpty else {
                        throw Malformed(line: line, message: "a quote inside an unquoted field; quote the whole field and double the quote")
                    }
                    inQuotes = true
                    quotedField = true
                case ",":
                    fields.append(field)
                    field = ""
                    quotedField = false
                case "\r":
                    break
                case "\n":
                    endRow()
                    line += 1
                    rowLine = line
                default:
                    if quotedField { throw Malformed(line: line, message: "text after a closing quote") }
                    field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw Malformed(line: rowLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRow() }
        return rows
    }

    /// One CSV line for these fields, quoted where needed. A cell a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised with a leading `'`,
    /// as OWASP advises against CSV injection; a plain number such as `-3` is left as it is.
    public static func line(_ fields: [String]) -> String {
        fields.map { raw in
            let field = neutralised(raw)
            return field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    /// The cell, with a leading `'` when a spreadsheet would read it as a formula.
    public static func neutralised(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else { return field }
        if field.range(of: #"^[-+]?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil { return field }
        return "'" + field
    }
}
