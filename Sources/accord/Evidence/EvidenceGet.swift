import AccordStore
import ArgumentParser
import Foundation

/// `accord evidence get ID [-o FILE]`.
struct EvidenceGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Download an evidence version, checked against its SHA-256.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The evidence id (see 'accord evidence list').") var id: Int64
    @Option(name: .shortAndLong, help: "Write to this file (default: standard output).") var output: String?

    func run() async throws {
        let (version, bytes) = try await withStore(database) { try await $0.evidenceContent(id, actor: acting.actor) }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else { throw CommandFailure("cannot write '\(output)'") }
            FileHandle.standardError.write(
                Data("wrote \(output): '\(version.title)' version \(version.version), \(bytes.count) bytes, sha256 \(version.sha256)\n".utf8)
            )
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }
}
