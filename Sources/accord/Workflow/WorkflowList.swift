import AccordStore
import ArgumentParser

/// `accord workflow list`.
struct WorkflowList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the stored workflow versions.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let workflows = try await withStore(database) { try await $0.workflows() }
        if output.json { return try printJSON(workflows) }
        printTable(
            ["WORKFLOW", "VERSION", "STEPS", "TASKS", "TITLE"],
            workflows.map { [$0.id, String($0.version), String($0.steps), String($0.tasks), $0.title] }
        )
    }
}
