import AccordCore
import AccordResources
import AccordStore
import Foundation
import Hummingbird
import Mustache

/// The web front: server-rendered pages that work without JavaScript. Every form carries the session's
/// CSRF token; nothing changes on GET.
struct PagesController {
    let store: Store
    let tls: Bool
    let library: MustacheLibrary
    let stylesheet: String

    init(store: Store, tls: Bool) throws {
        self.store = store
        self.tls = tls
        var library = MustacheLibrary()
        var stylesheet = ""
        for file in Resources.templates {
            if file.name.hasSuffix(".mustache") {
                try library.register(file.text, named: String(file.name.dropLast(".mustache".count)))
            } else if file.name == "accord.css" {
                stylesheet = file.text
            }
        }
        self.library = library
        self.stylesheet = stylesheet
    }

    func addRoutes(to router: Router<AccordContext>) {
        router.get("static/accord.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: stylesheet)))
        }
        let pages = router.group()
            .add(middleware: PageSessionMiddleware(store: store, tls: tls))
            .add(middleware: PageErrorMiddleware(pages: self))
        pages.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/inbox"]) }
        // The calendar feed: a calendar application has no session; the secret token in the path is the credential.
        router.get("calendar/:file") { _, context in
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".ics"), let ics = try await store.calendar(token: String(file.dropLast(4))) else {
                throw AccordError(.notFound, "no such calendar; create a feed on your account page")
            }
            return Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: ics)))
        }
        pages.get("account") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let created = try await store.calendarFeedCreated(actor: person.handle)
            return render("account", AccountPage(page: PageModel(title: "Your account", context: context), person: person, feedCreated: created, feedURL: nil))
        }
        pages.post("account/calendar") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let form = try await formFields(request)
            try requireCSRF(form, context)
            var page = PageModel(title: "Your account", context: context)
            if form["action"] == "remove" {
                try await store.removeCalendarToken(actor: person.handle)
                page.notice = "Your calendar feed is off; its address no longer works."
                return render("account", AccountPage(page: page, person: person, feedCreated: nil, feedURL: nil))
            }
            let token = try await store.newCalendarToken(actor: person.handle)
            let host = request.head.authority ?? "127.0.0.1"
            let url = "\(tls ? "https" : "http")://\(host)/calendar/\(token).ics"
            page.notice = "A new calendar feed address; any earlier one stops working. It is shown once: copy it into your calendar now."
            return render("account", AccountPage(page: page, person: person, feedCreated: Date(), feedURL: url))
        }
        pages.get("login") { request, context in
            if context.person != nil { return Response(status: .seeOther, headers: [.location: "/inbox"]) }
            return loginPage(context, error: nil, status: .ok)
        }
        pages.post("login") { request, context in
            let form = try await formFields(request, upTo: SessionController.maxLoginBody)
            // Login CSRF: the form's token must match the pre-session cookie set with the form (SameSite,
            // so another site's form cannot carry it), and a browser's Origin must be this site.
            guard let sent = form["login_token"], let cookie = request.cookies[loginCookie]?.value, constantTimeEquals(sent, cookie) else {
                return loginPage(context, error: "this login form has expired or did not come from Accord; log in again", status: .forbidden, handle: form["handle"])
            }
            do {
                try refuseCrossSite(request)
            } catch let error as AccordError {
                return loginPage(context, error: error.message, status: .forbidden, handle: form["handle"])
            }
            do {
                let (_, cookie) = try await SessionCookies(store: store, tls: tls)
                    .begin(request, handle: form["handle"] ?? "", password: form["password"] ?? "", address: context.clientAddress)
                var response = Response(status: .seeOther, headers: [.location: "/inbox"])
                response.setCookie(cookie)
                return response
            } catch let error as AccordError {
                return loginPage(context, error: error.message, status: Problem(error).httpStatus == .serviceUnavailable ? .serviceUnavailable : .unauthorized,
                                 handle: form["handle"])
            }
        }
        pages.post("logout") { request, context in
            let form = try await formFields(request)
            try requireCSRF(form, context)
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(try await SessionCookies(store: store, tls: tls).end(request))
            return response
        }
        pages.get("inbox") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            let inbox = try await store.inbox(actor: person.handle)
            return render("inbox", InboxPage(page: PageModel(title: "Inbox", context: context), signOffs: inbox.signOffs.map(TaskLine.init),
                                             tasks: inbox.tasks.map(TaskLine.init), notices: inbox.notices, signOffsMore: inbox.signOffsMore))
        }
        pages.get("programs") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render("programs", ProgramsPage(page: PageModel(title: "Programs", context: context), programs: try await store.programs(actor: person.handle)))
        }
        pages.get("programs/:program") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            let slug = try context.parameters.require("program")
            let detail = try await store.program(slug, actor: person.handle)
            let tasks = try await store.tasks(TaskFilter(program: slug), actor: person.handle)
            return render("program", ProgramPage(page: PageModel(title: detail.summary.title, context: context), detail: detail, tasks: tasks))
        }
        pages.get("programs/:program/timeline.svg") { _, context in
            guard let person = context.person else { throw AccordError(.unauthenticated, "log in first") }
            let slug = try context.parameters.require("program")
            let detail = try await store.program(slug, actor: person.handle)
            let tasks = try await store.tasks(TaskFilter(program: slug), actor: person.handle)
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: timelineSVG(detail: detail, tasks: tasks, today: CalendarDate.today()))))
        }
        pages.get("programs/:program/reports/:kind") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            let slug = try context.parameters.require("program"), name = try context.parameters.require("kind")
            let csv = name.hasSuffix(".csv")
            guard let kind = ReportKind(rawValue: csv ? String(name.dropLast(4)) : name) else {
                throw AccordError(.notFound, "no report '\(name)'; reports are \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let report = try await store.report(kind, program: slug, actor: person.handle)
            if csv {
                let text = report.tables[0].csv
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"\(slug)-\(kind.rawValue).csv\""],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            return render("report", ReportPage(page: PageModel(title: "\(kind.title) · \(report.programTitle)", context: context), report: report))
        }
        pages.get("leadership") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render("leadership", LeadershipPage(page: PageModel(title: "Leadership", context: context), report: try await store.leadership(actor: person.handle)))
        }
        pages.get("leadership/overdue.svg") { _, context in
            guard let person = context.person else { throw AccordError(.unauthenticated, "log in first") }
            let report = try await store.leadership(actor: person.handle)
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: barChartSVG(report.overdueByOwner.map { ($0.owner, $0.overdue) }))))
        }
        pages.get("audit") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render("audit", AuditPage(page: PageModel(title: "Audit", context: context), chains: try await store.chainStatuses(actor: person.handle)))
        }
        pages.get("tasks/:task") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let id = try context.parameters.require("task")
            guard Int64(id) != nil else { throw AccordError(.notFound, "no task '\(id)'") }
            let detail = try await store.task(id, actor: person.handle)
            let signable = try await store.canSignNow(id, actor: person.handle)
            var page = PageModel(title: detail.task.title, context: context)
            page.notice = request.uri.queryParameters["signed"].map { _ in "Your decision is recorded." }
                ?? request.uri.queryParameters["uploaded"].map { _ in "The evidence is stored; earlier signatures on this task are superseded." }
            return render("task", TaskPage(page: page, detail: detail, canSign: signable))
        }
        pages.post("tasks/:task/sign") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let id = try context.parameters.require("task")
            let form = try await formFields(request)
            try requireCSRF(form, context)
            let decision: SigningDecision = form["decision"] == "reject" ? .reject : .approve
            do {
                _ = try await store.sign(id, decision: decision, meaning: form["meaning"].flatMap(SignatureMeaning.init(rawValue:)),
                                         comment: form["comment"], password: form["password"] ?? "", actor: person.handle)
                return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?signed=1"])
            } catch let error as AccordError {
                let detail = try await store.task(id, actor: person.handle)
                var page = PageModel(title: detail.task.title, context: context)
                page.error = error.message
                return render("task", TaskPage(page: page, detail: detail, canSign: detail.task.state == .inReview), status: Problem(error).httpStatus)
            }
        }
        pages.post("tasks/:task/evidence") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let id = try context.parameters.require("task")
            guard let boundary = Multipart.boundary(contentType: request.headers[.contentType]) else {
                throw AccordError(.invalid, "upload the file with the page's form (multipart/form-data)")
            }
            let body = try await request.body.collect(upTo: store.maxEvidenceBytes + (64 << 10))
            guard let parts = try? Multipart.parse(Array(buffer: body), boundary: boundary) else {
                throw AccordError(.invalid, "the upload is not a well-formed form")
            }
            var fields: [String: String] = [:]
            for part in parts where part.fileName == nil { fields[part.name] = String(decoding: part.bytes, as: UTF8.self) }
            try requireCSRF(fields, context)
            guard let file = parts.first(where: { $0.name == "file" && $0.fileName != nil }), let fileName = file.fileName, !fileName.isEmpty else {
                throw AccordError(.invalid, "choose a file to upload")
            }
            let title = fields["title"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            do {
                _ = try await store.addEvidence(to: id, fileName: fileName, bytes: file.bytes, title: title, actor: person.handle)
                return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?uploaded=1"])
            } catch let error as AccordError {
                let detail = try await store.task(id, actor: person.handle)
                var page = PageModel(title: detail.task.title, context: context)
                page.error = error.message
                return render("task", TaskPage(page: page, detail: detail, canSign: false), status: Problem(error).httpStatus)
            }
        }
        pages.get("evidence/:evidence") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            guard let id = Int64(try context.parameters.require("evidence")) else { throw AccordError(.notFound, "no such evidence") }
            let (version, bytes) = try await store.evidenceContent(id, actor: person.handle)
            return evidenceDownload(version, bytes)
        }
    }

    func render(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(model, withTemplate: template) ?? "<!doctype html><title>Accord</title><p>Page missing.</p>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func redirectToLogin() -> Response { Response(status: .seeOther, headers: [.location: "/login"]) }

    /// The pre-session cookie of the login form (login CSRF).
    var loginCookie: String { tls ? "__Host-accord_login" : "accord_login" }

    /// The login form with a fresh pre-session token, in the page and in a cookie.
    func loginPage(_ context: AccordContext, error: String?, status: HTTPResponse.Status, handle: String? = nil) -> Response {
        let token = randomLoginToken()
        var response = render("login", LoginPage(page: PageModel(title: "Log in", context: context, error: error), handle: handle ?? "", loginToken: token), status: status)
        response.setCookie(Cookie(name: loginCookie, value: token, maxAge: 3600, path: "/", secure: tls, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The fields of an `application/x-www-form-urlencoded` body (64 KiB at most, or `limit`).
    func formFields(_ request: Request, upTo limit: Int = 64 << 10) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: limit)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first, fields[key] == nil { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    func requireCSRF(_ form: [String: String], _ context: AccordContext) throws {
        guard let session = context.session, let token = form["csrf_token"], constantTimeEquals(token, session.csrfToken) else {
            throw AccordError(.forbidden, "this form has expired or did not come from Accord; reload the page and try again")
        }
    }
}

/// A refusal on a page is an HTML page with the right status, not a problem document.
struct PageErrorMiddleware: RouterMiddleware {
    let pages: PagesController

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AccordError {
            let problem = Problem(error)
            return pages.render("error", ErrorPage(page: PageModel(title: problem.title, context: context), detail: error.message), status: problem.httpStatus)
        }
    }
}

struct ErrorPage {
    var page: PageModel, detail: String
    init(page: PageModel, detail: String) {
        self.page = page; self.detail = detail
    }
}

/// Pages authenticate with the session cookie only (never a bearer token).
struct PageSessionMiddleware: RouterMiddleware {
    let store: Store
    let tls: Bool

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        var context = context
        if let session = try await SessionCookies(store: store, tls: tls).current(request) {
            context.person = session.person
            context.session = session
        }
        return try await next(request, context)
    }
}

// MARK: - Page models (plain values for the templates)

struct PageModel {
    struct Who { var name: String; var handle: String; var csrf: String }
    var title: String
    var person: Who?
    var notice: String?
    var error: String?

    init(title: String, context: AccordContext, error: String? = nil) {
        self.title = title
        if let person = context.person, let session = context.session { self.person = Who(name: person.name, handle: person.handle, csrf: session.csrfToken) }
        self.error = error
    }
}

/// One task in a list. Mustache looks a missing (nil) value up in the enclosing context, so optional
/// fields get names no page model uses, and "no value" is spelled out.
struct LoginPage {
    var page: PageModel
    var handle: String
    var loginToken: String
}

/// 32 random bytes, URL-safe base64.
func randomLoginToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

struct TaskLine {
    var id: Int64, ref: String, title: String, state: String, lineDue: String, lineLateDays: Int, lineIsLate: Bool, ownerRole: String, assignee: String
    init(_ t: TaskSummary) {
        id = t.id; ref = t.ref; title = t.title; state = t.state.rawValue; lineDue = t.dueOn ?? "no due date"
        lineLateDays = t.overdueDays ?? 0; lineIsLate = t.overdueDays != nil; ownerRole = t.ownerRole; assignee = t.assignee ?? "unassigned"
    }
}

struct InboxPage {
    struct NoticeLine { var noticeKind: String, message: String, taskID: Int64?, at: String, isEscalation: Bool }
    var page: PageModel
    var signOffs: [TaskLine], tasks: [TaskLine], signOffCount: String, taskCount: Int, signOffsMore: Bool
    var notices: [NoticeLine], noticeCount: Int
    init(page: PageModel, signOffs: [TaskLine], tasks: [TaskLine], notices: [Notice] = [], signOffsMore: Bool = false) {
        self.page = page
        self.signOffs = signOffs; self.tasks = tasks; taskCount = tasks.count
        signOffCount = signOffsMore ? "\(signOffs.count)+" : "\(signOffs.count)"
        self.signOffsMore = signOffsMore
        let format = ISO8601DateFormatter()
        self.notices = notices.map { NoticeLine(noticeKind: $0.kind, message: $0.message, taskID: $0.taskID, at: format.string(from: $0.at), isEscalation: $0.kind == "escalation") }
        noticeCount = notices.count
    }
}

struct ProgramsPage {
    var page: PageModel
    var programs: [ProgramSummary]
    init(page: PageModel, programs: [ProgramSummary]) {
        self.page = page; self.programs = programs
    }
}

struct ProgramPage {
    var page: PageModel
    var slug: String, programTitle: String, workflow: String, workflowVersion: Int, startsOn: String, tasks: Int, progress: Int, overdueCount: Int
    var steps: [ProgramDetail.StepProgress], taskRows: [TaskLine]
    init(page: PageModel, detail: ProgramDetail, tasks: [TaskSummary]) {
        self.page = page
        let s = detail.summary
        slug = s.slug; programTitle = s.title; workflow = s.workflow; workflowVersion = s.workflowVersion; startsOn = s.startsOn
        self.tasks = s.tasks; progress = s.progress; overdueCount = s.overdue; steps = detail.steps; taskRows = tasks.map(TaskLine.init)
    }
}

struct TaskPage {
    struct Sig { var printedName: String, sigOnBehalfOf: String?, signedAt: String, decision: String, role: String, meaning: String, versionNote: String, sigComment: String, current: Bool }
    struct Ev { var id: Int64, title: String, version: Int, size: Int, sha256: String, uploadedBy: String }
    var page: PageModel
    var csrf: String, taskID: Int64, program: String, stepTitle: String, taskTitle: String, state: String, ownerRole: String, assignee: String
    var dueOn: String?, overdue: Int?, description: String?
    var refs: [TaskDetail.RefTitle], hasRefs: Bool, dependsOn: [TaskDetail.Link], hasDependencies: Bool
    var evidence: [Ev], evidenceRequired: [String], evidenceVersion: Int
    var signatures: [Sig], hasSignatures: Bool, policy: String?, needed: String?, canSign: Bool, canUpload: Bool
    struct DeadlineLine { var what: String, firedOn: String, recipients: String, isEscalation: Bool }
    var deadlines: [DeadlineLine], hasDeadlines: Bool
    var openFindings: [OpenFinding], hasOpenFindings: Bool

    init(page: PageModel, detail: TaskDetail, canSign: Bool) {
        self.page = page; csrf = page.person?.csrf ?? ""
        let t = detail.task
        taskID = t.id; program = t.program; stepTitle = detail.stepTitle; taskTitle = t.title; state = t.state.rawValue; ownerRole = t.ownerRole
        assignee = t.assignee ?? "unassigned"; dueOn = t.dueOn; overdue = t.overdueDays; description = detail.description
        refs = detail.refs; hasRefs = !detail.refs.isEmpty; dependsOn = detail.dependsOn; hasDependencies = !detail.dependsOn.isEmpty
        evidence = detail.evidence.map { Ev(id: $0.id, title: $0.title, version: $0.version, size: $0.size, sha256: $0.sha256, uploadedBy: $0.uploadedBy) }
        evidenceRequired = detail.evidenceRequired; evidenceVersion = detail.evidenceVersion
        deadlines = detail.deadlines.map {
            DeadlineLine(what: $0.kind == .escalation ? "Escalation \($0.level) to \($0.toRole ?? "?")" : $0.kind == .overdue ? "Overdue notice" : "Reminder",
                         firedOn: $0.firedOn, recipients: $0.recipients.isEmpty ? "nobody" : $0.recipients.joined(separator: ", "), isEscalation: $0.kind == .escalation)
        }
        hasDeadlines = !deadlines.isEmpty
        openFindings = detail.openFindings; hasOpenFindings = !detail.openFindings.isEmpty
        let format = ISO8601DateFormatter()
        signatures = detail.signatures.map {
            Sig(printedName: $0.printedName, sigOnBehalfOf: $0.onBehalfOf, signedAt: format.string(from: $0.signedAt), decision: $0.decision == .approve ? "approved" : "rejected",
                role: $0.role ?? "-", meaning: $0.meaning.rawValue, versionNote: $0.versionNote, sigComment: $0.comment ?? "", current: $0.current)
        }
        hasSignatures = !detail.signatures.isEmpty
        policy = detail.approval?.signersSummary
        needed = detail.signaturesNeeded.isEmpty ? nil : ApprovalPolicy.neededSummary(detail.signaturesNeeded)
        self.canSign = canSign
        canUpload = ![.retired, .notApplicable].contains(t.state)
    }
}

struct AuditPage {
    struct Row { var seq: Int64, at: String, actor: String, action: String, object: String }
    struct Chain { var program: String, entries: Int, verified: Int, chainOK: Bool, problemText: String, headShort: String, checkpointText: String, rows: [Row] }
    var page: PageModel
    var chains: [Chain]
    init(page: PageModel, chains: [ChainStatus]) {
        self.page = page
        let format = ISO8601DateFormatter()
        self.chains = chains.map { c in
            Chain(program: c.program, entries: c.entries, verified: c.verified, chainOK: c.problem == nil, problemText: c.problem ?? "",
                  headShort: String(c.headSHA256.prefix(16)),
                  checkpointText: c.lastCheckpointAt.map { "\(format.string(from: $0)) at entry \(c.lastCheckpointPosition ?? 0)" } ?? "none taken yet",
                  rows: c.latest.map { Row(seq: $0.seq, at: format.string(from: $0.recordedAt), actor: $0.actor, action: $0.action, object: $0.objectID ?? "") })
        }
    }
}

struct AccountPage {
    var page: PageModel
    var handle: String, name: String, email: String, feedOn: Bool, feedCreated: String?, feedURL: String?, csrf: String
    init(page: PageModel, person: Person, feedCreated: Date?, feedURL: String?) {
        self.page = page
        handle = person.handle; name = person.name; email = person.email ?? "-"
        feedOn = feedCreated != nil; self.feedCreated = feedCreated.map { ISO8601DateFormatter().string(from: $0) }; self.feedURL = feedURL
        csrf = page.person?.csrf ?? ""
    }
}

struct ReportPage {
    struct Table { var title: String, header: [String], rows: [Row], empty: Bool }
    struct Row { var cells: [String] }
    struct Link { var kind: String, title: String, current: Bool }
    var page: PageModel
    var slug: String, programTitle: String, reportTitle: String, kind: String, generatedAt: String, summary: [String], tables: [Table], links: [Link]
    init(page: PageModel, report: Report) {
        self.page = page
        slug = report.program; programTitle = report.programTitle; reportTitle = report.kind.title; kind = report.kind.rawValue
        generatedAt = ISO8601DateFormatter().string(from: report.generatedAt); summary = report.summary
        tables = report.tables.map { Table(title: $0.title, header: $0.header, rows: $0.rows.map { Row(cells: $0) }, empty: $0.rows.isEmpty) }
        links = ReportKind.allCases.map { Link(kind: $0.rawValue, title: $0.title, current: $0 == report.kind) }
    }
}

struct LeadershipPage {
    struct Row { var handle: String, name: String, roleList: String, waiting: Int, overdue: Int, leaderLate: Bool, signed: Int, medianText: String, escalationsReceived: Int }
    var page: PageModel
    struct EscalationLine { var task: String, taskTitle: String, level: Int, toRole: String, recipients: String, firedOn: String, dueOn: String }
    var leaders: [Row], owners: [LeadershipReport.OwnerLoad], hasOwners: Bool, ownerSummary: String
    var escalations: [EscalationLine], hasEscalations: Bool
    init(page: PageModel, report: LeadershipReport) {
        self.page = page
        leaders = report.leaders.map {
            Row(handle: $0.handle, name: $0.name, roleList: $0.roles.joined(separator: ", "), waiting: $0.waiting, overdue: $0.overdue, leaderLate: $0.overdue > 0,
                signed: $0.signed, medianText: $0.medianHoursToSign.map { "\($0) h" } ?? "no signatures yet", escalationsReceived: $0.escalationsReceived)
        }
        escalations = report.openEscalations.map {
            EscalationLine(task: $0.task, taskTitle: $0.title, level: $0.level, toRole: $0.toRole ?? "-", recipients: $0.recipients.joined(separator: ", "),
                           firedOn: $0.firedOn, dueOn: $0.dueOn)
        }
        hasEscalations = !escalations.isEmpty
        owners = report.overdueByOwner
        hasOwners = !owners.isEmpty
        ownerSummary = owners.map { "\($0.owner) \($0.overdue)" }.joined(separator: ", ")
    }
}

extension Problem {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }
}
