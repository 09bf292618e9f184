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
    }

    @Sendable func account(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let created = try await store.calendarFeedCreated(actor: person.handle)
        return renderer.render(
            "account",
            AccountPage(page: PageModel(title: "Your account", context: context), person: person, feedCreated: created, feedURL: nil)
        )
    }

    @Sendable func calendarFeed(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        var page = PageModel(title: "Your account", context: context)
        if form["action"] == "remove" {
            try await store.removeCalendarToken(actor: person.handle)
            page.notice = "Your calendar feed is off; its address no longer works."
            return renderer.render("account", AccountPage(page: page, person: person, feedCreated: nil, feedURL: nil))
        }
        let token = try await store.newCalendarToken(actor: person.handle)
        let host = request.head.authority ?? "127.0.0.1"
        let url = "\(renderer.tls ? "https" : "http")://\(host)/calendar/\(token).ics"
        page.notice = "A new calendar feed address; any earlier one stops working. It is shown once: copy it into your calendar now."
        return renderer.render("account", AccountPage(page: page, person: person, feedCreated: Date(), feedURL: url))
    }
}
