import AccordStore
import ArgumentParser

/// `accord cycle close PROGRAM`.
struct CycleClose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close the open cycle once its management review is signed, snapshotting its KPIs (managers)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String

    func run() async throws {
        let cycle = try await withStore(database) { try await $0.closeCycle(program: program, actor: acting.actor) }
        printCycle(cycle)
    }
}
