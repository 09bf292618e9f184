import AccordStore
import ArgumentParser
import Foundation

/// `--as HANDLE` (or ACCORD_USER): who is acting. The engine checks what they may do.
struct ActorOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: ArgumentHelp("Act as this person (default: ACCORD_USER).", valueName: "handle"))
    var actingAs: String?

    var actor: String? {
        if let actingAs, !actingAs.isEmpty { return actingAs }
        return ProcessInfo.processInfo.environment["ACCORD_USER"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `--json` for commands that print data.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false
}

/// Prints a value as JSON: keys sorted, dates in ISO 8601.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints rows as aligned columns under a header.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Opens the store for one command and closes it afterwards, whatever happens.
/// - Parameter migrate: whether to apply pending migrations first (every command but `db status` and `db migrate`).
func withStore<T>(_ options: DatabaseOptions, migrate: Bool = true, maxConnections: Int = 4, _ body: (Store) async throws -> T) async throws -> T {
    try await closing(try await options.openStore(migrate: migrate, maxConnections: maxConnections), body)
}

/// Runs `body` with the store and closes it afterwards, whatever happens.
func closing<T>(_ store: Store, _ body: (Store) async throws -> T) async throws -> T {
    do {
        let result = try await body(store)
        try await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}

/// Reads a password: the first line of stdin with `--password-stdin`, else a no-echo prompt on a terminal.
/// Returns `nil` when neither is possible (no terminal and no flag).
func readPassword(fromStdin: Bool, confirm: Bool) throws -> String? {
    if fromStdin {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandFailure("--password-stdin was given but standard input had no password")
        }
        return line
    }
    guard isatty(STDIN_FILENO) == 1 else { return nil }
    func prompt(_ text: String) -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var settings = termios()
        tcgetattr(STDIN_FILENO, &settings)
        let saved = settings
        settings.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
        defer {
            var restore = saved
            tcsetattr(STDIN_FILENO, TCSANOW, &restore)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
    let first = prompt("Password: ")
    if confirm {
        guard prompt("Password again: ") == first else { throw CommandFailure("the two passwords differ; nothing was changed") }
    }
    return first
}

/// The contents of a file named on the command line, or a one-line error.
func readTextFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure("cannot read '\(path)': no such file, or not readable")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CommandFailure("'\(path)' is not UTF-8 text") }
    return text
}

extension Optional where Wrapped == String {
    /// The value, or a dash for tables.
    var orDash: String { self ?? "-" }
}
