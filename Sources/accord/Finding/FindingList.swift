import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord finding list PROGRAM [--open]`.
struct FindingList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's findings.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Flag(help: "Only open findings.") var open = false
    @OptionGroup var output: JSONOption

    func run() async throws {
        let findings = try await withStore(database) { try await $0.findings(program: program, openOnly: open, actor: acting.actor) }
        if output.json { return try printJSON(findings) }
        printTable(
            ["#", "severity", "source", "system", "state", "tasks done", "title"],
            findings.map {
                [
                    String($0.number), $0.severity.rawValue, $0.source.rawValue, $0.system.orDash, $0.isOpen ? "open" : "closed",
                    "\($0.tasks.filter { $0.state == .done }.count)/\($0.tasks.count)", $0.title,
                ]
            }
        )
    }
}
