import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The person's own account page: their calendar feed.
struct AccountPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("account", use: account)
            .post("account/calendar", use: calendarFeed)
            .post("account/tokens", use: createToken)
            .post("account/tokens/:token/revoke", use: revokeToken)
    }

    @Sendable func account(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        var page = PageModel(title: "Your account", context: context)
        if request.uri.queryParameters["revoked"] != nil { page.notice = "The token is revoked; clients using it are refused from now on." }
        return try await render(page, person: person)
    }

    /// The account page with the person's feed and tokens.
    private func render(
        _ page: PageModel,
        person: Person,
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
                proof: .password(form["password"] ?? "")
            )
            page.notice = "A new API token. It is shown this once: copy it into your client now; Accord keeps only its hash."
            // Shown in this answer, not after a redirect: the token exists nowhere else to show it from.
            return try await render(page, person: person) { $0.newToken = token }
        } catch let error as AccordError {
            page.error = error.message
            return try await render(page, person: person, status: Problem(error).httpStatus) {
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
            return try await render(page, person: person)
        }
        let token = try await store.newCalendarToken(actor: person.handle)
        let host = request.head.authority ?? "127.0.0.1"
        let url = "\(renderer.tls ? "https" : "http")://\(host)/calendar/\(token).ics"
        page.notice = "A new calendar feed address; any earlier one stops working. It is shown once: copy it into your calendar now."
        return try await render(page, person: person, feedURL: url)
    }
}
