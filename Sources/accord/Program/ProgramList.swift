import AccordStore
import ArgumentParser

/// `accord program list`.
struct ProgramList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the programs you may see, with progress.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let programs = try await withStore(database) { try await $0.programs(actor: acting.actor) }
        if output.json { return try printJSON(programs) }
        printTable(
            ["PROGRAM", "WORKFLOW", "STARTS", "TASKS", "DONE", "OVERDUE", "TITLE"],
            programs.map {
                [$0.slug, "\($0.workflow)@\($0.workflowVersion)", $0.startsOn, String($0.tasks), "\($0.progress)%", String($0.overdue), $0.title]
            }
        )
    }
}
