import AccordCore
public import AccordStore
public import Foundation

// The reports as people read them: titles, tables, number formats and the line of prose that says
// what the figures mean. The engine gathers the figures (`Store.reportData`); every front that shows a
// report (the CLI, the report page, the API, CSV, the evidence pack) words it here, once.

/// A table of a report: what the CLI prints, CSV exports and the report page renders.
public struct ReportTable: Codable, Sendable, Equatable {
    /// The table's heading.
    public var title: String
    /// The column names.
    public var header: [String]
    /// The cells, row by row, as text.
    public var rows: [[String]]

    /// The table as CSV: a header row, fields quoted where they need it, CRLF line ends (RFC 4180).
    public var csv: String { ([header] + rows).map { CSV.line($0) + "\r\n" }.joined() }
}

extension ReportKind {
    /// The report's title, as pages, the CLI and the pack head it.
    public var title: String {
        switch self {
        case .status: "Status"
        case .accountability: "Accountability"
        case .soa: "Statement of applicability (ISO/IEC 42001 Annex A)"
        case .crosswalk: "Crosswalk: ISO/IEC 42001 and the AI Act"
        case .overdue: "Overdue work"
        case .cycles: "Improvement cycles"
        }
    }
}

/// One report as people read it: a line or two of summary and its tables (the first table is the CSV).
/// This is also the JSON the API answers and the pack keeps under `reports/`.
public struct Report: Codable, Sendable, Equatable {
    /// Which report.
    public var kind: ReportKind
    /// The program's slug.
    public var program: String
    /// The program's title.
    public var programTitle: String
    /// When the figures were read.
    public var generatedAt: Date
    /// A line or two saying what the figures mean.
    public var summary: [String]
    /// The figures as tables; the first is the one CSV exports.
    public var tables: [ReportTable]

    /// The report's words and tables for its data.
    public init(_ data: ReportData) {
        kind = data.kind
        program = data.program
        programTitle = data.programTitle
        generatedAt = data.generatedAt
        (summary, tables) =
            switch data.content {
            case .status(let report): Self.status(report)
            case .accountability(let report): Self.accountability(report)
            case .soa(let report): Self.soa(report)
            case .crosswalk(let report): Self.crosswalk(report)
            case .overdue(let report, let today): Self.overdue(report, today: today)
            case .cycles(let cycles): Self.cycles(cycles)
            }
    }

    /// Hours and days with one decimal; empty when there is no figure.
    static func oneDecimal(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }

    static func status(_ data: StatusReport) -> ([String], [ReportTable]) {
        let done = data.rows.filter { $0.state == .done }.count
        let notApplicable = data.rows.filter { $0.state == .notApplicable }.count
        let overdue = data.rows.filter { $0.overdueDays != nil }.count
        return (
            ["\(data.rows.count) tasks: \(done) done, \(notApplicable) not applicable, \(overdue) overdue."],
            [
                ReportTable(
                    title: "Tasks by step",
                    header: ["step", "task", "title", "state", "owner role", "assignee", "due", "days late", "signatures"],
                    rows: data.rows.map {
                        [
                            $0.step, $0.ref, $0.title, $0.state.rawValue, $0.ownerRole, $0.assignee ?? "", $0.dueOn ?? "",
                            $0.overdueDays.map(String.init) ?? "", $0.signatures.joined(separator: "; "),
                        ]
                    }
                )
            ]
        )
    }

    static func accountability(_ data: AccountabilityReport) -> ([String], [ReportTable]) {
        (
            [
                "Leaders: sign-offs they can give now (pending), of those past due, signatures given, and hours from submission to their signature. Owners: their outstanding, overdue and done tasks.",
                "RACI from the workflow: responsible = the tasks' owner roles; accountable = leadership roles that sign off; consulted = other signers; informed = escalation targets.",
            ],
            [
                ReportTable(
                    title: "People",
                    header: [
                        "person", "name", "kind", "roles", "pending", "overdue", "done", "median h to sign", "p90 h to sign",
                        "escalations received",
                    ],
                    rows: data.people.map {
                        [
                            $0.handle, $0.name, $0.kind, $0.roles.joined(separator: " "), String($0.pending), String($0.overdue), String($0.done),
                            oneDecimal($0.medianHoursToSign), oneDecimal($0.p90HoursToSign), String($0.escalationsReceived),
                        ]
                    }
                ),
                ReportTable(
                    title: "RACI per step",
                    header: ["step", "title", "responsible", "accountable", "consulted", "informed"],
                    rows: data.raci.map {
                        [
                            $0.step, $0.title, $0.responsible.joined(separator: " "), $0.accountable.joined(separator: " "),
                            $0.consulted.joined(separator: " "), $0.informed.joined(separator: " "),
                        ]
                    }
                ),
            ]
        )
    }

    static func soa(_ data: SoAReport) -> ([String], [ReportTable]) {
        let count = { (applicability: String) in data.controls.filter { $0.applicability == applicability }.count }
        let implemented = data.controls.filter { $0.status == "implemented" }.count
        return (
            [
                "\(data.controls.count) Annex A controls: \(count("applicable")) applicable (\(implemented) implemented), \(count("not applicable")) not applicable, \(count("not addressed")) not addressed by the roadmap."
            ],
            [
                ReportTable(
                    title: "Annex A controls",
                    header: ["control", "title", "applicability", "justification", "status", "tasks done", "tasks", "evidence"],
                    rows: data.controls.map {
                        [
                            $0.id, $0.title, $0.applicability, $0.justification ?? "", $0.status, "\($0.tasksDone)/\($0.tasksApplicable)",
                            $0.tasks.joined(separator: " "), String($0.evidence),
                        ]
                    }
                )
            ]
        )
    }

    static func crosswalk(_ data: CrosswalkReport) -> ([String], [ReportTable]) {
        let done = { (progress: CrosswalkReport.Progress) in "\(progress.done)/\(progress.tasks) (\(progress.percentDone)%)" }
        let legal = data.articles.filter { $0.coverage == "legal only" }
        let mapped = data.articles.filter { !$0.controls.isEmpty }
        return (
            [
                data.notice,
                "\(mapped.count) AI Act articles are supported by ISO/IEC 42001 (\(data.articles.filter { $0.coverage == "full" }.count) fully); \(legal.count) are legal-only obligations the standard does not cover; \(data.unaddressed.count) obligations the program's systems are subject to have no task.",
            ],
            [
                ReportTable(
                    title: "Per article: the controls that support it",
                    header: [
                        "article", "title", "coverage", "article tasks done", "control", "control title", "pair coverage", "control tasks done",
                        "rationale",
                    ],
                    rows: data.articles.flatMap { article in
                        article.controls.isEmpty
                            ? [[article.id, article.title, article.coverage, done(article.progress), "", "", "", "", article.gap ?? ""]]
                            : article.controls.map {
                                [
                                    $0.article, article.title, article.coverage, done(article.progress), $0.iso, $0.title, $0.coverage,
                                    done($0.progress), $0.rationale,
                                ]
                            }
                    }
                ),
                ReportTable(
                    title: "Per control: the articles it serves",
                    header: ["control", "kind", "title", "tasks done", "articles served"],
                    rows: data.controls.map { control in
                        [
                            control.id, control.kind, control.title, done(control.progress),
                            control.articles.map { "\($0.article) (\($0.coverage))" }.joined(separator: " "),
                        ]
                    }
                ),
                ReportTable(
                    title: "Legal-only obligations: the gap between the standard and the law",
                    header: ["article", "title", "tasks done", "gap in ISO/IEC 42001"],
                    rows: legal.map { [$0.id, $0.title, done($0.progress), $0.gap ?? ""] }
                ),
                ReportTable(
                    title: "Obligations of the program's systems that no task addresses",
                    header: ["article", "title", "systems"],
                    rows: data.unaddressed.map { [$0.id, $0.title, $0.systems.joined(separator: " ")] }
                ),
            ] + (data.frameworks.isEmpty ? [] : [importedFrameworks(data.frameworks, done: done)])
        )
    }

    /// The imported frameworks' requirements in play, one row per mapping (or one for an unmapped requirement).
    static func importedFrameworks(_ frameworks: [CrosswalkReport.Framework], done: (CrosswalkReport.Progress) -> String) -> ReportTable {
        ReportTable(
            title: "Imported frameworks: their requirements and what their mapping libraries tie them to",
            header: ["requirement", "title", "tasks done", "relationship", "mapped to", "mapped title", "mapped tasks done", "mapping library"],
            rows: frameworks.flatMap(\.requirements).flatMap { requirement in
                requirement.mappings.isEmpty
                    ? [[requirement.id, requirement.title, done(requirement.progress), "", "", "", "", ""]]
                    : requirement.mappings.map {
                        [
                            requirement.id, requirement.title, done(requirement.progress), $0.relationship, $0.ref, $0.title, done($0.progress),
                            $0.library,
                        ]
                    }
            }
        )
    }

    static func overdue(_ data: OverdueReport, today: CalendarDate) -> ([String], [ReportTable]) {
        (
            ["\(data.rows.count) outstanding tasks past their due date on \(today)."],
            [
                ReportTable(
                    title: "Overdue",
                    header: ["task", "title", "state", "owner", "due", "days late", "escalated to"],
                    rows: data.rows.map { [$0.ref, $0.title, $0.state.rawValue, $0.owner, $0.dueOn, String($0.daysLate), $0.escalatedTo ?? ""] }
                )
            ]
        )
    }

    static func cycles(_ cycles: [CycleSummary]) -> ([String], [ReportTable]) {
        (
            ["One row per cycle; closed cycles show the figures snapshotted when they closed."],
            [
                ReportTable(
                    title: "Cycles",
                    header: [
                        "cycle", "from", "to", "state", "tasks due", "done on time", "done late", "overdue", "on time %",
                        "sign-off latency h", "findings opened", "findings closed", "mean days to close", "escalations",
                    ],
                    rows: cycles.map { c in
                        [
                            String(c.number), c.startsOn, c.endsOn, c.isOpen ? "open" : "closed", String(c.kpis.tasksDue),
                            String(c.kpis.doneOnTime), String(c.kpis.doneLate), String(c.kpis.overdue), String(c.kpis.onTimePercent),
                            oneDecimal(c.kpis.signOffLatencyHours), String(c.kpis.findingsOpened), String(c.kpis.findingsClosed),
                            oneDecimal(c.kpis.meanDaysToCloseCorrectiveAction), String(c.kpis.escalations),
                        ]
                    }
                )
            ]
        )
    }
}

extension Store {
    /// One report over a program the actor may see, as of `now`, worded for people.
    public func report(_ kind: ReportKind, program slug: String, actor: String?, now: Date = Date()) async throws -> Report {
        Report(try await reportData(kind, program: slug, actor: actor, now: now))
    }
}
