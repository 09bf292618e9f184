import AccordStore
public import ArgumentParser
import Foundation
import AccordCore

/// `accord finding`: nonconformities and their corrective action.
struct FindingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finding",
        abstract: "Raise, read and close findings with root cause and corrective action (ISO/IEC 42001 cl. 10.2).",
        subcommands: [FindingAdd.self, FindingList.self, FindingShow.self, FindingRootCause.self]
    )
}

extension FindingSource: ExpressibleByArgument {}
extension FindingSeverity: ExpressibleByArgument {}

func printFinding(_ f: Finding) {
    print("finding \(f.number) of \(f.program): \(f.title)")
    print("  \(f.severity.rawValue), from \(f.source.rawValue)" + (f.system.map { ", AI system \($0)" } ?? "") + (f.incident.map { ", incident \($0)" } ?? "")
          + (f.cycle.map { ", cycle \($0)" } ?? ""))
    print("  opened \(f.openedAt.formatted(.iso8601)) by \(f.openedBy); " + (f.closedAt.map { "closed \($0.formatted(.iso8601))" } ?? "open"))
    print("  root cause: \(f.rootCause ?? "not recorded yet (accord finding root-cause \(f.program) \(f.number) --text ...)")")
    if !f.tasks.isEmpty {
        printTable(["  task", "due", "state", "assignee"], f.tasks.map { ["  " + $0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.assignee.orDash] })
    }
}

/// `accord finding add PROGRAM --source --severity --title [--system]`.
struct FindingAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Raise a finding; its corrective-action tasks are created from the workflow (members).")
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

/// `accord finding list PROGRAM [--open]`.
struct FindingList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's findings.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Flag(help: "Only open findings.") var open = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let findings = try await withStore(database) { try await $0.findings(program: program, openOnly: open, actor: acting.actor) }
        if json { return try printJSON(findings) }
        printTable(["#", "severity", "source", "system", "state", "tasks done", "title"], findings.map {
            [String($0.number), $0.severity.rawValue, $0.source.rawValue, $0.system.orDash, $0.isOpen ? "open" : "closed",
             "\($0.tasks.filter { $0.state == .done }.count)/\($0.tasks.count)", $0.title]
        })
    }
}

/// `accord finding show PROGRAM N`.
struct FindingShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a finding with its root cause and tasks.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The finding's number.") var number: Int
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let f = try await withStore(database) { try await $0.finding(program: program, number: number, actor: acting.actor) }
        if json { return try printJSON(f) }
        printFinding(f)
    }
}

/// `accord finding root-cause PROGRAM N --text T`.
struct FindingRootCause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "root-cause", abstract: "Record a finding's root cause (managers, or whoever is assigned one of its tasks).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Argument(help: "The finding's number.") var number: Int
    @Option(help: "The root cause.") var text: String

    func run() async throws {
        let f = try await withStore(database) { try await $0.recordRootCause(program: program, finding: number, rootCause: text, actor: acting.actor) }
        printFinding(f)
    }
}
