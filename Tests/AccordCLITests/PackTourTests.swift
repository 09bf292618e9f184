import Foundation
import Testing

@Suite("Reports and the evidence pack from the command line", .serialized)
struct PackTourTests {
    @Test("report prints tables and CSV; export writes a pack that verify-pack accepts offline and refuses once changed")
    func tour() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        #expect(try sandbox.run(["user", "add", "ada", "--name", "Ada Lovelace", "--admin"]).status == 0)
        #expect(try sandbox.run(["program", "start", "eu-ai-act-iso42001", "--title", "ACME", "--slug", "acme", "--as", "ada"]).status == 0)
        #expect(try sandbox.run(["role", "bind", "acme", "aims-manager", "ada", "--as", "ada"]).status == 0)
        let memo = sandbox.home.appendingPathComponent("context.md")
        try "Context analysis".write(to: memo, atomically: true, encoding: .utf8)
        #expect(try sandbox.run(["evidence", "add", "acme/context", memo.path, "--title", "Context analysis", "--as", "ada"]).status == 0)

        let soa = try sandbox.run(["report", "soa", "acme", "--csv", "--as", "ada"])
        #expect(soa.status == 0)
        #expect(soa.stdout.split(separator: "\n").count == 39)
        let crosswalk = try sandbox.run(["report", "crosswalk", "acme", "--as", "ada"])
        #expect(crosswalk.stdout.contains("Legal-only obligations: the gap between the standard and the law"))
        #expect(try sandbox.run(["report", "nonsense", "acme", "--as", "ada"]).status == 64)

        let pack = sandbox.home.appendingPathComponent("acme.zip").path
        let export = try sandbox.run(["export", "acme", "-o", pack, "--as", "ada"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("1 evidence file(s)"))
        let verified = try sandbox.run(["verify-pack", pack])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains(": ok: program acme"))
        let key = sandbox.home.appendingPathComponent("audit.key").path
        #expect(try sandbox.run(["verify-pack", pack, "--key", key]).stdout.contains("MACs checked with key"))
        // The auditor's verifier on its own: the same answer, and no libpq in the binary.
        let alone = try accordBinary().deletingLastPathComponent().appendingPathComponent("accord-verify-pack")
        let standalone = try runTool(alone, [pack, "--key", key])
        #expect(standalone.status == 0, "\(standalone.stderr)")
        #expect(standalone.stdout.contains(": ok: program acme") && standalone.stdout.contains("MACs checked with key"))
        let linked = try runTool(URL(fileURLWithPath: "/usr/bin/ldd"), [alone.path])
        #expect(linked.status == 0 && !linked.stdout.contains("libpq"), "\(linked.stdout)")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: pack))
        let at = try #require(bytes.range(of: Data("Context analysis".utf8)))
        bytes[at.lowerBound] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: pack))
        let refused = try sandbox.run(["verify-pack", pack])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("problem(s): the pack cannot be trusted"))
        let tamperedAlone = try runTool(alone, [pack])
        #expect(tamperedAlone.status == 2 && tamperedAlone.stderr.contains("problem(s): the pack cannot be trusted"))
        let missing = try sandbox.run(["verify-pack", sandbox.home.appendingPathComponent("nope.zip").path])
        #expect(missing.status != 0 && missing.stderr.split(separator: "\n").count == 1)
    }
}

/// Runs a program with arguments and returns how it ended and what it printed.
func runTool(_ executable: URL, _ arguments: [String]) throws -> CLIResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
}
