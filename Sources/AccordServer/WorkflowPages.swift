import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth
import MultipartKit

/// The pages of the roadmaps themselves: the stored workflows, one version's steps and tasks, loading a
/// workflow file by upload (administrators), and starting a program from a stored version (administrators).
struct WorkflowPages {
    let store: Store
    let renderer: PageRenderer

    /// The largest workflow file an upload accepts.
    static let maxWorkflowBytes = 1 << 20

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("workflows", use: workflows)
            .post("workflows", use: upload)
            .get("workflows/:workflow", use: workflow)
            .get("programs/new", use: startForm)
            .post("programs/new", use: start)
    }

    @Sendable func workflows(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Workflows", context: context)
        if request.uri.queryParameters["unchanged"] != nil { page.notice = "That version is already loaded with this content; nothing changed." }
        return try await render(request, context, page: page)
    }

    /// The workflows page; `adjust` adds what a refused upload needs.
    private func render(
        _ request: Request,
        _ context: AccordContext,
        page: PageModel,
        status: HTTPResponse.Status = .ok,
        adjust: (inout WorkflowsPage) -> Void = { _ in }
    ) async throws -> Response {
        let person = try context.requireIdentity().person
        let list = try ListRequest(request, defaultFormat: .page)
        let paged = try await store.workflows(paging: list.paging, actor: person.handle)
        if list.format != .page { return try listDownload(paged, name: "workflows", format: list.format) }
        var model = WorkflowsPage(page: page, isAdmin: person.isAdmin, workflows: paged)
        adjust(&model)
        return renderer.render("workflows", model, status: status)
    }

    /// The upload form's fields, as MultipartKit decodes them.
    struct UploadForm: Decodable {
        var csrf_token: String?
        var file: UploadedFile?
    }

    @Sendable func upload(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await readMultipartForm(UploadForm.self, request, upTo: Self.maxWorkflowBytes)
        try renderer.requireCSRF(form.csrf_token, context)
        guard person.isAdmin else { throw AccordError(.forbidden, "only an administrator loads workflows; '\(person.handle)' is not one") }
        let name = form.file?.fileName.map(baseName) ?? ""
        func refused(_ message: String, problems: [UploadProblem], status: HTTPResponse.Status) async throws -> Response {
            var page = PageModel(title: "Workflows", context: context)
            page.error = message
            return try await render(request, context, page: page, status: status) {
                $0.uploadName = name
                $0.problems = problems
                $0.hasProblems = !problems.isEmpty
                $0.fileInvalid = true
            }
        }
        guard let file = form.file, !name.isEmpty else {
            return try await refused("choose a workflow file (YAML) to upload", problems: [], status: .unprocessableContent)
        }
        guard let text = String(bytes: file.bytes, encoding: .utf8) else {
            return try await refused(
                "\(name) is not a workflow file: it is not UTF-8 text",
                problems: [UploadProblem(place: "1:1", message: "not UTF-8 text")],
                status: .unprocessableContent
            )
        }
        do {
            switch try await store.loadWorkflow(yaml: text, file: name, actor: person.handle) {
            case .stored(let summary):
                return Response(status: .seeOther, headers: [.location: "/workflows/\(summary.id)?version=\(summary.version)&loaded=1"])
            case .unchanged:
                return Response(status: .seeOther, headers: [.location: "/workflows?unchanged=1"])
            }
        } catch let invalid as WorkflowInvalid {
            let problems = invalid.diagnostics.map { UploadProblem(place: "\($0.line):\($0.column)", message: $0.message) }
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return try await refused("\(name) was not loaded: \(count); nothing was stored.", problems: problems, status: .unprocessableContent)
        } catch let error as AccordError {
            return try await refused(error.message, problems: [], status: Problem(error).httpStatus)
        }
    }

    @Sendable func workflow(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let id = try context.parameters.require("workflow")
        let version = try request.uri.queryParameters["version"].map {
            guard let number = Int($0), number > 0 else { throw AccordError(.invalid, "version is a whole number from 1", field: "version") }
            return number
        }
        let workflow = try await store.workflow(id, version: version)
        var page = PageModel(title: "\(workflow.title) · version \(workflow.version)", context: context)
        if request.uri.queryParameters["loaded"] != nil {
            page.notice = "Loaded \(workflow.id) version \(workflow.version); programs can start from it now."
        }
        let model = WorkflowPage(page: page, workflow: workflow, versions: try await store.workflowVersions(id), isAdmin: person.isAdmin)
        return renderer.render("workflow", model)
    }

    @Sendable func startForm(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        guard person.isAdmin else { throw AccordError(.forbidden, "only an administrator starts programs; '\(person.handle)' is not one") }
        var input: [String: String] = [:]
        if let chosen = request.uri.queryParameters["workflow"] { input["workflow"] = String(chosen) }
        let model = StartProgramPage(
            page: PageModel(title: "Start a program", context: context),
            workflows: try await store.workflows(),
            input: input
        )
        return renderer.render("program-new", model)
    }

    @Sendable func start(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            let chosen = (form["workflow"] ?? "").split(separator: "@")
            guard chosen.count == 2, let version = Int(chosen[1]) else {
                throw AccordError(.invalid, "choose the workflow and version the program runs", field: "workflow")
            }
            let title = (form["title"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !title.isEmpty else { throw AccordError(.invalid, "give the program a title", field: "title") }
            let slugText = (form["slug"] ?? "").trimmingCharacters(in: .whitespaces)
            let startText = (form["starts_on"] ?? "").trimmingCharacters(in: .whitespaces)
            var startsOn: CalendarDate?
            if !startText.isEmpty {
                guard let date = CalendarDate(startText) else {
                    throw AccordError(.invalid, "the start date must be a date, YYYY-MM-DD", field: "starts_on")
                }
                startsOn = date
            }
            let detail = try await store.startProgram(
                workflow: String(chosen[0]),
                version: version,
                title: title,
                slug: slugText.isEmpty ? nil : slugText,
                startsOn: startsOn,
                actor: actor
            )
            return Response(status: .seeOther, headers: [.location: "/programs/\(detail.summary.slug)?started=1"])
        } catch let error as AccordError {
            var page = PageModel(title: "Start a program", context: context)
            page.error = error.message
            var model = StartProgramPage(page: page, workflows: try await store.workflows(), input: form)
            model.mark(error)
            return renderer.render("program-new", model, status: Problem(error).httpStatus)
        }
    }
}

/// A file's name without the folders a browser may send with it (`C:\…\plan.yaml` → `plan.yaml`).
func baseName(_ name: String) -> String {
    String(name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "")
}
