import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The web front: server-rendered pages that work without JavaScript. Pages authenticate with the
/// session cookie only (never a bearer token); every form carries the session's CSRF token; nothing
/// changes on GET. This composes the page controllers, each a route collection with a method per page.
struct PagesController {
    let store: Store
    let renderer: PageRenderer
    let mailRelay: String?
    let sso: SingleSignOn

    init(store: Store, tls: Bool, mailRelay: String? = nil, sso: SingleSignOn) throws {
        self.store = store
        self.renderer = try PageRenderer(tls: tls)
        self.mailRelay = mailRelay
        self.sso = sso
    }

    /// Adds the stylesheet, the calendar feed, and the pages (open ones, then those behind a login).
    func addRoutes(to router: Router<AccordContext>) {
        router.addRoutes(StaticController(stylesheet: renderer.stylesheet).endpoints)
        router.addRoutes(CalendarController(store: store).endpoints)
        let pages = router.group()
            .add(middleware: SessionCookieAuthenticator(cookies: SessionCookies(store: store, tls: renderer.tls)))
            .add(middleware: PageErrorMiddleware(renderer: renderer))
        pages.addRoutes(LoginPages(store: store, renderer: renderer, sso: sso).endpoints)
        let signOn = SSOPages(store: store, renderer: renderer, sso: sso)
        pages.addRoutes(signOn.endpoints)
        pages.addRoutes(PasswordLinkPages(store: store, renderer: renderer).endpoints)
        let signedIn = pages.group().add(middleware: LoginRequiredMiddleware(renderer: renderer))
        signedIn.addRoutes(AccountPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(RoadmapPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(TaskPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(signOn.signedInEndpoints)
        signedIn.addRoutes(PeoplePages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(
            WorkflowPages(store: store, renderer: renderer).endpoints.addRoutes(ProgramSetupPages(store: store, renderer: renderer).endpoints)
        )
        signedIn.addRoutes(WorkPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(SignOffPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(AwayPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(NotificationPages(store: store, renderer: renderer, mailRelay: mailRelay).endpoints)
        signedIn.addRoutes(CyclePages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(FindingPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(IncidentPages(store: store, renderer: renderer).endpoints)
        signedIn.addRoutes(ClassificationPages(store: store, renderer: renderer).endpoints)
    }
}

/// `/static/accord.css`, compiled into the binary.
struct StaticController {
    let stylesheet: String

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).get("static/accord.css", use: css)
    }

    @Sendable func css(_ request: Request, context: AccordContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: stylesheet))
        )
    }
}

/// The calendar feed: a calendar application has no session; the secret token in the path is the credential.
struct CalendarController {
    let store: Store

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).get("calendar/:file", use: feed)
    }

    @Sendable func feed(_ request: Request, context: AccordContext) async throws -> Response {
        let file = try context.parameters.require("file")
        guard file.hasSuffix(".ics"), let feed = try await store.calendar(token: String(file.dropLast(4))) else {
            throw AccordError(.notFound, "no such calendar; create a feed on your account page")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: iCalendar(feed, now: Date())))
        )
    }
}
