import AccordCore
import AccordStore
public import ArgumentParser
import Foundation

/// `accord incident`: serious incidents and their AI Act Art. 73 clocks.
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Report serious incidents (AI Act Art. 73) and follow their notification clocks.",
        subcommands: [IncidentReport.self, IncidentList.self, IncidentShow.self]
    )
}

extension IncidentKind: ExpressibleByArgument {}

/// "in 1 d 4 h", or "overdue by 3 h".
func remaining(until deadline: Date, now: Date = Date()) -> String {
    let seconds = Int(deadline.timeIntervalSince(now))
    let hours = abs(seconds) / 3600
    let text = hours >= 24 ? "\(hours / 24) d \(hours % 24) h" : "\(hours) h \(abs(seconds) % 3600 / 60) min"
    return seconds >= 0 ? "in \(text)" : "overdue by \(text)"
}

func printIncident(_ i: Incident) {
    print("incident \(i.number) of \(i.program) on \(i.system): \(i.kind.rawValue)")
    print("  \(i.summary)")
    print("  aware since \(i.awareAt.formatted(.iso8601)); reported by \(i.reportedBy)")
    print("  notify the authority by \(i.reportDueAt.formatted(.iso8601)) (\(i.clock) from awareness): "
          + (i.notified ? "notified" : remaining(until: i.reportDueAt)))
    if let finding = i.finding { print("  root cause: finding \(finding) (accord finding show \(i.program) \(finding))") }
    printTable(["  task", "due", "state", "assignee"], i.tasks.map { ["  " + $0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.assignee.orDash] })
}

/// `accord incident report PROGRAM --system --kind --aware-at --summary`.
struct IncidentReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Report a serious incident: its clock starts from awareness (members).")
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

/// `accord incident list PROGRAM`.
struct IncidentList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's serious incidents with their deadlines.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let incidents = try await withStore(database) { try await $0.incidents(program: program, actor: acting.actor) }
        if json { return try printJSON(incidents) }
        printTable(["#", "system", "kind", "aware at", "notify by", "clock", "status", "summary"], incidents.map {
            [String($0.number), $0.system, $0.kind.rawValue, $0.awareAt.formatted(.iso8601), $0.reportDueAt.formatted(.iso8601), $0.clock,
             $0.notified ? "notified" : remaining(until: $0.reportDueAt), $0.summary]
        })
    }
}

/// `accord incident show PROGRAM N`.
struct IncidentShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an incident: its clock, deadline, tasks and root-cause finding.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The incident's number.") var number: Int
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let incident = try await withStore(database) { try await $0.incident(program: program, number: number, actor: acting.actor) }
        if json { return try printJSON(incident) }
        printIncident(incident)
    }
}
