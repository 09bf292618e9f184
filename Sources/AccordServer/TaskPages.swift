import AccordCore
import AccordStore
import Hummingbird
import HummingbirdAuth
import MultipartKit

/// A task's page: what it asks, its evidence and signatures; signing or rejecting; uploading evidence
/// and downloading it.
struct TaskPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("tasks/:task", use: task)
            .post("tasks/:task/sign", use: sign)
            .post("tasks/:task/start", use: start)
            .post("tasks/:task/submit", use: submit)
            .post("tasks/:task/not-applicable", use: notApplicable)
            .post("tasks/:task/reinstate", use: reinstate)
            .post("tasks/:task/evidence", use: uploadEvidence)
            .post("tasks/:task/comments", use: comment)
            .get("evidence/:evidence", use: downloadEvidence)
    }

    @Sendable func task(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let id = try context.parameters.require("task")
        guard Int64(id) != nil else { throw AccordError(.notFound, "no task '\(id)'") }
        let detail = try await store.task(id, actor: actor)
        let signable = try await store.canSignNow(id, actor: actor)
        var page = PageModel(title: detail.task.title, context: context)
        let query = request.uri.queryParameters
        page.notice = Self.notices.first { query[$0.key[...]] != nil }?.value
        var model = TaskPage(page: page, detail: detail, canSign: signable, actor: actor)
        if signable { (model.passwordSigning, model.ssoProviders) = try await signingOptions(context) }
        model.hasSSOSigning = !model.ssoProviders.isEmpty
        model.thread = try await CommentThread.load(store, task: id, actor: actor, query: query)
        return renderer.render("task", model).withFormTargets(model.ssoProviders.map(\.providerOrigin))
    }

    /// What the page says after each action (post/redirect/get: the action redirects here with its key).
    static let notices = [
        "signed": "Your decision is recorded.",
        "uploaded": "The evidence is stored; earlier signatures on this task are superseded.",
        "started": "The task is started; upload its evidence, then submit it for review.",
        "submitted": "Submitted for review: the signers it needs see it in their inbox.",
        "na": "Marked not applicable; the reason is recorded in the program's audit trail.",
        "reinstated": "Reinstated: the task is back in scope, open or waiting for what it depends on.",
        "commented": "Your comment is added; the task's people see it in their inbox.",
    ]

    @Sendable func start(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "started") { id, _, actor in _ = try await store.startTask(id, actor: actor) }
    }

    @Sendable func submit(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "submitted") { id, _, actor in _ = try await store.submitTask(id, actor: actor) }
    }

    @Sendable func notApplicable(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "na") { id, form, actor in
            _ = try await store.markNotApplicable(id, reason: form["reason"] ?? "", actor: actor)
        }
    }

    @Sendable func reinstate(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "reinstated") { id, _, actor in _ = try await store.reinstateTask(id, actor: actor) }
    }

    @Sendable func comment(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "commented") { id, form, actor in
            _ = try await store.addComment(to: id, body: form["body"] ?? "", actor: actor)
        }
    }

    /// A task action from a form: CSRF checked, the engine called, then a redirect to the task (so a reload
    /// or a double submit does not act twice); a refusal shows the task page again with the message, the
    /// field it concerns marked and what was typed kept.
    private func act(
        _ request: Request,
        _ context: AccordContext,
        done: String,
        _ action: (String, [String: String], String) async throws -> Void
    ) async throws -> Response {
        let actor = try context.actor
        let id = try context.parameters.require("task")
        guard Int64(id) != nil else { throw AccordError(.notFound, "no task '\(id)'") }
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            try await action(id, form, actor)
            return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?\(done)=1"])
        } catch let error as AccordError {
            return try await refused(error, task: id, actor: actor, context: context, input: form) { _ in try await store.canSignNow(id, actor: actor)
            }
        }
    }

    @Sendable func sign(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let id = try context.parameters.require("task")
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let decision = form["decision"].flatMap(SigningDecision.init(rawValue:)) ?? .approve
        do {
            _ = try await store.sign(
                id,
                decision: decision,
                meaning: form["meaning"].flatMap(SignatureMeaning.init(rawValue:)),
                comment: form["comment"],
                password: form["password"] ?? "",
                actor: actor
            )
            return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?signed=1"])
        } catch let error as AccordError {
            // The form stays while the task is in review, so a mistyped password can be typed again.
            return try await refused(error, task: id, actor: actor, context: context, input: form) { $0.task.state == .inReview }
        }
    }

    /// The upload form's fields, as MultipartKit decodes them: the files of `<input type="file" multiple>`
    /// come as repeated `file[]` parts, which it decodes as an array; a lone `file` part is one file.
    struct EvidenceForm: Decodable {
        var csrf_token: String?
        var title: String?
        var files: [UploadedFile]

        enum CodingKeys: String, CodingKey {
            case csrf_token, title, file
        }

        init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            csrf_token = try fields.decodeIfPresent(String.self, forKey: .csrf_token)
            title = try fields.decodeIfPresent(String.self, forKey: .title)
            if let many = try? fields.decodeIfPresent([UploadedFile].self, forKey: .file) {
                files = many
            } else {
                files = try fields.decodeIfPresent(UploadedFile.self, forKey: .file).map { [$0] } ?? []
            }
        }
    }

    @Sendable func uploadEvidence(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let id = try context.parameters.require("task")
        let form = try await readMultipartForm(EvidenceForm.self, request, upTo: store.maxEvidenceBytes)
        try renderer.requireCSRF(form.csrf_token, context)
        // A file input left empty still sends one part, without a file name.
        let chosen = form.files.filter { !($0.fileName ?? "").isEmpty }
        guard !chosen.isEmpty else { throw AccordError(.invalid, "choose a file to upload") }
        // A title names one document; several files are each stored under their own name.
        let title = chosen.count > 1 ? nil : form.title.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let files: [(fileName: String, bytes: [UInt8], title: String?)] = chosen.map { (fileName: $0.fileName ?? "", bytes: $0.bytes, title: title) }
        do {
            // All the files or none, in one transaction.
            _ = try await store.addEvidence(to: id, files: files, actor: actor)
            return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?uploaded=1"])
        } catch let error as AccordError {
            return try await refused(error, task: id, actor: actor, context: context, input: [:]) { _ in false }
        }
    }

    /// The task page again after a refusal: the message announced, the field it concerns marked, what was
    /// typed kept, with the status of the refusal. `canSign` says whether the sign form shows.
    func refused(
        _ error: AccordError,
        task id: String,
        actor: String,
        context: AccordContext,
        input: [String: String],
        canSign: (TaskDetail) async throws -> Bool
    ) async throws -> Response {
        let detail = try await store.task(id, actor: actor)
        var page = PageModel(title: detail.task.title, context: context)
        page.error = error.message
        var model = TaskPage(page: page, detail: detail, canSign: try await canSign(detail), actor: actor)
        if model.canSign { (model.passwordSigning, model.ssoProviders) = try await signingOptions(context) }
        model.hasSSOSigning = !model.ssoProviders.isEmpty
        model.thread = try await CommentThread.load(store, task: id, actor: actor, query: [:])
        model.mark(field: error.field, input: input)
        return renderer.render("task", model, status: Problem(error).httpStatus).withFormTargets(model.ssoProviders.map(\.providerOrigin))
    }

    @Sendable func downloadEvidence(_ request: Request, context: AccordContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("evidence")) else { throw AccordError(.notFound, "no such evidence") }
        let (version, bytes) = try await store.evidenceContent(id, actor: try context.actor)
        return evidenceDownload(version, bytes)
    }

    /// How the person may sign: with their password (they have one, and local passwords are on or they
    /// are break-glass), and through each identity provider they are linked to.
    func signingOptions(_ context: AccordContext) async throws -> (Bool, [ProviderButton]) {
        guard let person = context.person else { return (false, []) }
        let identities = try await store.ssoIdentities(of: person.handle, actor: person.handle)
        let passwordsOn = try await store.ssoSettings().localPasswords
        let password = person.canSign && (passwordsOn || identities.isEmpty)
        return (password, identities.map { ProviderButton(id: $0.issuerID, name: $0.displayName, issuer: $0.issuer) })
    }
}
