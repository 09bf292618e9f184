import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth
import MultipartKit

/// The pages of setting a running program up: its roles and their holders, its AI-system inventory (by
/// form or spreadsheet), each system's tasks, and moving it to a newer workflow version after a dry run.
struct ProgramSetupPages {
    let store: Store
    let renderer: PageRenderer

    /// The largest inventory spreadsheet an import accepts.
    static let maxImportBytes = 4 << 20

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/roles", use: roles)
            .post("programs/:program/roles/:role/holders", use: addHolder)
            .post("programs/:program/roles/:role/holders/:handle/remove", use: removeHolder)
            .get("programs/:program/systems", use: systems)
            .post("programs/:program/systems", use: addSystem)
            .post("programs/:program/systems/import", use: importSystems)
            .get("programs/:program/systems/:system", use: system)
            .get("programs/:program/upgrade", use: upgradePlan)
            .post("programs/:program/upgrade", use: upgrade)
    }

    // MARK: - Roles

    @Sendable func roles(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Roles", context: context)
        let query = request.uri.queryParameters
        if query["added"] != nil { page.notice = "The role is bound; the change is in the program's audit trail." }
        if query["removed"] != nil { page.notice = "The holder is removed from the role; the change is in the program's audit trail." }
        return try await renderRoles(context, page: page)
    }

    private func renderRoles(
        _ context: AccordContext,
        page: PageModel,
        status: HTTPResponse.Status = .ok,
        adjust: (inout RolesPage) -> Void = { _ in }
    ) async throws -> Response {
        let actor = try context.actor
        let slug = try context.parameters.require("program")
        let program = try await store.program(slug, actor: actor).summary
        var titled = page
        titled.title = "Roles · \(program.title)"
        var model = RolesPage(
            page: titled,
            slug: slug,
            programTitle: program.title,
            roles: try await store.roleHolders(program: slug, actor: actor),
            canManage: try await store.canManage(program: slug, actor: actor)
        )
        adjust(&model)
        return renderer.render("roles", model, status: status)
    }

    @Sendable func addHolder(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let slug = try context.parameters.require("program")
        let role = try context.parameters.require("role")
        let handle = (form["handle"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            guard !handle.isEmpty else { throw AccordError(.invalid, "name the person (their handle) to bind to the role", field: "handle") }
            _ = try await store.bindRole(program: slug, role: role, handles: [handle], actor: try context.actor)
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/roles?added=1"])
        } catch let error as AccordError {
            var page = PageModel(title: "Roles", context: context)
            page.error = error.message
            return try await renderRoles(context, page: page, status: Problem(error).httpStatus) { $0.mark(role: role, handle: handle) }
        }
    }

    @Sendable func removeHolder(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let slug = try context.parameters.require("program")
        do {
            _ = try await store.unbindRole(
                program: slug,
                role: try context.parameters.require("role"),
                handles: [try context.parameters.require("handle")],
                actor: try context.actor
            )
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/roles?removed=1"])
        } catch let error as AccordError {
            var page = PageModel(title: "Roles", context: context)
            page.error = error.message
            return try await renderRoles(context, page: page, status: Problem(error).httpStatus)
        }
    }

    // MARK: - AI systems

    @Sendable func systems(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "AI systems", context: context)
        if let count = request.uri.queryParameters["imported"] { page.notice = "Imported \(count) AI system(s) with the tasks that apply to them." }
        let list = try ListRequest(request, defaultFormat: .page)
        if list.format != .page {
            let slug = try context.parameters.require("program")
            let paged = try await store.systems(program: slug, paging: list.paging, actor: try context.actor)
            return try listDownload(paged, name: "\(slug)-systems", format: list.format)
        }
        return try await renderSystems(context, page: page, paging: list.paging)
    }

    /// The inventory page at `paging` (the first page after a refused form, which keeps its input).
    private func renderSystems(
        _ context: AccordContext,
        page: PageModel,
        paging: Paging? = nil,
        status: HTTPResponse.Status = .ok,
        input: [String: String] = [:],
        adjust: (inout SystemsPage) -> Void = { _ in }
    ) async throws -> Response {
        let actor = try context.actor
        let slug = try context.parameters.require("program")
        let paged = try await store.systems(program: slug, paging: try paging ?? Paging(), actor: actor)
        let program = try await store.program(slug, actor: actor).summary
        var titled = page
        titled.title = "AI systems · \(program.title)"
        var model = SystemsPage(
            page: titled,
            slug: slug,
            programTitle: program.title,
            systems: paged,
            canManage: try await store.canManage(program: slug, actor: actor),
            input: input
        )
        adjust(&model)
        return renderer.render("systems", model, status: status)
    }

    @Sendable func addSystem(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let slug = try context.parameters.require("program")
        do {
            let system = try newSystem(form)
            let added = try await store.addSystems(program: slug, [system], actor: try context.actor)
            let systemSlug = added.first?.slug ?? ""
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/systems/\(systemSlug)?added=1"])
        } catch let error as AccordError {
            var page = PageModel(title: "AI systems", context: context)
            page.error = error.message
            // The owner is the only field the engine looks a person up for.
            let marked =
                error.code == .notFound && !(form["owner"] ?? "").isEmpty ? AccordError(error.code, error.message, field: "owner") : error
            // The add form's input is kept; the list shows its first page.
            return try await renderSystems(context, page: page, status: Problem(error).httpStatus, input: form) {
                $0.mark(marked)
            }
        }
    }

    /// The system the add form describes; each refusal names its field.
    private func newSystem(_ form: [String: String]) throws -> NewAISystem {
        func text(_ name: String) -> String? {
            let value = (form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return value.isEmpty ? nil : value
        }
        guard let name = text("name") else { throw AccordError(.invalid, "give the AI system a name", field: "name") }
        guard let role = text("role").flatMap(OperatorRole.init(rawValue:)) else {
            throw AccordError(.invalid, "choose the organisation's role for it: provider, deployer, importer or distributor", field: "role")
        }
        guard let risk = text("risk").flatMap(RiskClass.init(rawValue:)) else {
            throw AccordError(.invalid, "choose its risk class: prohibited, high, limited or minimal", field: "risk")
        }
        var annex: Int?
        if let area = text("annex_iii") {
            guard let number = Int(area), (1...8).contains(number) else {
                throw AccordError(.invalid, "the Annex III area is a number from 1 to 8, or empty", field: "annex_iii")
            }
            annex = number
        }
        return NewAISystem(
            name: name,
            operatorRole: role,
            riskClass: risk,
            gpai: form["gpai"] == "yes",
            annexIII: annex,
            owner: text("owner"),
            purpose: text("purpose")
        )
    }

    /// The import form's fields, as MultipartKit decodes them.
    struct ImportForm: Decodable {
        var csrf_token: String?
        var file: UploadedFile?
    }

    @Sendable func importSystems(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await readMultipartForm(ImportForm.self, request, upTo: Self.maxImportBytes)
        try renderer.requireCSRF(form.csrf_token, context)
        let slug = try context.parameters.require("program")
        let name = form.file?.fileName.map(baseName) ?? ""
        do {
            guard let file = form.file, !name.isEmpty else { throw AccordError(.invalid, "choose the inventory spreadsheet (CSV) to import") }
            guard let text = String(bytes: file.bytes, encoding: .utf8) else {
                throw AccordError(.invalid, "\(name):1: the file is not UTF-8 text; save the spreadsheet as CSV UTF-8")
            }
            let systems = try Store.parseSystemsCSV(text, file: name)
            let added = try await store.addSystems(program: slug, systems, actor: try context.actor)
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/systems?imported=\(added.count)"])
        } catch let error as AccordError {
            let lines = error.message.split(separator: "\n").map(String.init)
            var page = PageModel(title: "AI systems", context: context)
            page.error =
                lines.count > 1 ? "\(name) was not imported: \(lines.count) problems; nothing was stored." : "Nothing was imported: \(error.message)"
            return try await renderSystems(context, page: page, status: Problem(error).httpStatus) {
                $0.importName = name
                $0.importProblems = lines.count > 1 ? lines.map { UploadProblem(place: "", message: $0) } : []
                $0.hasImportProblems = lines.count > 1
                $0.importInvalid = true
            }
        }
    }

    @Sendable func system(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let slug = try context.parameters.require("program")
        let system = try await store.system(program: slug, system: try context.parameters.require("system"), actor: actor)
        let list = try ListRequest(request, defaultFormat: .page)
        let tasks = try await store.tasks(.of(program: slug, system: system.slug), paging: list.paging, actor: actor)
        if list.format != .page { return try listDownload(tasks, name: "\(slug)-\(system.slug)-tasks", format: list.format) }
        let program = try await store.program(slug, actor: actor).summary
        var page = PageModel(title: "\(system.name) · \(program.title)", context: context)
        if request.uri.queryParameters["added"] != nil { page.notice = "The AI system is in the inventory, with the tasks that apply to it." }
        if request.uri.queryParameters["classified"] != nil {
            page.notice = "The classification is recorded and the system's tasks follow it; its answers await the legal role's sign-off."
        }
        return renderer.render("system", SystemPage(page: page, slug: slug, programTitle: program.title, system: system, tasks: tasks))
    }

    // MARK: - Upgrade

    @Sendable func upgradePlan(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Upgrade", context: context)
        let query = request.uri.queryParameters
        if let version = query["upgraded"] { page.notice = "The program runs version \(version) now; the changes are in its audit trail." }
        var chosen: Int?
        if let text = query["version"] {
            guard let version = Int(text) else { throw AccordError(.invalid, "version is a whole number", field: "version") }
            chosen = version
        }
        return try await renderUpgrade(context, page: page, chosen: chosen)
    }

    /// The upgrade page with the dry run's plan for `chosen` (or the latest later version).
    private func renderUpgrade(
        _ context: AccordContext,
        page: PageModel,
        chosen: Int?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let actor = try context.actor
        let slug = try context.parameters.require("program")
        let program = try await store.program(slug, actor: actor).summary
        let later = try await store.workflowVersions(program.workflow).filter { $0 > program.workflowVersion }
        let version = chosen ?? later.last
        // Managers only, as the engine decides: a dry run writes nothing, but shows what the program would become.
        var plan: UpgradePlan?
        if let version { plan = try await store.upgradeProgram(slug, to: version, dryRun: true, actor: actor) }
        var titled = page
        titled.title = "Upgrade · \(program.title)"
        let model = UpgradePage(page: titled, program: program, later: later, chosen: version, plan: plan)
        return renderer.render("upgrade", model, status: status)
    }

    @Sendable func upgrade(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let slug = try context.parameters.require("program")
        guard let version = form["version"].flatMap({ Int($0) }) else {
            throw AccordError(.invalid, "choose the version to upgrade to", field: "version")
        }
        do {
            _ = try await store.upgradeProgram(slug, to: version, dryRun: false, actor: try context.actor)
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/upgrade?upgraded=\(version)"])
        } catch let error as AccordError {
            var page = PageModel(title: "Upgrade", context: context)
            page.error = error.message
            return try await renderUpgrade(context, page: page, chosen: nil, status: Problem(error).httpStatus)
        }
    }
}

extension TaskFilter {
    /// The tasks of one AI system of a program.
    static func of(program: String, system: String) -> TaskFilter {
        var filter = TaskFilter(program: program)
        filter.system = system
        return filter
    }
}
