import AccordCore
import AccordStore
import Foundation

// The page models of the sign-off list, out of office, cycles, findings and incidents. As in
// PageModels.swift, no optional is rendered: Mustache would look a nil up in the enclosing context.

/// An option of a `<select>`.
struct SelectOption {
    var value: String, label: String, selected: Bool
}

/// Previous/next links and downloads of a paged list, built from the page's own query.
struct PageLinks {
    var pageNumber: Int, lastPage: Int, total: Int, hasPrevious: Bool, hasNext: Bool
    var previousURL: String, nextURL: String, csvURL: String, jsonURL: String

    /// Links for `path` with the filter `query` (already percent-encoded `name=value` pairs).
    init<Item>(_ paged: Paged<Item>, path: String, query: [(String, String)]) {
        pageNumber = paged.page
        lastPage = paged.lastPage
        total = paged.total
        hasPrevious = paged.page > 1
        hasNext = paged.hasNext
        func url(_ extra: [(String, String)]) -> String {
            let pairs = (query + extra).filter { !$0.1.isEmpty }.map { "\($0.0)=\(formEncoded($0.1))" }
            return pairs.isEmpty ? path : "\(path)?\(pairs.joined(separator: "&"))"
        }
        let size = [("per_page", String(paged.perPage))]
        previousURL = url([("page", String(paged.page - 1))] + size)
        nextURL = url([("page", String(paged.page + 1))] + size)
        csvURL = url([("format", "csv"), ("per_page", String(Paging.maxDownload))])
        jsonURL = url([("format", "json"), ("per_page", String(Paging.maxDownload))])
    }
}

/// A value percent-encoded for a query string.
func formEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}

/// `/signoffs`: every sign-off the person may give, filtered and paged.
struct SignOffsPage {
    struct Line { var id: Int64, ref: String, title: String, program: String, signAs: String, lineDue: String, lineLateDays: Int, lineIsLate: Bool }
    var page: PageModel
    var rows: [Line], hasRows: Bool, links: PageLinks
    var programs: [SelectOption], roles: [SelectOption], overdueChecked: Bool

    init(page: PageModel, paged: Paged<SignOff>, filter: SignOffFilter, signing: [SigningRole]) {
        self.page = page
        rows = paged.items.map {
            Line(
                id: $0.task.id,
                ref: $0.task.ref,
                title: $0.task.title,
                program: $0.task.program,
                signAs: $0.signAs,
                lineDue: $0.task.dueOn ?? "no due date",
                lineLateDays: $0.task.overdueDays ?? 0,
                lineIsLate: $0.task.overdueDays != nil
            )
        }
        hasRows = !rows.isEmpty
        links = PageLinks(
            paged,
            path: "/signoffs",
            query: [("program", filter.program ?? ""), ("role", filter.role ?? ""), ("overdue", filter.overdueOnly ? "true" : "")]
        )
        let programSlugs = Array(Set(signing.map(\.program))).sorted()
        programs =
            [SelectOption(value: "", label: "All programs", selected: filter.program == nil)]
            + programSlugs.map { SelectOption(value: $0, label: $0, selected: $0 == filter.program) }
        let roleNames = Array(Set(signing.map(\.role))).sorted()
        roles =
            [SelectOption(value: "", label: "Any role", selected: filter.role == nil)]
            + roleNames.map { SelectOption(value: $0, label: $0, selected: $0 == filter.role) }
        overdueChecked = filter.overdueOnly
    }
}

/// `/account/away`: the out-of-office form, one row per role held, and both sides' delegations.
struct AwayPage {
    struct RoleRow {
        var index: Int, program: String, programTitle: String, role: String, deputy: String, deputyInvalid: Bool, rowError: String
        var hasRowError: Bool
    }
    struct Line { var id: Int64, program: String, role: String, person: String, from: String, until: String, reason: String }
    var page: PageModel
    var csrf: String, rows: [RoleRow], hasRoles: Bool
    var given: [Line], hasGiven: Bool, received: [Line], hasReceived: Bool
    var fromDate: String, untilDate: String, reason: String, fromInvalid = false, untilInvalid = false, reasonInvalid = false

    init(page: PageModel, overview: AwayOverview, today: CalendarDate) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        rows = overview.held.enumerated().map {
            RoleRow(
                index: $0.offset,
                program: $0.element.program,
                programTitle: $0.element.programTitle,
                role: $0.element.role,
                deputy: "",
                deputyInvalid: false,
                rowError: "",
                hasRowError: false
            )
        }
        hasRoles = !rows.isEmpty
        given = overview.given.map {
            Line(id: $0.id, program: $0.program, role: $0.role, person: $0.to, from: $0.validFrom, until: $0.validUntil, reason: $0.reason)
        }
        hasGiven = !given.isEmpty
        received = overview.received.map {
            Line(id: $0.id, program: $0.program, role: $0.role, person: $0.from, from: $0.validFrom, until: $0.validUntil, reason: $0.reason)
        }
        hasReceived = !received.isEmpty
        fromDate = today.description
        untilDate = ""
        reason = ""
    }

    /// Keeps what was typed, and marks the fields a refusal concerns (`rowErrors` by row index).
    mutating func keep(input: [String: String], field: String?, rowErrors: [Int: String]) {
        fromDate = input["from"] ?? fromDate
        untilDate = input["until"] ?? ""
        reason = input["reason"] ?? ""
        fromInvalid = field == "from" || field == "starting"
        untilInvalid = field == "until"
        reasonInvalid = field == "reason"
        for i in rows.indices {
            // After a refusal about some rows, the others were delegated: they show as given, not typed again.
            let refusedHere = rowErrors[rows[i].index] != nil
            rows[i].deputy = rowErrors.isEmpty || refusedHere ? input["deputy_\(rows[i].index)"] ?? "" : ""
            if let message = rowErrors[rows[i].index] {
                rows[i].deputyInvalid = true
                rows[i].rowError = message
                rows[i].hasRowError = true
            }
        }
    }
}

/// "You stand in for X as ROLE until …" lines, for the inbox.
struct StandInLine {
    var program: String, role: String, holder: String, from: String, until: String
}

/// How far away an Art. 73 deadline is, in words: the time left, "less than a day left", or passed.
struct IncidentClock {
    var deadlineUTC: String, deadlineISO: String, timeLeft: String, urgent: Bool, passed: Bool, notified: Bool

    init(due: Date, now: Date, notified: Bool) {
        deadlineUTC = PageTime.minute(due)
        deadlineISO = ISO8601DateFormatter().string(from: due)
        self.notified = notified
        let seconds = Int(due.timeIntervalSince(now))
        passed = seconds <= 0
        urgent = !notified && seconds < 86_400
        let span = abs(seconds)
        let days = span / 86_400
        let hours = span % 86_400 / 3_600
        let minutes = span % 3_600 / 60
        let words = days > 0 ? "\(days) d \(hours) h" : "\(hours) h \(minutes) min"
        if notified {
            timeLeft = "initial report done"
        } else if passed {
            timeLeft = "deadline passed \(words) ago"
        } else if seconds < 86_400 {
            timeLeft = "less than a day left: \(words)"
        } else {
            timeLeft = "\(words) left"
        }
    }
}

/// A task of a finding or incident, linked.
struct LinkedTask {
    var id: Int64, ref: String, title: String, state: String, lineDue: String, lineIsLate: Bool
    init(_ task: TaskSummary) {
        id = task.id
        ref = task.ref
        title = task.title
        state = task.state.rawValue
        lineDue = task.dueOn ?? "no due date"
        lineIsLate = task.overdueDays != nil
    }
}
