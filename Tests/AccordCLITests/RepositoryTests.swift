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

/// Public declarations in a Swift file without a `///` (or `/** */`) comment above them: lines whose
/// modifiers include `public` or `open` and that declare a func, var, let, init, subscript or a type.
/// Attribute lines between the comment and the declaration are skipped; multi-line strings and block
/// comments are not read as code.
func undocumentedPublicDeclarations(in text: String) -> [Int] {
    let attribute = #"@[A-Za-z_][\w.]*(?:\([^)]*\))?"#
    let modifier =
        #"(?:public|open|internal|private|fileprivate|package)(?:\(set\))?|static|class|final|override|mutating|nonmutating|convenience|required|lazy|indirect|nonisolated|dynamic|weak|unowned|optional|distributed|consuming|borrowing"#
    let kind = #"(?:func|var|let|init|subscript|struct|enum|class|actor|protocol|typealias)\b|init[?!(<]"#
    let declaration = try! NSRegularExpression(pattern: #"^\s*(?:\#(attribute)\s+)*((?:(?:\#(modifier))\s+)+)(\#(kind))"#)
    let attributeLine = try! NSRegularExpression(pattern: #"^\s*(?:\#(attribute)\s*)+$"#)
    func matches(_ regex: NSRegularExpression, _ line: String) -> NSTextCheckingResult? {
        regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line))
    }
    let lines = text.components(separatedBy: "\n")
    var missing: [Int] = []
    var inString = false
    var inBlock = false
    for (index, line) in lines.enumerated() {
        let stripped = line.trimmingCharacters(in: .whitespaces)
        let quotes = stripped.components(separatedBy: "\"\"\"").count - 1
        if inBlock {
            if stripped.contains("*/") { inBlock = false }
            continue
        }
        if inString {
            if quotes % 2 == 1 { inString = false }
            continue
        }
        if stripped.hasPrefix("/*") && !stripped.contains("*/") {
            inBlock = true
            continue
        }
        if stripped.hasPrefix("//") { continue }
        if let match = matches(declaration, line), let range = Range(match.range(at: 1), in: line),
            line[range].split(separator: " ").contains(where: { $0 == "public" || $0 == "open" })
        {
            var above = index - 1
            while above >= 0, matches(attributeLine, lines[above]) != nil { above -= 1 }
            let previous = above >= 0 ? lines[above].trimmingCharacters(in: .whitespaces) : ""
            var documented = previous.hasPrefix("///")
            if !documented, previous.hasSuffix("*/") {
                var start = above
                while start >= 0, !lines[start].contains("/*") { start -= 1 }
                documented = start >= 0 && lines[start].contains("/**")
            }
            if !documented { missing.append(index + 1) }
        }
        if quotes % 2 == 1 { inString = true }
    }
    return missing
}

@Suite("Source habits")
struct SourceHabitTests {
    /// Every Swift file under Sources/.
    func sources() throws -> [(path: String, text: String)] {
        let root = repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.sorted().map { ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test("every public declaration under Sources has a /// comment")
    func publicDeclarationsAreDocumented() throws {
        let missing = try sources().flatMap { file in undocumentedPublicDeclarations(in: file.text).map { "\(file.path):\($0)" } }
        #expect(missing.isEmpty, "undocumented: \(missing.prefix(20).joined(separator: ", "))")
    }

    @Test("the check finds an undocumented declaration and accepts a documented one")
    func checkCanFail() {
        let text = "/// Documented.\n@discardableResult\npublic func a() {}\npublic var b = 1\nlet s = \"\"\"\npublic var c\n\"\"\"\n"
        #expect(undocumentedPublicDeclarations(in: text) == [4])
    }

    @Test("no source file is over 400 lines, unless its first lines say why")
    func filesStaySmall() throws {
        let long = try sources().filter { $0.text.components(separatedBy: "\n").count > 420 }
            .filter { !$0.text.prefix(600).contains("Kept whole:") }
        #expect(long.isEmpty, "\(long.map(\.path))")
    }
}
