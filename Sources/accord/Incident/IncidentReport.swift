import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord incident report PROGRAM --system --kind --aware-at --summary`.
struct IncidentReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report a serious incident: its clock starts from awareness (members)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Option(help: "The AI system involved.") var system: String
    @Option(help: "death (10 days), critical-infrastructure or widespread (2 days), other (15 days).") var kind: IncidentKind
    @Option(help: ArgumentHelp("When the organisation became aware (ISO 8601; YYYY-MM-DDTHH:MM is UTC).", valueName: "time")) var awareAt: String
    @Option(help: "What happened.") var summary: String

    func run() async throws {
        let aware = try parseInstant(awareAt)
        let incident = try await withStore(database) {
            try await $0.reportIncident(program: program, system: system, kind: kind, awareAt: aware, summary: summary, actor: acting.actor)
        }
        printIncident(incident)
    }
}
