import AccordCore
import AccordStore
import Foundation

// The page models of a program's cycles, findings and incidents (see ImprovementPageModels.swift for
// the shared pieces). No optional is rendered: Mustache would look a nil up in the enclosing context.

/// A time to the minute, in the viewer's time zone and naming it, as the pages show it.
func utcMinute(_ date: Date) -> String { PageTime.minute(date) }

/// `/programs/SLUG/cycles`: the cycles' KPIs side by side, the chart, and the open and close forms.
struct CyclesPage {
    struct Column { var number: Int, heading: String, dates: String }
    struct KPIRow { var label: String, cells: [Cell] }
    struct Cell { var text: String }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String
    var columns: [Column], kpiRows: [KPIRow], hasCycles: Bool, chartAlt: String
    var hasOpen: Bool, openNumber: Int, review: [LinkedTask], hasReview: Bool
    var periodValue = "", startsValue = "", periodInvalid = false, startsInvalid = false

    init(page: PageModel, slug: String, programTitle: String, cycles: [CycleSummary], review: [TaskSummary]) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        columns = cycles.map {
            Column(number: $0.number, heading: "Cycle \($0.number)\($0.isOpen ? " (open)" : "")", dates: "\($0.startsOn) to \($0.endsOn)")
        }
        func row(_ label: String, _ value: (CycleKPIs) -> String) -> KPIRow {
            KPIRow(label: label, cells: cycles.map { Cell(text: value($0.kpis)) })
        }
        func decimal(_ value: Double?, _ unit: String) -> String { value.map { String(format: "%.1f \(unit)", $0) } ?? "none yet" }
        kpiRows = [
            row("Tasks due") { String($0.tasksDue) },
            row("Done on time") { String($0.doneOnTime) },
            row("Done late") { String($0.doneLate) },
            row("Overdue") { String($0.overdue) },
            row("On time") { "\($0.onTimePercent)%" },
            row("Sign-off latency (median)") { decimal($0.signOffLatencyHours, "h") },
            row("Findings opened") { String($0.findingsOpened) },
            row("Findings closed") { String($0.findingsClosed) },
            row("Days to close a corrective action (mean)") { decimal($0.meanDaysToCloseCorrectiveAction, "d") },
            row("Escalations") { String($0.escalations) },
        ]
        hasCycles = !cycles.isEmpty
        chartAlt =
            "Chart of on-time percentage, overdue tasks and sign-off latency across \(cycles.count) \(cycles.count == 1 ? "cycle" : "cycles"); the table above gives the same figures."
        let open = cycles.last { $0.isOpen }
        hasOpen = open != nil
        openNumber = open?.number ?? 0
        self.review = review.map(LinkedTask.init)
        hasReview = !review.isEmpty
    }
}

/// `/programs/SLUG/findings`: the raise form and the open or closed findings, paged.
struct FindingsPage {
    struct Row {
        var number: Int, title: String, severity: String, source: String, systemText: String, stateText: String, isOpen: Bool, openedOn: String
    }
    struct Tab { var label: String, url: String, current: Bool }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String
    var tabs: [Tab], rows: [Row], hasRows: Bool, links: PageLinks, listTitle: String
    var sources: [SelectOption], severities: [SelectOption], systems: [SelectOption]
    var titleValue = "", titleInvalid = false, sourceInvalid = false, severityInvalid = false, systemInvalid = false

    init(page: PageModel, slug: String, programTitle: String, state: FindingState, paged: Paged<Finding>, systems: [AISystem]) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        let path = "/programs/\(slug)/findings"
        tabs = FindingState.allCases.map { Tab(label: "\($0.rawValue.capitalized)", url: "\(path)?state=\($0.rawValue)", current: $0 == state) }
        listTitle = state == .all ? "All findings" : "\(state.rawValue.capitalized) findings"
        rows = paged.items.map {
            Row(
                number: $0.number,
                title: $0.title,
                severity: $0.severity.rawValue,
                source: $0.source.rawValue,
                systemText: $0.system ?? "-",
                stateText: $0.isOpen ? ($0.rootCause == nil ? "open, root cause not recorded" : "open") : "closed",
                isOpen: $0.isOpen,
                openedOn: CalendarDate($0.openedAt).description
            )
        }
        hasRows = !rows.isEmpty
        links = PageLinks(paged, path: path, query: [("state", state.rawValue)])
        sources = FindingSource.allCases.map { SelectOption(value: $0.rawValue, label: $0.rawValue, selected: false) }
        severities = FindingSeverity.allCases.map { SelectOption(value: $0.rawValue, label: $0.rawValue, selected: false) }
        self.systems =
            [SelectOption(value: "", label: "No particular system", selected: false)]
            + systems.map { SelectOption(value: $0.slug, label: $0.name, selected: false) }
    }

    /// Keeps what was typed, and marks the field a refusal concerns.
    mutating func keep(input: [String: String], field: String?) {
        titleValue = input["title"] ?? ""
        for i in sources.indices { sources[i].selected = sources[i].value == input["source"] }
        for i in severities.indices { severities[i].selected = severities[i].value == input["severity"] }
        for i in systems.indices { systems[i].selected = systems[i].value == input["system"] }
        titleInvalid = field == "title"
        sourceInvalid = field == "source"
        severityInvalid = field == "severity"
        systemInvalid = field == "system"
    }
}

/// `/programs/SLUG/findings/N`: a finding, its root cause form and its linked tasks.
struct FindingPage {
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, number: Int, findingTitle: String, source: String, severity: String
    var systemText: String, incidentNumber: Int, hasIncident: Bool, cycleText: String, openedAt: String, openedBy: String
    var isOpen: Bool, closedText: String, rootCauseText: String, hasRootCause: Bool, tasks: [LinkedTask], hasTasks: Bool
    var rootCauseValue = "", rootCauseInvalid = false

    init(page: PageModel, finding: Finding, programTitle: String) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        slug = finding.program
        self.programTitle = programTitle
        number = finding.number
        findingTitle = finding.title
        source = finding.source.rawValue
        severity = finding.severity.rawValue
        systemText = finding.system ?? "no particular system"
        incidentNumber = finding.incident ?? 0
        hasIncident = finding.incident != nil
        cycleText = finding.cycle.map { "cycle \($0)" } ?? "no cycle open"
        openedAt = utcMinute(finding.openedAt)
        openedBy = finding.openedBy
        isOpen = finding.isOpen
        closedText = finding.closedAt.map { "closed \(utcMinute($0))" } ?? "open"
        rootCauseText = finding.rootCause ?? ""
        hasRootCause = finding.rootCause != nil
        tasks = finding.tasks.map(LinkedTask.init)
        hasTasks = !tasks.isEmpty
        rootCauseValue = finding.rootCause ?? ""
    }
}

/// `/programs/SLUG/incidents`: the report form and the incidents with their clocks, paged.
struct IncidentsPage {
    struct Row { var number: Int, system: String, kind: String, summary: String, clock: IncidentClock }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, rows: [Row], hasRows: Bool, links: PageLinks
    var systems: [SelectOption], kinds: [SelectOption], hasSystems: Bool
    var awareValue: String, summaryValue = "", systemInvalid = false, kindInvalid = false, awareInvalid = false, summaryInvalid = false

    init(page: PageModel, slug: String, programTitle: String, paged: Paged<Incident>, systems: [AISystem], now: Date) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        rows = paged.items.map {
            Row(
                number: $0.number,
                system: $0.system,
                kind: $0.kind.rawValue,
                summary: $0.summary,
                clock: IncidentClock(due: $0.reportDueAt, now: now, notified: $0.notified)
            )
        }
        hasRows = !rows.isEmpty
        links = PageLinks(paged, path: "/programs/\(slug)/incidents", query: [])
        self.systems = systems.map { SelectOption(value: $0.slug, label: $0.name, selected: false) }
        hasSystems = !systems.isEmpty
        kinds = IncidentKind.allCases.map {
            SelectOption(value: $0.rawValue, label: "\($0.rawValue) (\($0.paragraph), \($0.clockDays) days)", selected: false)
        }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd'T'HH:mm"
        awareValue = format.string(from: now)
    }

    /// Keeps what was typed, and marks the field a refusal concerns.
    mutating func keep(input: [String: String], field: String?) {
        awareValue = input["aware_at"] ?? awareValue
        summaryValue = input["summary"] ?? ""
        for i in systems.indices { systems[i].selected = systems[i].value == input["system"] }
        for i in kinds.indices { kinds[i].selected = kinds[i].value == input["kind"] }
        systemInvalid = field == "system"
        kindInvalid = field == "kind"
        awareInvalid = field == "aware_at"
        summaryInvalid = field == "summary"
    }
}

/// `/programs/SLUG/incidents/N`: an incident, its Art. 73 clock and its tasks.
struct IncidentPage {
    var page: PageModel
    var slug: String, programTitle: String, number: Int, system: String, kind: String, clockRule: String, summary: String
    var awareAtUTC: String, reportedBy: String, findingNumber: Int, hasFinding: Bool, clock: IncidentClock
    var tasks: [LinkedTask], hasTasks: Bool

    init(page: PageModel, incident: Incident, programTitle: String, now: Date) {
        self.page = page
        slug = incident.program
        self.programTitle = programTitle
        number = incident.number
        system = incident.system
        kind = incident.kind.rawValue
        clockRule = incident.clock
        summary = incident.summary
        awareAtUTC = utcMinute(incident.awareAt)
        reportedBy = incident.reportedBy
        findingNumber = incident.finding ?? 0
        hasFinding = incident.finding != nil
        clock = IncidentClock(due: incident.reportDueAt, now: now, notified: incident.notified)
        tasks = incident.tasks.map(LinkedTask.init)
        hasTasks = !tasks.isEmpty
    }
}
