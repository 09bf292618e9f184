import AccordStore
import ArgumentParser

/// `accord cycle list PROGRAM`.
struct CycleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's cycles.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @OptionGroup var output: JSONOption

    func run() async throws {
        let cycles = try await withStore(database) { try await $0.cycles(program: program, actor: acting.actor) }
        if output.json { return try printJSON(cycles) }
        if cycles.isEmpty { return print("\(program) has no cycles yet; open one with: accord cycle open \(program)") }
        printTable(
            ["cycle", "from", "to", "period", "state", "tasks due", "on time", "overdue", "findings open/closed"],
            cycles.map {
                [
                    String($0.number), $0.startsOn, $0.endsOn, $0.period, $0.isOpen ? "open" : "closed", String($0.kpis.tasksDue),
                    "\($0.kpis.onTimePercent)%",
                    String($0.kpis.overdue), "\($0.kpis.findingsOpened)/\($0.kpis.findingsClosed)",
                ]
            }
        )
    }
}
