import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord finding add PROGRAM --source --severity --title [--system]`.
struct FindingAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Raise a finding; its corrective-action tasks are created from the workflow (members)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Option(help: "audit, incident, monitoring, review or other.") var source: FindingSource
    @Option(help: "major, minor or observation.") var severity: FindingSeverity
    @Option(help: "What was found.") var title: String
    @Option(help: "The AI system concerned, if one.") var system: String?

    func run() async throws {
        let f = try await withStore(database) {
            try await $0.addFinding(program: program, source: source, severity: severity, title: title, system: system, actor: acting.actor)
        }
        printFinding(f)
    }
}
