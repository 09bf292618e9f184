import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The administrator's people pages: the list (filtered and paged in SQL, downloadable as CSV and
/// JSON), adding a person with a one-time password link, and a person's page to disable, enable or
/// reset their password. Anyone else gets 403 from the engine.
struct PeoplePages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("people", use: list)
            .post("people", use: add)
            .get("people/:handle", use: show)
            .post("people/:handle/disable", use: disable)
            .post("people/:handle/enable", use: enable)
            .post("people/:handle/password-link", use: passwordLink)
    }

    @Sendable func list(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .page)
        let filter = try PersonFilter(query: request.uri.queryParameters)
        let people = try await store.people(filter, paging: list.paging, actor: try context.actor)
        guard list.format == .page else { return try listDownload(people, name: "people", format: list.format) }
        return renderer.render("people", PeoplePage(page: PageModel(title: "People", context: context), people: people, filter: filter))
    }

    @Sendable func add(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            let (person, link) = try await store.invitePerson(
                handle: (form["handle"] ?? "").trimmingCharacters(in: .whitespaces),
                name: form["name"] ?? "",
                email: form["email"],
                admin: form["admin"] == "yes",
                actor: try context.actor
            )
            var page = PageModel(title: person.name, context: context)
            page.notice = "\(person.name) is added. Give them the link below to choose their password: it is shown this once."
            // Shown in this answer, not after a redirect: only the link's hash is kept.
            return renderer.render(
                "person",
                PersonPage(page: page, person: person, link: LinkShown(link, url: passwordLinkURL(link.token, request: request, tls: renderer.tls))),
                status: .created
            )
        } catch let error as AccordError where error.code != .forbidden {
            // The list again, first page, with the message and the form as it was sent.
            let people = try await store.people(PersonFilter(), paging: try Paging(), actor: try context.actor)
            var model = PeoplePage(page: PageModel(title: "People", context: context, error: error.message), people: people, filter: PersonFilter())
            model.mark(field: error.field, input: form)
            return renderer.render("people", model, status: Problem(error).httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try await store.person(try context.parameters.require("handle"), actor: try context.actor)
        var page = PageModel(title: person.name, context: context)
        let query = request.uri.queryParameters
        if query["disabled"] != nil { page.notice = "\(person.name) is disabled: their sessions ended and their API tokens were revoked." }
        if query["enabled"] != nil { page.notice = "\(person.name) is enabled again; they log in afresh (old sessions and tokens stay ended)." }
        return renderer.render("person", PersonPage(page: page, person: person))
    }

    @Sendable func disable(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "disabled") { try await store.disablePerson($0, actor: $1) }
    }

    @Sendable func enable(_ request: Request, context: AccordContext) async throws -> Response {
        try await act(request, context, done: "enabled") { try await store.enablePerson($0, actor: $1) }
    }

    @Sendable func passwordLink(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let handle = try context.parameters.require("handle")
        do {
            let link = try await store.resetPassword(handle, actor: try context.actor)
            let person = try await store.person(handle, actor: try context.actor)
            var page = PageModel(title: person.name, context: context)
            page.notice =
                "The password of \(person.name) is reset: the old one no longer works and their sessions ended. Give them the new link below; it is shown this once."
            return renderer.render(
                "person",
                PersonPage(page: page, person: person, link: LinkShown(link, url: passwordLinkURL(link.token, request: request, tls: renderer.tls)))
            )
        } catch let error as AccordError where error.code == .conflict {
            return try await refusal(error, handle: handle, context: context)
        }
    }

    /// Disables or enables, then back to the person's page (post/redirect/get); a refusal is the page with its message.
    private func act(
        _ request: Request,
        _ context: AccordContext,
        done: String,
        _ change: @Sendable (String, String) async throws -> Person
    ) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let handle = try context.parameters.require("handle")
        do {
            let person = try await change(handle, try context.actor)
            let path = "/people/\(person.handle.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? person.handle)"
            return Response(status: .seeOther, headers: [.location: "\(path)?\(done)=1"])
        } catch let error as AccordError where error.code == .conflict {
            return try await refusal(error, handle: handle, context: context)
        }
    }

    private func refusal(_ error: AccordError, handle: String, context: AccordContext) async throws -> Response {
        let person = try await store.person(handle, actor: try context.actor)
        let page = PageModel(title: person.name, context: context, error: error.message)
        return renderer.render("person", PersonPage(page: page, person: person), status: Problem(error).httpStatus)
    }
}

/// `/set-password/TOKEN`: open to anybody, since the link's token is the credential. The form while the
/// link works; a used or expired link is 410 and an unknown one 404, each with a page that says so.
struct PasswordLinkPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("set-password/:token", use: form)
            .post("set-password/:token", use: set)
    }

    @Sendable func form(_ request: Request, context: AccordContext) async throws -> Response {
        let token = try context.parameters.require("token")
        let state = try await store.passwordLink(token: token)
        return render(SetPasswordPage(page: PageModel(title: "Set a password", context: context), token: token, state: state), state: state)
    }

    @Sendable func set(_ request: Request, context: AccordContext) async throws -> Response {
        let token = try context.parameters.require("token")
        let form = try await renderer.formFields(request, upTo: SessionController.maxLoginBody)
        do {
            // No session to carry a CSRF token: the link's token is the secret, and another site's form is refused.
            try refuseCrossSite(request)
            let password = form["password"] ?? ""
            if case .live = try await store.passwordLink(token: token), password != (form["password_confirmation"] ?? "") {
                throw AccordError(.invalid, "the two passwords differ; type the same one twice", field: "password_confirmation")
            }
            _ = try await store.setPassword(linkToken: token, password: password)
            return Response(status: .seeOther, headers: [.location: "/login?password-set=1"])
        } catch let error as AccordError {
            let state = try await store.passwordLink(token: token)
            guard case .live = state else {
                // Used, replaced or expired meanwhile: the page that says so, not the form.
                return render(SetPasswordPage(page: PageModel(title: "Set a password", context: context), token: token, state: state), state: state)
            }
            var model = SetPasswordPage(page: PageModel(title: "Set a password", context: context, error: error.message), token: token, state: state)
            model.passwordInvalid = error.field == "password"
            model.confirmationInvalid = error.field == "password_confirmation"
            return renderer.render("set-password", model, status: Problem(error).httpStatus)
        }
    }

    private func render(_ model: SetPasswordPage, state: PasswordLinkState) -> Response {
        let status: HTTPResponse.Status =
            switch state {
            case .live: .ok
            case .used, .expired: .gone
            case .unknown: .notFound
            }
        return renderer.render("set-password", model, status: status)
    }
}
