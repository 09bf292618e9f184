import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord incident show PROGRAM N`.
struct IncidentShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an incident: its clock, deadline, tasks and root-cause finding."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The incident's number.") var number: Int
    @OptionGroup var output: JSONOption

    func run() async throws {
        let incident = try await withStore(database) { try await $0.incident(program: program, number: number, actor: acting.actor) }
        if output.json { return try printJSON(incident) }
        printIncident(incident)
    }
}
