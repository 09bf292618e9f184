import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The person's own account page: their calendar feed, API tokens, password and sessions.
struct AccountPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("account", use: account)
            .post("account/calendar", use: calendarFeed)
            .post("account/tokens", use: createToken)
            .post("account/tokens/:token/revoke", use: revokeToken)
            .post("account/password", use: changePassword)
            .post("account/sessions/:session/end", use: endSession)
    }

    @Sendable func account(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        var page = PageModel(title: "Your account", context: context)
        let query = request.uri.queryParameters
        if query["revoked"] != nil { page.notice = "The token is revoked; clients using it are refused from now on." }
        if query["password"] != nil { page.notice = "Your password is changed. Your other sessions ended; this one stays." }
        if query["ended"] != nil { page.notice = "The session is ended; that browser must log in again." }
        return try await render(page, person: person, request: request)
    }

    /// The account page with the person's feed and tokens.
    private func render(
        _ page: PageModel,
        person: Person,
        request: Request,
        feedURL: String? = nil,
        status: HTTPResponse.Status = .ok,
        adjust: (inout AccountPage) -> Void = { _ in }
    ) async throws -> Response {
        let created = try await store.calendarFeedCreated(actor: person.handle)
        var model = AccountPage(
            page: page,
            person: person,
            feedCreated: created,
            feedURL: feedURL,
            tokens: try await store.tokens(actor: person.handle, ownOnly: true)
        )
        model.sessions = try await store.ownSessions(actor: person.handle, currentCookie: sessionCookie(request)).map(SessionLine.init)
        model.hasSessions = !model.sessions.isEmpty
        adjust(&model)
        return renderer.render("account", model, status: status)
    }

    @Sendable func createToken(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        var page = PageModel(title: "Your account", context: context)
        do {
            let expiresText = (form["expires"] ?? "").trimmingCharacters(in: .whitespaces)
            var expires: CalendarDate?
            if !expiresText.isEmpty {
                guard let date = CalendarDate(expiresText) else {
                    throw AccordError(.invalid, "the expiry date must be a date, YYYY-MM-DD", field: "expires")
                }
                expires = date
            }
            let (_, token) = try await store.createToken(
                for: person.handle,
                name: form["name"] ?? "",
                expires: expires,
                actor: person.handle,
                proof: .password(form["password"] ?? ""),
                readOnly: form["read_only"] == "on"
            )
            page.notice = "A new API token. It is shown this once: copy it into your client now; Accord keeps only its hash."
            // Shown in this answer, not after a redirect: the token exists nowhere else to show it from.
            return try await render(page, person: person, request: request) { $0.newToken = token }
        } catch let error as AccordError {
            page.error = error.message
            return try await render(page, person: person, request: request, status: Problem(error).httpStatus) {
                $0.markTokenForm(field: error.field, code: error.code, input: form)
            }
        }
    }

    @Sendable func revokeToken(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        guard let id = Int64(try context.parameters.require("token")) else { throw AccordError(.notFound, "no such token") }
        // Only one's own, here (an administrator revokes others' with the CLI or the API).
        try await store.revokeToken(id, actor: person.handle, ownOnly: true)
        return Response(status: .seeOther, headers: [.location: "/account?revoked=1"])
    }

    @Sendable func calendarFeed(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        var page = PageModel(title: "Your account", context: context)
        if form["action"] == "remove" {
            try await store.removeCalendarToken(actor: person.handle)
            page.notice = "Your calendar feed is off; its address no longer works."
            return try await render(page, person: person, request: request)
        }
        let token = try await store.newCalendarToken(actor: person.handle)
        let host = request.head.authority ?? "127.0.0.1"
        let url = "\(renderer.tls ? "https" : "http")://\(host)/calendar/\(token).ics"
        page.notice = "A new calendar feed address; any earlier one stops working. It is shown once: copy it into your calendar now."
        return try await render(page, person: person, request: request, feedURL: url)
    }

    @Sendable func changePassword(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            let new = form["new_password"] ?? ""
            guard new == (form["new_password_confirmation"] ?? "") else {
                throw AccordError(.invalid, "the two new passwords differ; type the same one twice", field: "new_password_confirmation")
            }
            try await store.changePassword(
                actor: person.handle,
                current: form["current_password"] ?? "",
                new: new,
                keepingCookie: sessionCookie(request)
            )
            return Response(status: .seeOther, headers: [.location: "/account?password=1"])
        } catch let error as AccordError {
            let page = PageModel(title: "Your account", context: context, error: error.message)
            return try await render(page, person: person, request: request, status: Problem(error).httpStatus) {
                $0.currentInvalid = error.field == nil && [.unauthenticated, .locked].contains(error.code)
                $0.newPasswordInvalid = error.field == "new_password"
                $0.confirmationInvalid = error.field == "new_password_confirmation"
            }
        }
    }

    @Sendable func endSession(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        guard let id = Int64(try context.parameters.require("session")) else { throw AccordError(.notFound, "no such session") }
        let current = try await store.ownSessions(actor: person.handle, currentCookie: sessionCookie(request)).first { $0.current }
        try await store.endOwnSession(id, actor: person.handle)
        guard current?.id == id else { return Response(status: .seeOther, headers: [.location: "/account?ended=1"]) }
        // This very session: the browser logs in again.
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        response.setCookie(try await SessionCookies(store: store, tls: renderer.tls).end(request))
        return response
    }

    /// The session cookie the request came with.
    private func sessionCookie(_ request: Request) -> String? {
        request.cookies[SessionCookies(store: store, tls: renderer.tls).name]?.value
    }
}
