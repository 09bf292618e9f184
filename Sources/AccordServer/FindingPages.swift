import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `/programs/SLUG/findings`: raise a finding, list the open or closed ones (paged in SQL); a finding's
/// page with its root cause (and the form to record it) and its corrective-action and effectiveness tasks.
struct FindingPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/findings", use: findings)
            .post("programs/:program/findings", use: raise)
            .get("programs/:program/findings/:number", use: finding)
            .post("programs/:program/findings/:number/root-cause", use: rootCause)
    }

    @Sendable func findings(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let list = try ListRequest(request, defaultFormat: .page)
        let state = try findingState(request.uri.queryParameters["state"], default: .open)
        if list.format != .page {
            let paged = try await store.findings(program: slug, state: state, paging: list.paging, actor: try context.actor)
            return try listDownload(paged, name: "\(slug)-findings", format: list.format)
        }
        var page = PageModel(title: "Findings", context: context)
        if request.uri.queryParameters["raised"] != nil { page.notice = "The finding is raised; its corrective-action tasks are created." }
        return try await render(page, slug: slug, state: state, paging: list.paging, actor: try context.actor)
    }

    @Sendable func raise(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            let (source, severity) = try findingKinds(source: form["source"], severity: form["severity"])
            let system = form["system"].flatMap { $0.isEmpty ? nil : $0 }
            let finding = try await store.addFinding(
                program: slug,
                source: source,
                severity: severity,
                title: form["title"] ?? "",
                system: system,
                actor: actor
            )
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/findings/\(finding.number)?raised=1"])
        } catch let error as AccordError where error.code != .notFound || error.message.contains("AI system") {
            var page = PageModel(title: "Findings", context: context)
            page.error = error.message
            let field = error.message.contains("AI system") ? "system" : error.field
            return try await render(page, slug: slug, state: .open, paging: try Paging(), actor: actor, status: Problem(error).httpStatus) {
                $0.keep(input: form, field: field)
            }
        }
    }

    @Sendable func finding(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Finding", context: context)
        let query = request.uri.queryParameters
        if query["raised"] != nil { page.notice = "The finding is raised; its corrective-action tasks are created." }
        if query["recorded"] != nil { page.notice = "The root cause is recorded." }
        return try await renderFinding(page, context: context)
    }

    @Sendable func rootCause(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let number = try pathNumber(context, "finding")
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            _ = try await store.recordRootCause(program: slug, finding: number, rootCause: form["root_cause"] ?? "", actor: try context.actor)
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/findings/\(number)?recorded=1"])
        } catch let error as AccordError where error.code != .notFound {
            var page = PageModel(title: "Finding", context: context)
            page.error = error.message
            return try await renderFinding(page, context: context, status: Problem(error).httpStatus) {
                $0.rootCauseValue = form["root_cause"] ?? ""
                $0.rootCauseInvalid = true
            }
        }
    }

    private func render(
        _ page: PageModel,
        slug: String,
        state: FindingState,
        paging: Paging,
        actor: String,
        status: HTTPResponse.Status = .ok,
        adjust: (inout FindingsPage) -> Void = { _ in }
    ) async throws -> Response {
        let program = try await store.program(slug, actor: actor)
        let paged = try await store.findings(program: slug, state: state, paging: paging, actor: actor)
        var page = page
        page.title = "Findings · \(program.summary.title)"
        var model = FindingsPage(
            page: page,
            slug: slug,
            programTitle: program.summary.title,
            state: state,
            paged: paged,
            systems: try await store.systems(program: slug, actor: actor)
        )
        adjust(&model)
        return renderer.render("findings", model, status: status)
    }

    private func renderFinding(
        _ page: PageModel,
        context: AccordContext,
        status: HTTPResponse.Status = .ok,
        adjust: (inout FindingPage) -> Void = { _ in }
    ) async throws -> Response {
        let slug = try context.parameters.require("program")
        let number = try pathNumber(context, "finding")
        let actor = try context.actor
        let program = try await store.program(slug, actor: actor)
        let finding = try await store.finding(program: slug, number: number, actor: actor)
        var page = page
        page.title = "Finding \(number) · \(program.summary.title)"
        var model = FindingPage(page: page, finding: finding, programTitle: program.summary.title)
        adjust(&model)
        return renderer.render("finding", model, status: status)
    }
}
