public import AccordCore
import AccordStore
public import ArgumentParser
import Foundation

/// `accord cycle`: continual-improvement cycles.
struct CycleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cycle",
        abstract: "Open, close and read plan-do-check-act cycles (ISO/IEC 42001 cl. 9.2, 9.3, 10.1).",
        subcommands: [CycleOpen.self, CycleClose.self, CycleList.self, CycleShow.self]
    )
}

extension ISODuration: ExpressibleByArgument {
    /// Parses a command-line value such as `--period P6M`; ArgumentParser reports a usage error when it is not a duration.
    public init?(argument: String) { self.init(argument) }
}

/// The KPI lines of a cycle, for `cycle show`, `cycle close` and `report cycles`.
let cycleKPIRows: [(String, @Sendable (CycleKPIs) -> String)] = [
    ("tasks due", { String($0.tasksDue) }),
    ("done on time", { String($0.doneOnTime) }),
    ("done late", { String($0.doneLate) }),
    ("overdue", { String($0.overdue) }),
    ("on time %", { "\($0.onTimePercent)%" }),
    ("sign-off latency (median h)", { $0.signOffLatencyHours.map { String(format: "%.1f", $0) } ?? "-" }),
    ("findings opened", { String($0.findingsOpened) }),
    ("findings closed", { String($0.findingsClosed) }),
    ("corrective action (mean days to close)", { $0.meanDaysToCloseCorrectiveAction.map { String(format: "%.1f", $0) } ?? "-" }),
    ("escalations", { String($0.escalations) }),
]

func printCycle(_ c: CycleSummary) {
    print("cycle \(c.number) of \(c.program): \(c.startsOn) to \(c.endsOn) (\(c.period)), " + (c.isOpen ? "open" : "closed by \(c.closedBy ?? "?")"))
    for (name, value) in cycleKPIRows { print("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0))\(value(c.kpis))") }
}
