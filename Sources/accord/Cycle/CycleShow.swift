import AccordCore
import AccordStore
import ArgumentParser

/// `accord cycle show PROGRAM [N]`.
struct CycleShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a cycle (the latest by default): dates, KPIs and its tasks.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The cycle number.") var number: Int?
    @OptionGroup var output: JSONOption

    func run() async throws {
        let detail = try await withStore(database) { try await $0.cycle(program: program, number: number, actor: acting.actor) }
        if output.json { return try printJSON(detail) }
        printCycle(detail.cycle)
        print("")
        printTable(
            ["task", "due", "state", "assignee", "title"],
            detail.tasks.map { [$0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.assignee.orDash, $0.title] }
        )
    }
}
