import AccordStore
import Hummingbird
import HummingbirdAuth

/// A refusal on a page is an HTML page with the right status, not a problem document.
struct PageErrorMiddleware: RouterMiddleware {
    let renderer: PageRenderer

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AccordError {
            let problem = Problem(error)
            return renderer.render(
                "error",
                ErrorPage(page: PageModel(title: problem.title, context: context), detail: error.message),
                status: problem.httpStatus
            )
        }
    }
}

/// The error page's model.
struct ErrorPage {
    var page: PageModel, detail: String
    init(page: PageModel, detail: String) {
        self.page = page
        self.detail = detail
    }
}

/// A page for someone logged in: anybody else is sent to the login page (as hummingbird-auth's
/// `IsAuthenticatedMiddleware` answers 401 for the API).
struct LoginRequiredMiddleware: RouterMiddleware {
    let renderer: PageRenderer

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { return renderer.redirectToLogin() }
        // Times on the pages of this request in the person's own time zone.
        return try await PageTime.$zone.withValue(identity.person.timeZone) { try await next(request, context) }
    }
}
