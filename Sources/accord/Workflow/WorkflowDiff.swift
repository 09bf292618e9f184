import AccordCore
import AccordStore
import ArgumentParser

/// `accord workflow diff ID V1 V2`.
struct WorkflowDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Show what a newer workflow version adds, removes and changes.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The workflow id.") var id: String
    @Argument(help: "The older version.") var from: Int
    @Argument(help: "The newer version.") var to: Int

    func run() async throws {
        let diff = try await withStore(database) { try await $0.workflowDiff(id, from: from, to: to) }
        if output.json { return try printJSON(diff) }
        if diff.isEmpty { return print("\(id): versions \(from) and \(to) define the same roadmap") }
        print("\(id) version \(from) -> \(to):")
        for line in diff.lines { print("  \(line)") }
    }
}
