import AccordCore
import AccordStore
import ArgumentParser

/// `accord report`: reports over a program.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for leadership and auditors.",
        subcommands: [ReportCycles.self]
    )
}

/// `accord report cycles PROGRAM`: the cycles side by side.
struct ReportCycles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cycles", abstract: "Compare a program's cycles side by side: is the management system improving?")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (one row per KPI, one column per cycle).") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() async throws {
        let cycles = try await withStore(database) { try await $0.cycles(program: program, actor: acting.actor) }
        if json { return try printJSON(cycles) }
        let header = ["KPI"] + cycles.map { "cycle \($0.number)" + ($0.isOpen ? " (open)" : "") }
        let rows = [["period"] + cycles.map { "\($0.startsOn)..\($0.endsOn)" }] + cycleKPIRows.map { name, value in [name] + cycles.map { value($0.kpis) } }
        if csv {
            print(CSV.line(header))
            for row in rows { print(CSV.line(row)) }
            return
        }
        if cycles.isEmpty { return print("\(program) has no cycles yet; open one with: accord cycle open \(program)") }
        printTable(header, rows)
    }
}
