import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `/programs/SLUG/incidents`: report a serious incident; an incident's page with its Art. 73 clock (the
/// deadline in UTC and the time left, marked in words and colour when under a day) and its tasks.
struct IncidentPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/incidents", use: incidents)
            .post("programs/:program/incidents", use: report)
            .get("programs/:program/incidents/:number", use: incident)
    }

    @Sendable func incidents(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let list = try ListRequest(request, defaultFormat: .page)
        if list.format != .page {
            let paged = try await store.incidents(program: slug, paging: list.paging, actor: try context.actor)
            return try listDownload(paged, name: "\(slug)-incidents", format: list.format)
        }
        return try await render(PageModel(title: "Incidents", context: context), slug: slug, paging: list.paging, actor: try context.actor)
    }

    @Sendable func report(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            let fields = try incidentFields(system: form["system"], kind: form["kind"], awareAt: form["aware_at"], awareField: "aware_at")
            let incident = try await store.reportIncident(
                program: slug,
                system: fields.system,
                kind: fields.kind,
                awareAt: fields.awareAt,
                summary: form["summary"] ?? "",
                actor: actor
            )
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/incidents/\(incident.number)?reported=1"])
        } catch let error as AccordError where error.code != .notFound || error.message.contains("AI system") {
            var page = PageModel(title: "Incidents", context: context)
            page.error = error.message
            let field = error.message.contains("AI system") ? "system" : error.message.contains("in the future") ? "aware_at" : error.field
            return try await render(page, slug: slug, paging: try Paging(), actor: actor, status: Problem(error).httpStatus) {
                $0.keep(input: form, field: field)
            }
        }
    }

    @Sendable func incident(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let number = try pathNumber(context, "incident")
        let actor = try context.actor
        let program = try await store.program(slug, actor: actor)
        let incident = try await store.incident(program: slug, number: number, actor: actor)
        var page = PageModel(title: "Incident \(number) · \(program.summary.title)", context: context)
        if request.uri.queryParameters["reported"] != nil {
            page.notice = "The incident is reported: its Art. 73 clock runs from awareness, and its report tasks and root-cause finding are created."
        }
        return renderer.render("incident", IncidentPage(page: page, incident: incident, programTitle: program.summary.title, now: Date()))
    }

    private func render(
        _ page: PageModel,
        slug: String,
        paging: Paging,
        actor: String,
        status: HTTPResponse.Status = .ok,
        adjust: (inout IncidentsPage) -> Void = { _ in }
    ) async throws -> Response {
        let program = try await store.program(slug, actor: actor)
        let paged = try await store.incidents(program: slug, paging: paging, actor: actor)
        var page = page
        page.title = "Incidents · \(program.summary.title)"
        var model = IncidentsPage(
            page: page,
            slug: slug,
            programTitle: program.summary.title,
            paged: paged,
            systems: try await store.systems(program: slug, actor: actor),
            now: Date()
        )
        adjust(&model)
        return renderer.render("incidents", model, status: status)
    }
}
