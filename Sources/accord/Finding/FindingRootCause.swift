import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord finding root-cause PROGRAM N --text T`.
struct FindingRootCause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root-cause",
        abstract: "Record a finding's root cause (managers, or whoever is assigned one of its tasks)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The finding's number.") var number: Int
    @Option(help: "The root cause.") var text: String

    func run() async throws {
        let f = try await withStore(database) {
            try await $0.recordRootCause(program: program, finding: number, rootCause: text, actor: acting.actor)
        }
        printFinding(f)
    }
}
