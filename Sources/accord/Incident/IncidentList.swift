import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord incident list PROGRAM`.
struct IncidentList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's serious incidents with their deadlines.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @OptionGroup var output: JSONOption

    func run() async throws {
        let incidents = try await withStore(database) { try await $0.incidents(program: program, actor: acting.actor) }
        if output.json { return try printJSON(incidents) }
        printTable(
            ["#", "system", "kind", "aware at", "notify by", "clock", "status", "summary"],
            incidents.map {
                [
                    String($0.number), $0.system, $0.kind.rawValue, $0.awareAt.formatted(.iso8601), $0.reportDueAt.formatted(.iso8601), $0.clock,
                    $0.notified ? "notified" : remaining(until: $0.reportDueAt), $0.summary,
                ]
            }
        )
    }
}
