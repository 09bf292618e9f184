import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `/programs/SLUG/cycles`: open a cycle, close it once its management review is signed (the engine
/// refuses before, and the page says why), and every cycle's KPIs side by side, as a table and a chart.
struct CyclePages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/cycles", use: cycles)
            .post("programs/:program/cycles", use: open)
            .post("programs/:program/cycles/close", use: close)
            .get("programs/:program/cycles/kpis.svg", use: chart)
    }

    /// What the page says after each action.
    static let notices = [
        "opened": "The cycle is open; its recurring tasks and its management review are created.",
        "closed": "The cycle is closed; its KPIs are snapshotted as shown.",
    ]

    @Sendable func cycles(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Cycles", context: context)
        let query = request.uri.queryParameters
        page.notice = Self.notices.first { query[$0.key[...]] != nil }?.value
        return try await render(page, slug: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func open(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "opened") { slug, form, actor in
            let (period, startsOn) = try cycleFields(
                period: form["period"],
                startsOn: form["starts_on"],
                periodField: "period",
                startsField: "starts_on"
            )
            _ = try await store.openCycle(program: slug, period: period, startsOn: startsOn, actor: actor)
        }
    }

    @Sendable func close(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "closed") { slug, _, actor in _ = try await store.closeCycle(program: slug, actor: actor) }
    }

    @Sendable func chart(_ request: Request, context: AccordContext) async throws -> Response {
        let cycles = try await store.cycles(program: try context.parameters.require("program"), actor: try context.actor)
        return Response(
            status: .ok,
            headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: cycleKPIChartSVG(cycles)))
        )
    }

    /// A form action: CSRF checked, the engine called, then post/redirect/get; a refusal shows the page
    /// again with the engine's message, the field marked and the input kept.
    private func act(
        _ request: Request,
        _ context: AccordContext,
        done: String,
        _ action: (String, [String: String], String) async throws -> Void
    ) async throws -> Response {
        let slug = try context.parameters.require("program")
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            try await action(slug, form, actor)
            return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/cycles?\(done)=1"])
        } catch let error as AccordError where error.code != .notFound {
            var page = PageModel(title: "Cycles", context: context)
            page.error = error.message
            return try await render(page, slug: slug, actor: actor, status: Problem(error).httpStatus) { model in
                model.periodValue = form["period"] ?? ""
                model.startsValue = form["starts_on"] ?? ""
                model.periodInvalid = error.field == "period"
                model.startsInvalid = error.field == "starts_on"
            }
        }
    }

    private func render(
        _ page: PageModel,
        slug: String,
        actor: String,
        status: HTTPResponse.Status = .ok,
        adjust: (inout CyclesPage) -> Void = { _ in }
    ) async throws -> Response {
        let program = try await store.program(slug, actor: actor)
        let cycles = try await store.cycles(program: slug, actor: actor)
        var review: [TaskSummary] = []
        if cycles.last?.isOpen == true { review = try await store.cycle(program: slug, number: nil, actor: actor).review }
        var page = page
        page.title = "Cycles · \(program.summary.title)"
        var model = CyclesPage(page: page, slug: slug, programTitle: program.summary.title, cycles: cycles, review: review)
        adjust(&model)
        return renderer.render("cycles", model, status: status)
    }
}

/// The KPIs across cycles, drawn on the server: on-time percentage as a line, overdue tasks and sign-off
/// latency as bars, one column per cycle. The page's table is its text equivalent.
func cycleKPIChartSVG(_ cycles: [CycleSummary]) -> String {
    let width = 900.0
    let panel = 150.0
    let left = 70.0
    let height = 3 * (panel + 40) + 20
    let slot = (width - left - 20) / Double(max(1, cycles.count))
    var svg =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"kpi-title\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
    svg +=
        "<title id=\"kpi-title\">On-time percentage, overdue tasks and median sign-off latency across \(cycles.count) \(cycles.count == 1 ? "cycle" : "cycles")</title>"
    let series: [(title: String, unit: String, color: String, line: Bool, values: [Double?])] = [
        ("On time (%)", "%", "#1e7a3e", true, cycles.map { Double($0.kpis.onTimePercent) }),
        ("Overdue tasks", "", "#b3261e", false, cycles.map { Double($0.kpis.overdue) }),
        ("Sign-off latency, median (hours)", " h", "#1f5fbf", false, cycles.map { $0.kpis.signOffLatencyHours }),
    ]
    for (index, item) in series.enumerated() {
        let top = 20 + Double(index) * (panel + 40)
        let base = top + panel
        let largest = item.line ? 100 : max(1, item.values.compactMap { $0 }.max() ?? 1)
        svg += "<text x=\"6\" y=\"\(f(top - 4))\" fill=\"#1d2430\" font-weight=\"bold\">\(svgEscape(item.title))</text>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(base))\" x2=\"\(f(width - 20))\" y2=\"\(f(base))\" stroke=\"#5b6575\"/>"
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(top + 10))\" text-anchor=\"end\" fill=\"#5b6575\">\(f0(largest))\(item.unit)</text>"
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(base))\" text-anchor=\"end\" fill=\"#5b6575\">0</text>"
        var points: [String] = []
        for (i, value) in item.values.enumerated() {
            let x = left + slot * (Double(i) + 0.5)
            svg += "<text x=\"\(f(x))\" y=\"\(f(base + 16))\" text-anchor=\"middle\" fill=\"#1d2430\">cycle \(cycles[i].number)</text>"
            guard let value else {
                svg += "<text x=\"\(f(x))\" y=\"\(f(base - 6))\" text-anchor=\"middle\" fill=\"#5b6575\">none</text>"
                continue
            }
            let y = base - panel * value / largest
            let label = "\(f0(value))\(item.unit)"
            if item.line {
                points.append("\(f(x)),\(f(y))")
                svg +=
                    "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(item.color)\"><title>cycle \(cycles[i].number): \(label)</title></circle>"
            } else {
                let barWidth = min(60, slot * 0.6)
                svg +=
                    "<rect x=\"\(f(x - barWidth / 2))\" y=\"\(f(y))\" width=\"\(f(barWidth))\" height=\"\(f(base - y))\" fill=\"\(item.color)\"><title>cycle \(cycles[i].number): \(label)</title></rect>"
            }
            svg += "<text x=\"\(f(x))\" y=\"\(f(y - 6))\" text-anchor=\"middle\" fill=\"#1d2430\">\(label)</text>"
        }
        if points.count > 1 {
            svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"2\"/>"
        }
    }
    return svg + "</svg>"
}

private func f(_ value: Double) -> String { String(format: "%.1f", value) }
private func f0(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value) }

/// Text made safe inside SVG elements and attributes.
func svgEscape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
