import AccordCore
import AccordReports
import AccordStore
import Hummingbird
import HummingbirdAuth

/// The pages for looking at the roadmap: inbox, programs, a program with its timeline, reports,
/// the leadership view and the audit chains.
struct RoadmapPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("inbox", use: inbox)
            .get("programs", use: programs)
            .get("programs/:program", use: program)
            .get("programs/:program/timeline.svg", use: timeline)
            .get("programs/:program/reports/:kind", use: report)
            .get("leadership", use: leadership)
            .get("leadership/overdue.svg", use: overdueChart)
            .get("audit", use: audit)
    }

    @Sendable func inbox(_ request: Request, context: AccordContext) async throws -> Response {
        let inbox = try await store.inbox(actor: try context.actor)
        var model = InboxPage(
            page: PageModel(title: "Inbox", context: context),
            signOffs: inbox.signOffs.map(TaskLine.init),
            tasks: inbox.tasks.map(TaskLine.init),
            notices: inbox.notices,
            signOffsMore: inbox.signOffsMore
        )
        model.standIns = try await store.away(actor: try context.actor).received.map {
            StandInLine(program: $0.program, role: $0.role, holder: $0.from, from: $0.validFrom, until: $0.validUntil)
        }
        model.hasStandIns = !model.standIns.isEmpty
        return renderer.render("inbox", model)
    }

    @Sendable func programs(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .page)
        let programs = try await store.programs(actor: try context.actor, paging: list.paging)
        if list.format != .page { return try listDownload(programs, name: "programs", format: list.format) }
        return renderer.render("programs", ProgramsPage(page: PageModel(title: "Programs", context: context), programs: programs))
    }

    /// The program page, with its task list filtered and paged in SQL (see `WorkPages`).
    @Sendable func program(_ request: Request, context: AccordContext) async throws -> Response {
        try await WorkPages(store: store, renderer: renderer).program(request, context: context)
    }

    @Sendable func timeline(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let detail = try await store.program(slug, actor: try context.actor)
        let tasks = try await store.tasks(TaskFilter(program: slug), actor: try context.actor)
        return svg(timelineSVG(detail: detail, tasks: tasks, today: CalendarDate.today()))
    }

    @Sendable func report(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let name = try context.parameters.require("kind")
        let csv = name.hasSuffix(".csv")
        guard let kind = ReportKind(rawValue: csv ? String(name.dropLast(4)) : name) else {
            throw AccordError(.notFound, "no report '\(name)'; reports are \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let report = try await store.report(kind, program: slug, actor: try context.actor)
        if csv {
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                    .contentDisposition: "attachment; filename=\"\(slug)-\(kind.rawValue).csv\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: report.tables[0].csv))
            )
        }
        return renderer.render(
            "report",
            ReportPage(page: PageModel(title: "\(kind.title) · \(report.programTitle)", context: context), report: report)
        )
    }

    @Sendable func leadership(_ request: Request, context: AccordContext) async throws -> Response {
        renderer.render(
            "leadership",
            LeadershipPage(page: PageModel(title: "Leadership", context: context), report: try await store.leadership(actor: try context.actor))
        )
    }

    @Sendable func overdueChart(_ request: Request, context: AccordContext) async throws -> Response {
        let report = try await store.leadership(actor: try context.actor)
        return svg(barChartSVG(report.overdueByOwner.map { ($0.owner, $0.overdue) }))
    }

    @Sendable func audit(_ request: Request, context: AccordContext) async throws -> Response {
        renderer.render(
            "audit",
            AuditPage(page: PageModel(title: "Audit", context: context), chains: try await store.chainStatuses(actor: try context.actor))
        )
    }

    private func svg(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
