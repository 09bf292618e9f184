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
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: stylesheet))
            )
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
            return Response(
                status: .ok,
                headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: ics))
            )
        }
        pages.get("account") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let created = try await store.calendarFeedCreated(actor: person.handle)
            return render(
                "account",
                AccountPage(page: PageModel(title: "Your account", context: context), person: person, feedCreated: created, feedURL: nil)
            )
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
                return loginPage(
                    context,
                    error: "this login form has expired or did not come from Accord; log in again",
                    status: .forbidden,
                    handle: form["handle"]
                )
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
                return loginPage(
                    context,
                    error: error.message,
                    status: Problem(error).httpStatus == .serviceUnavailable ? .serviceUnavailable : .unauthorized,
                    handle: form["handle"]
                )
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
            return render(
                "inbox",
                InboxPage(
                    page: PageModel(title: "Inbox", context: context),
                    signOffs: inbox.signOffs.map(TaskLine.init),
                    tasks: inbox.tasks.map(TaskLine.init),
                    notices: inbox.notices,
                    signOffsMore: inbox.signOffsMore
                )
            )
        }
        pages.get("programs") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render(
                "programs",
                ProgramsPage(page: PageModel(title: "Programs", context: context), programs: try await store.programs(actor: person.handle))
            )
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
            return Response(
                status: .ok,
                headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: timelineSVG(detail: detail, tasks: tasks, today: CalendarDate.today())))
            )
        }
        pages.get("programs/:program/reports/:kind") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            let slug = try context.parameters.require("program")
            let name = try context.parameters.require("kind")
            let csv = name.hasSuffix(".csv")
            guard let kind = ReportKind(rawValue: csv ? String(name.dropLast(4)) : name) else {
                throw AccordError(.notFound, "no report '\(name)'; reports are \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let report = try await store.report(kind, program: slug, actor: person.handle)
            if csv {
                let text = report.tables[0].csv
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                        .contentDisposition: "attachment; filename=\"\(slug)-\(kind.rawValue).csv\"",
                    ],
                    body: .init(byteBuffer: ByteBuffer(string: text))
                )
            }
            return render("report", ReportPage(page: PageModel(title: "\(kind.title) · \(report.programTitle)", context: context), report: report))
        }
        pages.get("leadership") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render(
                "leadership",
                LeadershipPage(page: PageModel(title: "Leadership", context: context), report: try await store.leadership(actor: person.handle))
            )
        }
        pages.get("leadership/overdue.svg") { _, context in
            guard let person = context.person else { throw AccordError(.unauthenticated, "log in first") }
            let report = try await store.leadership(actor: person.handle)
            return Response(
                status: .ok,
                headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: barChartSVG(report.overdueByOwner.map { ($0.owner, $0.overdue) })))
            )
        }
        pages.get("audit") { _, context in
            guard let person = context.person else { return redirectToLogin() }
            return render(
                "audit",
                AuditPage(page: PageModel(title: "Audit", context: context), chains: try await store.chainStatuses(actor: person.handle))
            )
        }
        pages.get("tasks/:task") { request, context in
            guard let person = context.person else { return redirectToLogin() }
            let id = try context.parameters.require("task")
            guard Int64(id) != nil else { throw AccordError(.notFound, "no task '\(id)'") }
            let detail = try await store.task(id, actor: person.handle)
            let signable = try await store.canSignNow(id, actor: person.handle)
            var page = PageModel(title: detail.task.title, context: context)
            page.notice =
                request.uri.queryParameters["signed"].map { _ in "Your decision is recorded." }
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
                _ = try await store.sign(
                    id,
                    decision: decision,
                    meaning: form["meaning"].flatMap(SignatureMeaning.init(rawValue:)),
                    comment: form["comment"],
                    password: form["password"] ?? "",
                    actor: person.handle
                )
                return Response(status: .seeOther, headers: [.location: "/tasks/\(id)?signed=1"])
            } catch let error as AccordError {
                let detail = try await store.task(id, actor: person.handle)
                var page = PageModel(title: detail.task.title, context: context)
                page.error = error.message
                return render(
                    "task",
                    TaskPage(page: page, detail: detail, canSign: detail.task.state == .inReview),
                    status: Problem(error).httpStatus
                )
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
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    func redirectToLogin() -> Response { Response(status: .seeOther, headers: [.location: "/login"]) }

    /// The pre-session cookie of the login form (login CSRF).
    var loginCookie: String { tls ? "__Host-accord_login" : "accord_login" }

    /// The login form with a fresh pre-session token, in the page and in a cookie.
    func loginPage(_ context: AccordContext, error: String?, status: HTTPResponse.Status, handle: String? = nil) -> Response {
        let token = randomToken()
        var response = render(
            "login",
            LoginPage(page: PageModel(title: "Log in", context: context, error: error), handle: handle ?? "", loginToken: token),
            status: status
        )
        response.setCookie(Cookie(name: loginCookie, value: token, maxAge: 3600, path: "/", secure: tls, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The fields of an `application/x-www-form-urlencoded` body (64 KiB at most, or `limit`).
    func formFields(_ request: Request, upTo limit: Int = 64 << 10) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: limit)
        // Hummingbird's own decoder ('+' as space, percent escapes), not a parser of ours. A body it cannot
        // read (a field twice, brackets that make no map) is the form's fault, and said so on the page.
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: body))
        } catch {
            throw AccordError(.invalid, "this form could not be read; reload the page and try again")
        }
    }

    func requireCSRF(_ form: [String: String], _ context: AccordContext) throws {
        guard let session = context.session, let token = form["csrf_token"], constantTimeEquals(token, session.csrfToken) else {
            throw AccordError(.forbidden, "this form has expired or did not come from Accord; reload the page and try again")
        }
    }
}
