import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `/account/away`: "I am away from DATE to DATE, my deputy for ROLE is PERSON", one row per role held.
/// Each deputy named becomes a delegation through the engine (`Store.delegate`, with its rules); the
/// delegations show here on both sides, the giver's with a revoke button.
struct AwayPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("account/away", use: away)
            .post("account/away", use: setDeputies)
            .post("account/away/:delegation/revoke", use: revoke)
    }

    /// What the page says after each action.
    static let notices = [
        "saved": "Your deputies are set: they see your sign-offs in their inbox until your last day away.",
        "revoked": "The delegation is revoked; your deputy can no longer sign for you.",
    ]

    @Sendable func away(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Out of office", context: context)
        let query = request.uri.queryParameters
        page.notice = Self.notices.first { query[$0.key[...]] != nil }?.value
        let model = AwayPage(page: page, overview: try await store.away(actor: try context.actor), today: .today())
        return renderer.render("away", model)
    }

    @Sendable func setDeputies(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let overview = try await store.away(actor: actor)
        var rowErrors: [Int: String] = [:]
        var failure: AccordError?
        do {
            let (starting, until) = try Self.dates(form)
            let named = overview.held.enumerated().compactMap { index, held -> (Int, AwayOverview.HeldRole, String)? in
                let deputy = (form["deputy_\(index)"] ?? "").trimmingCharacters(in: .whitespaces)
                // The row's program and role as the form showed them: a role bound meanwhile is not delegated unseen.
                guard !deputy.isEmpty, form["program_\(index)"] == held.program, form["role_\(index)"] == held.role else { return nil }
                return (index, held, deputy)
            }
            guard !named.isEmpty else {
                throw AccordError(.invalid, "name a deputy for at least one of your roles", field: overview.held.isEmpty ? nil : "deputy_0")
            }
            for (index, held, deputy) in named {
                do {
                    _ = try await store.delegate(
                        program: held.program,
                        role: held.role,
                        from: actor,
                        to: deputy,
                        until: until,
                        starting: starting,
                        reason: form["reason"] ?? "",
                        actor: actor
                    )
                } catch let error as AccordError where error.field == nil || error.field == "to" {
                    // About this deputy: the other rows are still tried, and this one is marked.
                    rowErrors[index] = error.message
                    failure = failure ?? AccordError(error.code, "\(held.role) in \(held.program): \(error.message)", field: "deputy_\(index)")
                }
            }
        } catch let error as AccordError {
            failure = error
            if let field = error.field, field.hasPrefix("deputy_"), let index = Int(field.dropFirst(7)) { rowErrors[index] = error.message }
        }
        guard let failure else { return Response(status: .seeOther, headers: [.location: "/account/away?saved=1"]) }
        var page = PageModel(title: "Out of office", context: context)
        page.error = rowErrors.count > 1 ? "\(rowErrors.count) deputies were refused; the roles marked below are not delegated." : failure.message
        // Those set meanwhile show as given; the refused rows keep what was typed.
        var model = AwayPage(page: page, overview: try await store.away(actor: actor), today: .today())
        model.keep(input: form, field: failure.field, rowErrors: rowErrors)
        return renderer.render("away", model, status: Problem(failure).httpStatus)
    }

    /// The first day away (today when empty) and the last.
    private static func dates(_ form: [String: String]) throws -> (CalendarDate?, CalendarDate) {
        let fromText = (form["from"] ?? "").trimmingCharacters(in: .whitespaces)
        var from: CalendarDate?
        if !fromText.isEmpty {
            guard let date = CalendarDate(fromText) else { throw AccordError(.invalid, "the first day must be a date, YYYY-MM-DD", field: "from") }
            from = date
        }
        guard let until = CalendarDate((form["until"] ?? "").trimmingCharacters(in: .whitespaces)) else {
            throw AccordError(.invalid, "the last day away must be a date, YYYY-MM-DD", field: "until")
        }
        return (from, until)
    }

    @Sendable func revoke(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        guard let id = Int64(try context.parameters.require("delegation")) else { throw AccordError(.notFound, "no such delegation") }
        _ = try await store.revokeDelegation(id, actor: try context.actor)
        return Response(status: .seeOther, headers: [.location: "/account/away?revoked=1"])
    }
}
