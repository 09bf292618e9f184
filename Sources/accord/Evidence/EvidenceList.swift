import AccordStore
import ArgumentParser
import Foundation

/// `accord evidence list TASK`.
struct EvidenceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every evidence version of a task.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String

    func run() async throws {
        let versions = try await withStore(database) { try await $0.evidence(of: task, actor: acting.actor) }
        if output.json { return try printJSON(versions) }
        if versions.isEmpty { return print("no evidence on \(task) yet") }
        let format = ISO8601DateFormatter()
        printTable(
            ["ID", "TITLE", "VERSION", "SIZE", "SHA-256", "BY", "AT", "FILE"],
            versions.map {
                [
                    String($0.id), $0.title, String($0.version), String($0.size), $0.sha256, $0.uploadedBy, format.string(from: $0.uploadedAt),
                    $0.fileName,
                ]
            }
        )
    }
}
