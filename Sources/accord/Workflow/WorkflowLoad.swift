import AccordCore
import AccordStore
import ArgumentParser

/// `accord workflow load FILE`: store an immutable version.
struct WorkflowLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Validate and store a workflow version (versions are immutable; the built-ins are loaded by migrate)."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "A workflow YAML file.")
    var file: String

    func run() async throws {
        let text = try readTextFile(file)
        let outcome = try await withStore(database) { try await $0.loadWorkflow(yaml: text, file: file, actor: acting.actor) }
        switch outcome {
        case .stored(let summary): print("loaded \(summary.id) version \(summary.version): \(summary.steps) steps, \(summary.tasks) tasks")
        case .unchanged(let summary): print("\(summary.id) version \(summary.version) is already loaded with this content; nothing changed")
        }
    }
}
