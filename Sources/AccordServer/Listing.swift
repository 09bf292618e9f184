import AccordCore
import AccordStore
import Foundation
import Hummingbird

/// A record a list downloads as one CSV row: the header row and its fields, in the same order.
protocol CSVRecord {
    /// The column names.
    static var csvHeader: [String] { get }
    /// This record's fields, one per column.
    var csvFields: [String] { get }
}

/// How a list is asked for in the query string: `page`, `per_page` and `format` (`json` or `csv`, or
/// the page itself when neither). A download may be larger than a page on screen.
struct ListRequest {
    /// The three ways a list is answered.
    enum Format: String {
        case page, json, csv
    }
    var paging: Paging
    var format: Format

    /// Reads the query; `format` defaults to `defaultFormat` (the API's lists are JSON, the pages' are pages).
    init(_ request: Request, defaultFormat: Format, perPage defaultPerPage: Int = 50) throws {
        let query = request.uri.queryParameters
        let formatText = query["format"].map(String.init) ?? defaultFormat.rawValue
        guard let format = Format(rawValue: formatText), defaultFormat == .page || format != .page else {
            let allowed = defaultFormat == .page ? "page, json or csv" : "json or csv"
            throw AccordError(.invalid, "format is \(allowed)", field: "format")
        }
        let largest = format == .page ? Paging.maxPerPage : Paging.maxDownload
        let page = try Self.integer(query["page"], name: "page") ?? 1
        let perPage = try Self.integer(query["per_page"], name: "per_page") ?? (format == .page ? defaultPerPage : min(largest, 500))
        self.paging = try Paging(page: page, perPage: perPage, largest: largest)
        self.format = format
    }

    private static func integer(_ text: Substring?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw AccordError(.invalid, "\(name) is a whole number", field: name) }
        return value
    }
}

/// A page of a list as the API answers it.
struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
    var page: Int
    var perPage: Int
    var total: Int

    init(items: [Item], page: Int, perPage: Int, total: Int) {
        self.items = items
        self.page = page
        self.perPage = perPage
        self.total = total
    }

    init(_ paged: Paged<Item>) {
        self.init(items: paged.items, page: paged.page, perPage: paged.perPage, total: paged.total)
    }
}

/// A page of a list as a download: JSON (the API's `Page`) or CSV with a header row, named `name.csv`/`name.json`.
/// The total is in the `X-Total-Count` header of both, so a client knows whether to ask the next page.
func listDownload<Item: Encodable & Sendable & CSVRecord>(_ paged: Paged<Item>, name: String, format: ListRequest.Format) throws -> Response {
    var headers: HTTPFields = [.cacheControl: "no-store"]
    headers[.init("X-Total-Count")!] = String(paged.total)
    let body: String
    switch format {
    case .csv:
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
        // Spreadsheet formulas in the organisation's own text are neutralised (CSV injection).
        let lines = [Item.csvHeader] + paged.items.map(\.csvFields)
        body = lines.map { CSV.line($0) + "\r\n" }.joined()
    case .json, .page:
        headers[.contentType] = "application/json"
        if format == .json { headers[.contentDisposition] = "inline; filename=\"\(name).json\"" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        body = String(decoding: try encoder.encode(Page(paged)), as: UTF8.self)
    }
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
}

extension TaskSummary: CSVRecord {
    static let csvHeader = ["id", "ref", "program", "step", "system", "title", "state", "owner_role", "assignee", "due_on", "overdue_days"]
    var csvFields: [String] {
        [
            String(id), ref, program, step, system ?? "", title, state.rawValue, ownerRole, assignee ?? "", dueOn ?? "",
            overdueDays.map(String.init) ?? "",
        ]
    }
}

extension TaskFilter {
    /// The filter a query string asks for: `program`, `assignee`, `state`, `step`, `owner_role`, `system`,
    /// and the flags `overdue`, `mine`, `unassigned` (`true` or `false`). Empty values mean "any".
    init(query: Parameters) throws {
        func text(_ name: String) -> String? {
            guard let value = query[name[...]], !value.isEmpty else { return nil }
            return String(value)
        }
        func flag(_ name: String) throws -> Bool {
            guard let value = query[name[...]], !value.isEmpty else { return false }
            guard value == "true" || value == "false" else { throw AccordError(.invalid, "\(name) is true or false", field: name) }
            return value == "true"
        }
        self.init(program: text("program"), assignee: text("assignee"))
        if let state = text("state") {
            guard let parsed = TaskState(rawValue: state) else {
                throw AccordError(.invalid, "state must be one of \(TaskState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            self.state = parsed
        }
        step = text("step")
        ownerRole = text("owner_role")
        system = text("system")
        overdueOnly = try flag("overdue")
        mineOnly = try flag("mine")
        unassignedOnly = try flag("unassigned")
    }
}

extension ProgramSummary: CSVRecord {
    static let csvHeader = ["slug", "title", "workflow", "workflow_version", "starts_on", "tasks", "progress", "overdue"]
    var csvFields: [String] { [slug, title, workflow, String(workflowVersion), startsOn, String(tasks), String(progress), String(overdue)] }
}

/// The links under a paged list on a page: previous and next keeping the filter, and its downloads.
struct Pager {
    var pagerLabel: String
    var pageNumber: Int, lastPage: Int, total: Int
    var previousURL: String?, nextURL: String?
    var csvURL: String, jsonURL: String

    /// The pager of `paged`, for the page at `path` filtered by `query` (the filter's fields, without paging).
    /// The downloads go to `downloadPath` (the API's list, which the session cookie also opens) or the page itself.
    init<Item>(
        _ paged: Paged<Item>,
        path: String,
        query: [(String, String)] = [],
        label: String = "Pages of the list",
        downloadPath: String? = nil
    ) {
        func url(_ base: String, _ extra: [(String, String)]) -> String {
            var components = URLComponents()
            components.path = base
            let items = (query + extra).filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
            components.queryItems = items.isEmpty ? nil : items
            return components.string ?? base
        }
        pagerLabel = label
        pageNumber = paged.page
        lastPage = paged.lastPage
        total = paged.total
        let size = paged.perPage == 50 ? [] : [("per_page", String(paged.perPage))]
        previousURL = paged.page > 1 ? url(path, [("page", String(min(paged.page - 1, paged.lastPage)))] + size) : nil
        nextURL = paged.hasNext ? url(path, [("page", String(paged.page + 1))] + size) : nil
        csvURL = url(downloadPath ?? path, [("format", "csv"), ("per_page", String(Paging.maxDownload))])
        jsonURL = url(downloadPath ?? path, [("format", "json"), ("per_page", String(Paging.maxDownload))])
    }
}
