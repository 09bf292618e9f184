import AccordCore
import AccordReports
public import AccordStore
import Crypto
import Foundation
public import Hummingbird
import HummingbirdAuth
import NIOFoundationEssentialsCompat

extension TaskSummary: ResponseEncodable {}
extension TaskDetail: ResponseEncodable {}
extension ProgramDetail: ResponseEncodable {}
extension Person: ResponseEncodable {}
extension MailPreferences: ResponseEncodable {}
extension Report: ResponseEncodable {}
extension CycleSummary: ResponseEncodable {}
extension Finding: ResponseEncodable {}
extension Incident: ResponseEncodable {}
extension Inbox: ResponseEncodable {}
extension SigningOutcome: ResponseEncodable {}
extension EvidenceVersion: ResponseEncodable {}
extension AuditVerification: ResponseEncodable {}
extension LeadershipReport: ResponseEncodable {}

/// An evidence version as a download: its media type, file name and SHA-256 (`Digest`), for the API and the pages.
func evidenceDownload(_ version: EvidenceVersion, _ bytes: [UInt8]) -> Response {
    // Evidence is the organisation's own material: no shared cache or browser history keeps it.
    var headers: HTTPFields = [.contentType: version.mediaType, .contentLength: String(bytes.count), .cacheControl: "no-store"]
    headers[.contentDisposition] = "attachment; filename=\"\(version.fileName.replacingOccurrences(of: "\"", with: ""))\""
    headers[.init("Digest")!] = "sha-256=\(Data(hexBytes(version.sha256) ?? []).base64EncodedString())"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// A list that is not paginated.
struct Items<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
}

/// Bodies the API accepts. Only these fields are read: signer, time, state and role are never taken from a request.
struct AssignBody: Decodable { var assignee: String }
struct ReasonBody: Decodable { var reason: String }
struct SignBody: Codable {
    var password: String
    var meaning: SignatureMeaning?
    var comment: String?
}

/// What an Idempotency-Key binds of a sign body: everything but the password.
struct SignFingerprint: Encodable {
    var meaning: SignatureMeaning?
    var comment: String?
}

/// The JSON API under `/api/v1`. Every route needs an authenticated person (the group's
/// `IsAuthenticatedMiddleware`); the engine checks what they may do. One named method per route.
struct APIController {
    let store: Store

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("me", use: me)
            .get("inbox", use: inbox)
            .get("programs", use: programs)
            .get("programs/:program", use: program)
            .get("programs/:program/reports/:kind", use: report)
            .get("tasks", use: tasks)
            .get("tasks/:task", use: task)
            .post("tasks/:task/assign", use: assign)
            .post("tasks/:task/start", use: start)
            .post("tasks/:task/submit", use: submit)
            .post("tasks/:task/not-applicable", use: notApplicable)
            .post("tasks/:task/sign", use: sign)
            .post("tasks/:task/reject", use: reject)
            .get("tasks/:task/evidence", use: evidence)
            .post("tasks/:task/evidence", use: uploadEvidence)
            .get("evidence/:evidence/content", use: evidenceContent)
            .get("leadership", use: leadership)
            .get("audit/verify", use: verifyAudit)
    }

    @Sendable func me(_ request: Request, context: AccordContext) async throws -> Person {
        try context.requireIdentity().person
    }

    @Sendable func inbox(_ request: Request, context: AccordContext) async throws -> Inbox {
        try await store.inbox(actor: try context.actor)
    }

    @Sendable func programs(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        return try listDownload(try await store.programs(actor: try context.actor, paging: list.paging), name: "programs", format: list.format)
    }

    @Sendable func program(_ request: Request, context: AccordContext) async throws -> ProgramDetail {
        try await store.program(try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func report(_ request: Request, context: AccordContext) async throws -> Report {
        let name = try context.parameters.require("kind")
        guard let kind = ReportKind(rawValue: name) else {
            throw AccordError(.notFound, "no report '\(name)'; reports are \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try await store.report(kind, program: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func tasks(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let paged = try await store.tasks(try taskFilter(request), paging: list.paging, actor: try context.actor)
        return try listDownload(paged, name: "tasks", format: list.format)
    }

    @Sendable func task(_ request: Request, context: AccordContext) async throws -> TaskDetail {
        try await store.task(try taskID(context), actor: try context.actor)
    }

    @Sendable func assign(_ request: Request, context: AccordContext) async throws -> TaskSummary {
        let body = try await request.decode(as: AssignBody.self, context: context)
        return try await store.assignTask(try taskID(context), to: body.assignee, actor: try context.actor)
    }

    @Sendable func start(_ request: Request, context: AccordContext) async throws -> TaskSummary {
        try await store.startTask(try taskID(context), actor: try context.actor)
    }

    @Sendable func submit(_ request: Request, context: AccordContext) async throws -> TaskSummary {
        try await store.submitTask(try taskID(context), actor: try context.actor)
    }

    @Sendable func notApplicable(_ request: Request, context: AccordContext) async throws -> TaskSummary {
        let body = try await request.decode(as: ReasonBody.self, context: context)
        return try await store.markNotApplicable(try taskID(context), reason: body.reason, actor: try context.actor)
    }

    @Sendable func sign(_ request: Request, context: AccordContext) async throws -> Response {
        try await signOff(request, context, decision: .approve)
    }

    @Sendable func reject(_ request: Request, context: AccordContext) async throws -> Response {
        try await signOff(request, context, decision: .reject)
    }

    @Sendable func evidence(_ request: Request, context: AccordContext) async throws -> Items<EvidenceVersion> {
        Items(items: try await store.evidence(of: try taskID(context), actor: try context.actor))
    }

    @Sendable func uploadEvidence(_ request: Request, context: AccordContext) async throws -> EditedResponse<EvidenceVersion> {
        let query = request.uri.queryParameters
        guard let fileName = query["filename"].map(String.init), !fileName.isEmpty else {
            throw AccordError(.invalid, "name the file: POST …/evidence?filename=NAME[&title=TITLE] with the bytes as the body")
        }
        guard fileName.count <= 255 else { throw AccordError(.invalid, "a file name has at most 255 characters") }
        let body = try await request.body.collect(upTo: store.maxEvidenceBytes + 1)
        let version = try await store.addEvidence(
            to: try taskID(context),
            fileName: fileName,
            bytes: Array(buffer: body),
            title: query["title"].map(String.init),
            actor: try context.actor
        )
        return EditedResponse(status: .created, response: version)
    }

    @Sendable func evidenceContent(_ request: Request, context: AccordContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("evidence")) else { throw AccordError(.invalid, "an evidence id is a number") }
        let (version, bytes) = try await store.evidenceContent(id, actor: try context.actor)
        return evidenceDownload(version, bytes)
    }

    @Sendable func leadership(_ request: Request, context: AccordContext) async throws -> LeadershipReport {
        try await store.leadership(actor: try context.actor)
    }

    @Sendable func verifyAudit(_ request: Request, context: AccordContext) async throws -> AuditVerification {
        // Asked again and again, it answers from the last run while nothing it covers has moved (at most five minutes old).
        try await store.verifyAudit(
            program: request.uri.queryParameters["program"].map(String.init),
            actor: try context.actor,
            reuseWithin: .seconds(300)
        )
    }

    /// Signs or rejects; with an `Idempotency-Key` header a retried request gets the first answer and never signs twice.
    private func signOff(_ request: Request, _ context: AccordContext, decision: SigningDecision) async throws -> Response {
        let person = try context.requireIdentity().person
        let task = try taskID(context)
        let raw = try await request.body.collect(upTo: 64 << 10)
        let body = try JSONDecoder().decode(SignBody.self, from: Data(buffer: raw))
        let perform: (IdempotencyClaim?) async throws -> RememberedResponse = { claim in
            let outcome = try await store.sign(
                task,
                decision: decision,
                meaning: body.meaning,
                comment: body.comment,
                password: body.password,
                actor: person.handle,
                idempotency: claim
            )
            return RememberedResponse(status: 200, body: try outcome.json())
        }
        guard let key = request.headers[.init("Idempotency-Key")!] else { return json(try await perform(nil)) }
        // The key binds the request as understood (canonical JSON of the decoded fields), not its bytes, so a
        // client that re-serialises a retry in another key order is still recognised; never the password,
        // and under an HMAC with the audit key (see Store.requestFingerprint).
        let canonical = JSONEncoder()
        canonical.outputFormatting = [.sortedKeys]
        var description = Array("\(request.method.rawValue) \(request.uri.path)\n".utf8)
        description += Array(try canonical.encode(SignFingerprint(meaning: body.meaning, comment: body.comment)))
        // A remembered refusal comes back thrown, as the AccordError it was.
        return json(
            try await store.idempotent(person: person, key: key, requestHMAC: store.requestFingerprint(description)) { try await perform($0) }
        )
    }

    private func json(_ answer: RememberedResponse) -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: answer.body))
        )
    }

    /// The task filter of the query string, shared by the API's list and the program page.
    private func taskFilter(_ request: Request) throws -> TaskFilter {
        try TaskFilter(query: request.uri.queryParameters)
    }

    /// The task in the path: a numeric id.
    private func taskID(_ context: AccordContext) throws -> String {
        let value = try context.parameters.require("task")
        guard Int64(value) != nil else { throw AccordError(.invalid, "a task is addressed by its numeric id in the API") }
        return value
    }
}
