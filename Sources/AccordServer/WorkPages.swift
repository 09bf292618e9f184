import AccordCore
import AccordReports
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The work on a program's tasks from its page: the filtered, paged task list (and its CSV and JSON
/// downloads), assigning many tasks in one submit, and downloading the program's evidence pack.
struct WorkPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .post("programs/:program/assign", use: assign)
            .post("programs/:program/pack", use: pack)
            .get("programs/:program/oscal.json", use: oscal)
    }

    /// The program page: its figures, its roadmap, and one page of its tasks cut in SQL by the filter of the
    /// query string; with `format=csv` or `format=json`, that list as a download instead.
    func program(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let query = request.uri.queryParameters
        let list = try ListRequest(request, defaultFormat: .page)
        var filter = try TaskFilter(query: query)
        filter.program = slug
        if list.format != .page {
            let paged = try await store.tasks(filter, paging: list.paging, actor: try context.actor)
            return try listDownload(paged, name: "\(slug)-tasks", format: list.format)
        }
        var page = PageModel(title: "", context: context)
        if let count = query["assigned"].flatMap({ Int($0) }) {
            page.notice = count == 1 ? "1 task assigned." : "\(count) tasks assigned."
        }
        return try await render(slug: slug, filter: filter, paging: list.paging, page: page, context: context)
    }

    /// The page with a list: after a refusal, with the message, the field at fault marked and the choices kept.
    private func render(
        slug: String,
        filter: TaskFilter,
        paging: Paging,
        page: PageModel,
        context: AccordContext,
        input: [String: String] = [:],
        error: AccordError? = nil
    ) async throws -> Response {
        let actor = try context.actor
        let detail = try await store.program(slug, actor: actor)
        let paged = try await store.tasks(filter, paging: paging, actor: actor)
        let choices = try await store.assignmentChoices(program: slug, actor: actor)
        var page = page
        page.title = detail.summary.title
        page.error = error?.message
        let work = ProgramTaskList(
            slug: slug,
            detail: detail,
            filter: filter,
            paged: paged,
            choices: choices,
            csrf: page.person?.csrf ?? "",
            input: input,
            invalidField: error?.field
        )
        let status = error.map { Problem($0).httpStatus } ?? .ok
        return renderer.render("program", ProgramPage(page: page, detail: detail, work: work), status: status)
    }

    /// Assigns the tasks the form names, in one transaction: each row's own choice, and for the ticked rows
    /// without one, the choice for all. Then back to the same filtered page with how many were assigned.
    @Sendable func assign(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        // A page of 500 rows, each with a checkbox and a choice, stays far below 256 KiB.
        let form = try await renderer.formFields(request, upTo: 256 << 10)
        try renderer.requireCSRF(form, context)
        // The list the form was on: its filter and page, read again so the way back is always our own.
        var back = Parameters()
        for item in URLComponents(string: "/?" + (form["return_query"] ?? ""))?.queryItems ?? [] {
            back.append(key: Substring(item.name), value: Substring(item.value ?? ""))
        }
        var filter = (try? TaskFilter(query: back)) ?? TaskFilter()
        filter.program = slug
        let paging = try (try? Paging(page: back["page"].flatMap { Int($0) } ?? 1, perPage: back["per_page"].flatMap { Int($0) } ?? 50)) ?? Paging()
        var chosen: [Int64: String] = [:]
        for (key, value) in form where key.hasPrefix("assignee_") {
            let handle = value.trimmingCharacters(in: .whitespaces)
            if let id = Int64(key.dropFirst("assignee_".count)), !handle.isEmpty { chosen[id] = handle }
        }
        let everyone = (form["assignee_all"] ?? "").trimmingCharacters(in: .whitespaces)
        if !everyone.isEmpty {
            for key in form.keys where key.hasPrefix("select_") {
                if let id = Int64(key.dropFirst("select_".count)), chosen[id] == nil { chosen[id] = everyone }
            }
        }
        do {
            let result = try await store.assignTasks(
                chosen.sorted { $0.key < $1.key }.map { (task: String($0.key), assignee: $0.value) },
                program: slug,
                actor: try context.actor
            )
            let query = joinQuery(filterQuery(filter), "page=\(paging.page)", "per_page=\(paging.perPage)", "assigned=\(result.assigned)")
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)?\(query)"])
        } catch let error as AccordError {
            let page = PageModel(title: "", context: context)
            return try await render(slug: slug, filter: filter, paging: paging, page: page, context: context, input: form, error: error)
        }
    }

    /// The program's evidence pack as a download, recorded in its audit chain as `accord export` records it.
    @Sendable func pack(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        return try await evidencePackDownload(store, program: slug, actor: try context.actor, context: context)
    }

    @Sendable func oscal(_ request: Request, context: AccordContext) async throws -> Response {
        try await oscalDownload(store, program: try context.parameters.require("program"), actor: try context.actor)
    }
}

/// A private folder for one temporary file, removed with everything in it when it is no longer needed:
/// when asked, or at the latest when the last reference to it goes (a response body never written).
final class TemporaryFolder: Sendable {
    /// The folder.
    let url: URL

    /// Creates a folder only its owner may enter, under the system's temporary directory.
    init(prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    }

    /// Removes the folder and what it holds.
    func remove() { try? FileManager.default.removeItem(at: url) }

    deinit { remove() }
}

/// A program's evidence pack, streamed as `application/zip` from a private temporary file in chunks (the
/// pack may be hundreds of MiB; it is never held in memory), the file removed once it is sent. The export
/// is recorded in the program's audit chain; any member of the program may export (as `accord export`).
func evidencePackDownload(_ store: Store, program slug: String, actor: String, context: AccordContext) async throws -> Response {
    let folder = try TemporaryFolder(prefix: "accord-pack")
    let name = "\(slug)-evidence-pack.zip"
    let path = folder.url.appendingPathComponent(name).path
    _ = try await store.exportPack(program: slug, to: path, actor: actor)
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    let file = try await FileIO().loadFile(path: path, context: context, chunkLength: 1 << 20)
    let body = ResponseBody(contentLength: size) { writer in
        defer { folder.remove() }
        try await file.write(writer)
    }
    return Response(
        status: .ok,
        headers: [
            .contentType: "application/zip", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(name)\"",
        ],
        body: body
    )
}

/// A program's statement of applicability and control states as an OSCAL assessment-results download
/// (`accord export PROGRAM --oscal`); anyone who may see the program may download it.
func oscalDownload(_ store: Store, program slug: String, actor: String) async throws -> Response {
    let document = try await store.oscalAssessmentResults(program: slug, actor: actor)
    return Response(
        status: .ok,
        headers: [
            .contentType: "application/json", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(slug)-oscal-assessment-results.json\"",
        ],
        body: .init(byteBuffer: ByteBuffer(bytes: document))
    )
}
