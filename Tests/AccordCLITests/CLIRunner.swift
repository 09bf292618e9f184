import Foundation
import Testing

/// The `accord` binary the tests run: `ACCORD_BINARY`, or the one built beside the test bundle.
func accordBinary() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["ACCORD_BINARY"] { return URL(fileURLWithPath: path) }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("accord")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/accord")
    guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
        throw CLIError("the accord binary was not found; build it with 'swift build' or set ACCORD_BINARY")
    }
    return fallback
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a command printed and how it ended.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A private ACCORD_HOME, with no PG* or DATABASE_URL from the caller's environment.
struct CLISandbox {
    let home: URL
    /// More variables for every command (the mail relay of the mail tour).
    var extraEnvironment: [String: String] = [:]

    init() throws {
        home = URL(fileURLWithPath: "/tmp/accord-cli-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in !key.hasPrefix("PG") && key != "DATABASE_URL" && key != "ACCORD_USER" }
        env["ACCORD_HOME"] = home.path
        return env.merging(extraEnvironment) { $1 }
    }

    /// Runs `accord` with arguments and optional standard input.
    func run(_ arguments: [String], stdin: String? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = try accordBinary()
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    /// Stops the sandbox's cluster and removes its folder.
    func tearDown() {
        _ = try? run(["db", "stop"])
        try? FileManager.default.removeItem(at: home)
    }
}
