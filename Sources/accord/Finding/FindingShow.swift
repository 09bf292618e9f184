import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord finding show PROGRAM N`.
struct FindingShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a finding with its root cause and tasks.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The finding's number.") var number: Int
    @OptionGroup var output: JSONOption

    func run() async throws {
        let f = try await withStore(database) { try await $0.finding(program: program, number: number, actor: acting.actor) }
        if output.json { return try printJSON(f) }
        printFinding(f)
    }
}
