import AccordCore
public import AccordStore
import Foundation
public import Hummingbird
import HummingbirdAuth
import NIOFoundationEssentialsCompat

extension CycleDetail: ResponseEncodable {}
extension Delegation: ResponseEncodable {}
extension AwayOverview: ResponseEncodable {}

/// The bodies the improvement routes accept. Every field is optional in decoding, so a missing one is the
/// engine's refusal naming it (422 with its `field`), and only these fields are read.
struct OpenCycleBody: Decodable {
    var period: String?
    var startsOn: String?
}
struct FindingBody: Decodable {
    var source: String?
    var severity: String?
    var title: String?
    var system: String?
}
struct RootCauseBody: Decodable { var rootCause: String? }
struct IncidentBody: Decodable {
    var system: String?
    var kind: String?
    var awareAt: String?
    var summary: String?
}
struct DelegationBody: Decodable {
    var program: String?
    var role: String?
    var to: String?
    var starting: String?
    var until: String?
    var reason: String?
}

/// The JSON API of continual improvement, the sign-off list and out of office, under `/api/v1`, next to
/// `APIController`. A route about a program checks first that the caller may see it, so a caller outside
/// the program gets 404 whatever the body; then the engine decides.
struct ImprovementAPIController {
    let store: Store

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("signoffs", use: signOffs)
            .get("me/delegations", use: delegations)
            .post("me/delegations", use: delegate)
            .post("me/delegations/:id/revoke", use: revokeDelegation)
            .get("programs/:program/cycles", use: cycles)
            .post("programs/:program/cycles", use: openCycle)
            .post("programs/:program/cycles/close", use: closeCycle)
            .get("programs/:program/cycles/:number", use: cycle)
            .get("programs/:program/findings", use: findings)
            .post("programs/:program/findings", use: addFinding)
            .get("programs/:program/findings/:number", use: finding)
            .post("programs/:program/findings/:number/root-cause", use: rootCause)
            .get("programs/:program/incidents", use: incidents)
            .post("programs/:program/incidents", use: reportIncident)
            .get("programs/:program/incidents/:number", use: incident)
    }

    @Sendable func signOffs(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let paged = try await store.signOffs(try SignOffFilter(query: request.uri.queryParameters), paging: list.paging, actor: try context.actor)
        return try listDownload(paged, name: "signoffs", format: list.format)
    }

    @Sendable func delegations(_ request: Request, context: AccordContext) async throws -> AwayOverview {
        try await store.away(actor: try context.actor)
    }

    @Sendable func delegate(_ request: Request, context: AccordContext) async throws -> EditedResponse<Delegation> {
        let person = try context.requireIdentity().person
        let body = try await decodeBody(DelegationBody.self, request)
        func field(_ value: String?, _ field: String, _ what: String) throws -> String {
            guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw AccordError(.invalid, "name \(what)", field: field) }
            return value
        }
        let program = try field(body.program, "program", "the program")
        let role = try field(body.role, "role", "the role you delegate")
        let deputy = try field(body.to, "to", "your deputy")
        guard let until = CalendarDate(try field(body.until, "until", "the last day")) else {
            throw AccordError(.invalid, "the last day must be a date, YYYY-MM-DD", field: "until")
        }
        var starting: CalendarDate?
        if let text = body.starting, !text.isEmpty {
            guard let date = CalendarDate(text) else { throw AccordError(.invalid, "the first day must be a date, YYYY-MM-DD", field: "starting") }
            starting = date
        }
        let delegation = try await store.delegate(
            program: program,
            role: role,
            from: person.handle,
            to: deputy,
            until: until,
            starting: starting,
            reason: body.reason ?? "",
            actor: person.handle
        )
        return EditedResponse(status: .created, response: delegation)
    }

    @Sendable func revokeDelegation(_ request: Request, context: AccordContext) async throws -> Delegation {
        guard let id = Int64(try context.parameters.require("id")) else { throw AccordError(.notFound, "no such delegation") }
        return try await store.revokeDelegation(id, actor: try context.actor)
    }

    @Sendable func cycles(_ request: Request, context: AccordContext) async throws -> [CycleSummary] {
        try await store.cycles(program: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func openCycle(_ request: Request, context: AccordContext) async throws -> EditedResponse<CycleDetail> {
        let (program, actor) = try await visibleProgram(context)
        let body = try await decodeBody(OpenCycleBody.self, request, emptyIs: OpenCycleBody())
        let (period, startsOn) = try cycleFields(period: body.period, startsOn: body.startsOn, periodField: "period", startsField: "startsOn")
        let detail = try await store.openCycle(program: program, period: period, startsOn: startsOn, actor: actor)
        return EditedResponse(status: .created, response: detail)
    }

    @Sendable func closeCycle(_ request: Request, context: AccordContext) async throws -> CycleSummary {
        try await store.closeCycle(program: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func cycle(_ request: Request, context: AccordContext) async throws -> CycleDetail {
        let number = try pathNumber(context, "cycle")
        return try await store.cycle(program: try context.parameters.require("program"), number: number, actor: try context.actor)
    }

    @Sendable func findings(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let state = try findingState(request.uri.queryParameters["state"], default: .all)
        let program = try context.parameters.require("program")
        let paged = try await store.findings(program: program, state: state, paging: list.paging, actor: try context.actor)
        return try listDownload(paged, name: "\(program)-findings", format: list.format)
    }

    @Sendable func addFinding(_ request: Request, context: AccordContext) async throws -> EditedResponse<Finding> {
        let (program, actor) = try await visibleProgram(context)
        let body = try await decodeBody(FindingBody.self, request)
        let (source, severity) = try findingKinds(source: body.source, severity: body.severity)
        let system = body.system.flatMap { $0.isEmpty ? nil : $0 }
        let finding = try await store.addFinding(
            program: program,
            source: source,
            severity: severity,
            title: body.title ?? "",
            system: system,
            actor: actor
        )
        return EditedResponse(status: .created, response: finding)
    }

    @Sendable func finding(_ request: Request, context: AccordContext) async throws -> Finding {
        let number = try pathNumber(context, "finding")
        return try await store.finding(program: try context.parameters.require("program"), number: number, actor: try context.actor)
    }

    @Sendable func rootCause(_ request: Request, context: AccordContext) async throws -> Finding {
        let (program, actor) = try await visibleProgram(context)
        let number = try pathNumber(context, "finding")
        let body = try await decodeBody(RootCauseBody.self, request)
        do {
            return try await store.recordRootCause(program: program, finding: number, rootCause: body.rootCause ?? "", actor: actor)
        } catch let error as AccordError where error.field == "text" {
            throw AccordError(error.code, error.message, field: "rootCause")
        }
    }

    @Sendable func incidents(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let program = try context.parameters.require("program")
        let paged = try await store.incidents(program: program, paging: list.paging, actor: try context.actor)
        return try listDownload(paged, name: "\(program)-incidents", format: list.format)
    }

    @Sendable func reportIncident(_ request: Request, context: AccordContext) async throws -> EditedResponse<Incident> {
        let (program, actor) = try await visibleProgram(context)
        let body = try await decodeBody(IncidentBody.self, request)
        let fields = try incidentFields(system: body.system, kind: body.kind, awareAt: body.awareAt, awareField: "awareAt")
        let incident = try await store.reportIncident(
            program: program,
            system: fields.system,
            kind: fields.kind,
            awareAt: fields.awareAt,
            summary: body.summary ?? "",
            actor: actor
        )
        return EditedResponse(status: .created, response: incident)
    }

    @Sendable func incident(_ request: Request, context: AccordContext) async throws -> Incident {
        let number = try pathNumber(context, "incident")
        return try await store.incident(program: try context.parameters.require("program"), number: number, actor: try context.actor)
    }

    /// The program in the path, once the caller is known to see it, and the caller.
    private func visibleProgram(_ context: AccordContext) async throws -> (String, String) {
        let program = try context.parameters.require("program")
        let actor = try context.actor
        try await store.requireVisibleProgram(program, actor: actor)
        return (program, actor)
    }

    /// A JSON body of at most 64 KiB; `emptyIs` answers an empty body when the route allows one.
    private func decodeBody<Body: Decodable>(_ type: Body.Type, _ request: Request, emptyIs empty: Body? = nil) async throws -> Body {
        let raw = try await request.body.collect(upTo: 64 << 10)
        if raw.readableBytes == 0, let empty { return empty }
        return try JSONDecoder().decode(Body.self, from: Data(buffer: raw))
    }
}

/// A cycle, finding or incident number in the path; anything else names nothing there.
func pathNumber(_ context: AccordContext, _ what: String) throws -> Int {
    let text = try context.parameters.require("number")
    guard let number = Int(text), number > 0 else { throw AccordError(.notFound, "no \(what) '\(text)'") }
    return number
}

/// A cycle's period and first day as typed (empty means the workflow's period, and today).
func cycleFields(period: String?, startsOn: String?, periodField: String, startsField: String) throws -> (ISODuration?, CalendarDate?) {
    let periodText = (period ?? "").trimmingCharacters(in: .whitespaces)
    let startsText = (startsOn ?? "").trimmingCharacters(in: .whitespaces)
    var parsedPeriod: ISODuration?
    if !periodText.isEmpty {
        guard let value = ISODuration(periodText) else {
            throw AccordError(.invalid, "the period is an ISO 8601 duration such as P3M or P1Y", field: periodField)
        }
        parsedPeriod = value
    }
    var parsedStart: CalendarDate?
    if !startsText.isEmpty {
        guard let value = CalendarDate(startsText) else {
            throw AccordError(.invalid, "the first day must be a date, YYYY-MM-DD", field: startsField)
        }
        parsedStart = value
    }
    return (parsedPeriod, parsedStart)
}

/// Which findings a query asks for: `open`, `closed` or `all`.
func findingState(_ text: Substring?, default fallback: FindingState) throws -> FindingState {
    guard let text, !text.isEmpty else { return fallback }
    guard let state = FindingState(rawValue: String(text)) else { throw AccordError(.invalid, "state is open, closed or all", field: "state") }
    return state
}

/// A finding's source and severity as typed.
func findingKinds(source: String?, severity: String?) throws -> (FindingSource, FindingSeverity) {
    guard let source = source.flatMap(FindingSource.init(rawValue:)) else {
        throw AccordError(.invalid, "the source is one of \(FindingSource.allCases.map(\.rawValue).joined(separator: ", "))", field: "source")
    }
    guard let severity = severity.flatMap(FindingSeverity.init(rawValue:)) else {
        throw AccordError(.invalid, "the severity is one of \(FindingSeverity.allCases.map(\.rawValue).joined(separator: ", "))", field: "severity")
    }
    return (source, severity)
}

/// An incident's system, kind and moment of awareness as typed; a time without a zone is UTC.
func incidentFields(
    system: String?,
    kind: String?,
    awareAt: String?,
    awareField: String
) throws -> (
    system: String, kind: IncidentKind, awareAt: Date
) {
    guard let system, !system.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw AccordError(.invalid, "name the AI system involved", field: "system")
    }
    guard let kind = kind.flatMap(IncidentKind.init(rawValue:)) else {
        throw AccordError(.invalid, "the kind is one of \(IncidentKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
    }
    guard let date = parseInstant(awareAt ?? "") else {
        throw AccordError(.invalid, "when the organisation became aware: a date and time, e.g. 2026-05-04T09:30Z", field: awareField)
    }
    return (system, kind, date)
}

/// An ISO 8601 instant (`2026-05-04T09:30:00Z`, with or without seconds, fraction or zone; no zone is UTC),
/// as a browser's `datetime-local` field sends it too.
func parseInstant(_ text: String) -> Date? {
    let text = text.trimmingCharacters(in: .whitespaces)
    guard !text.isEmpty else { return nil }
    let hasZone = text.hasSuffix("Z") || text.dropFirst(10).contains("+") || text.dropFirst(16).contains("-")
    var candidate = hasZone ? text : text + "Z"
    if candidate.count == 17 { candidate = String(candidate.dropLast()) + ":00Z" }  // 2026-05-04T09:30Z
    let plain = ISO8601DateFormatter()
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return plain.date(from: candidate) ?? fractional.date(from: candidate)
}

extension SignOffFilter {
    /// The filter a query string asks for: `program`, `role`, and `overdue` (`true` or `false`). Empty values mean "any".
    init(query: Parameters) throws {
        func text(_ name: String) -> String? {
            guard let value = query[name[...]], !value.isEmpty else { return nil }
            return String(value)
        }
        let overdue = text("overdue")
        guard overdue == nil || overdue == "true" || overdue == "false" else {
            throw AccordError(.invalid, "overdue is true or false", field: "overdue")
        }
        self.init(program: text("program"), overdueOnly: overdue == "true", role: text("role"))
    }
}

extension SignOff: CSVRecord {
    static let csvHeader = ["id", "ref", "program", "title", "sign_as", "due_on", "overdue_days"]
    var csvFields: [String] {
        [String(task.id), task.ref, task.program, task.title, signAs, task.dueOn ?? "", task.overdueDays.map(String.init) ?? ""]
    }
}

extension Finding: CSVRecord {
    static let csvHeader = [
        "number", "source", "severity", "title", "system", "incident", "cycle", "root_cause", "opened_at", "opened_by", "closed_at", "tasks",
    ]
    var csvFields: [String] {
        let format = ISO8601DateFormatter()
        return [
            String(number), source.rawValue, severity.rawValue, title, system ?? "", incident.map(String.init) ?? "", cycle.map(String.init) ?? "",
            rootCause ?? "", format.string(from: openedAt), openedBy, closedAt.map { format.string(from: $0) } ?? "",
            tasks.map(\.ref).joined(separator: " "),
        ]
    }
}

extension Incident: CSVRecord {
    static let csvHeader = ["number", "system", "kind", "summary", "aware_at", "report_due_at", "clock", "reported_by", "finding", "notified"]
    var csvFields: [String] {
        let format = ISO8601DateFormatter()
        return [
            String(number), system, kind.rawValue, summary, format.string(from: awareAt), format.string(from: reportDueAt), clock, reportedBy,
            finding.map(String.init) ?? "", notified ? "yes" : "no",
        ]
    }
}
