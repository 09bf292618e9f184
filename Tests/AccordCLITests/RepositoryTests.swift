import Foundation
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func findExecutable(_ name: String) -> String? {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/\(name)" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// `make test` installs docker-compose and sets ACCORD_TEST_STRICT, so there the check cannot be skipped.
private let composeCheckable = findExecutable("docker-compose") != nil || ProcessInfo.processInfo.environment["ACCORD_TEST_STRICT"] == "1"

@Suite("Repository files")
struct RepositoryTests {
    @Test("docker-compose.yml parses, with PostgreSQL 16, the app wired to it as accord_app, and no default password", .enabled(if: composeCheckable))
    func composeFileIsValid() throws {
        let compose = try #require(findExecutable("docker-compose"), "docker-compose is not installed (make test installs it)")
        func config(_ environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compose)
            process.arguments = ["-f", repositoryRoot.appendingPathComponent("docker-compose.yml").path, "config"]
            process.currentDirectoryURL = repositoryRoot
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ACCORD_") }.merging(environment) { $1 }
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let config = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, config, problems)
        }
        // Without passwords it refuses to start: there is no default one.
        #expect(try config([:]).status != 0)
        let (status, text, problems) = try config(["ACCORD_DB_OWNER_PASSWORD": "owner-secret", "ACCORD_APP_PASSWORD": "app-secret"])
        #expect(status == 0, "\(problems)")
        #expect(text.contains("image: postgres:16"))
        #expect(text.contains("DATABASE_URL: postgres://accord_app:app-secret@db:5432/accord"), "the app logs in as its own role")
        #expect(!text.contains("DATABASE_URL: postgres://accord_owner"), "the app never holds the owner's credentials")
        #expect(text.contains("--owner-database"))
        #expect(text.contains("condition: service_healthy"))
        #expect(text.contains("condition: service_completed_successfully"))
    }

    @Test("Package.resolved and build folders are ignored, never committed")
    func ignoredFiles() throws {
        let ignore = try String(contentsOf: repositoryRoot.appendingPathComponent(".gitignore"), encoding: .utf8)
        for entry in [".build/", ".build-*/", "Package.resolved"] {
            #expect(ignore.split(separator: "\n").contains(Substring(entry)), "\(entry)")
        }
    }
}

@Suite("Documentation")
struct DocumentationTests {
    @Test("the complete example in docs/workflow-format.md validates")
    func workflowFormatExample() throws {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/workflow-format.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```yaml\n"))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        let example = FileManager.default.temporaryDirectory.appendingPathComponent("accord-doc-\(UUID().uuidString).yaml")
        try String(doc[start.upperBound..<end.lowerBound]).write(to: example, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: example) }
        let result = try CLISandbox().run(["workflow", "validate", example.path])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains(": ok: vendor-ai-review version 1"))
    }
}
