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
    print(
        "  notify the authority by \(i.reportDueAt.formatted(.iso8601)) (\(i.clock) from awareness): "
            + (i.notified ? "notified" : remaining(until: i.reportDueAt))
    )
    if let finding = i.finding { print("  root cause: finding \(finding) (accord finding show \(i.program) \(finding))") }
    printTable(["  task", "due", "state", "assignee"], i.tasks.map { ["  " + $0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.assignee.orDash] })
}
