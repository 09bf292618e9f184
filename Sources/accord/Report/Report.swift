import AccordCore
import AccordReports
import AccordStore
public import ArgumentParser
import Foundation

extension ReportKind: ExpressibleByArgument {}

/// `accord report KIND PROGRAM [--json|--csv]`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for leadership and auditors: status, accountability, soa, crosswalk, overdue, cycles."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "status, accountability, soa (statement of applicability), crosswalk, overdue or cycles.") var kind: ReportKind
    @Argument(help: "The program.") var program: String
    @OptionGroup var output: JSONOption
    @Flag(help: "Print the report's main table as CSV (header row; quoted where needed).") var csv = false

    func validate() throws {
        if output.json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() async throws {
        try await withStore(database) { store in
            if output.json { return try await printData(store) }
            if kind == .cycles { return try await printCycles(store) }
            let report = try await store.report(kind, program: program, actor: acting.actor)
            if csv {
                let table = report.tables[0]
                print(CSV.line(table.header))
                for row in table.rows { print(CSV.line(row)) }
                return
            }
            print("\(report.kind.title): \(report.programTitle) (\(report.program)), \(ISO8601DateFormatter().string(from: report.generatedAt))")
            for line in report.summary { print(line) }
            for table in report.tables {
                print("\n\(table.title)")
                printTable(table.header, table.rows)
            }
        }
    }

    private func printData(_ store: Store) async throws {
        switch kind {
        case .status: try printJSON(try await store.statusReport(program: program, actor: acting.actor))
        case .accountability: try printJSON(try await store.accountabilityReport(program: program, actor: acting.actor))
        case .soa: try printJSON(try await store.soaReport(program: program, actor: acting.actor))
        case .crosswalk: try printJSON(try await store.crosswalkReport(program: program, actor: acting.actor))
        case .overdue: try printJSON(try await store.overdueReport(program: program, actor: acting.actor))
        case .cycles: try printJSON(try await store.cycles(program: program, actor: acting.actor))
        }
    }

    /// The cycles side by side: one column per cycle, one row per KPI.
    private func printCycles(_ store: Store) async throws {
        let cycles = try await store.cycles(program: program, actor: acting.actor)
        let header = ["KPI"] + cycles.map { "cycle \($0.number)" + ($0.isOpen ? " (open)" : "") }
        let rows =
            [["period"] + cycles.map { "\($0.startsOn)..\($0.endsOn)" }] + cycleKPIRows.map { name, value in [name] + cycles.map { value($0.kpis) } }
        if csv {
            print(CSV.line(header))
            for row in rows { print(CSV.line(row)) }
            return
        }
        if cycles.isEmpty { return print("\(program) has no cycles yet; open one with: accord cycle open \(program)") }
        printTable(header, rows)
    }
}
