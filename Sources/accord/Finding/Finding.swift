import AccordCore
import AccordStore
public import ArgumentParser
import Foundation

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
    print(
        "  \(f.severity.rawValue), from \(f.source.rawValue)" + (f.system.map { ", AI system \($0)" } ?? "")
            + (f.incident.map { ", incident \($0)" } ?? "")
            + (f.cycle.map { ", cycle \($0)" } ?? "")
    )
    print("  opened \(f.openedAt.formatted(.iso8601)) by \(f.openedBy); " + (f.closedAt.map { "closed \($0.formatted(.iso8601))" } ?? "open"))
    print("  root cause: \(f.rootCause ?? "not recorded yet (accord finding root-cause \(f.program) \(f.number) --text ...)")")
    if !f.tasks.isEmpty {
        printTable(["  task", "due", "state", "assignee"], f.tasks.map { ["  " + $0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.assignee.orDash] })
    }
}
