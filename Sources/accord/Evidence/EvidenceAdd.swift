import AccordStore
import ArgumentParser
import Foundation

/// `accord evidence add TASK FILE [--title T]`.
struct EvidenceAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Attach a file to a task; under an existing title it becomes a new version. On a signed task it supersedes the signatures."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String
    @Argument(help: "The file.") var file: String
    @Option(help: "The evidence title (default: the file name).") var title: String?

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CommandFailure("cannot read '\(file)': no such file")
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read '\(file)': permission denied") }
        let version = try await withStore(database) { store in
            try await store.addEvidence(to: task, fileName: file, bytes: Array(data), title: title, actor: acting.actor)
        }
        print(
            "\(version.task): '\(version.title)' version \(version.version), \(version.size) bytes, sha256 \(version.sha256) (evidence \(version.id), task version \(version.taskVersion))"
        )
    }
}
