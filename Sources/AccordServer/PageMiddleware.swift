import AccordCore
import AccordResources
import AccordStore
import Foundation
import Hummingbird
import Mustache

/// A refusal on a page is an HTML page with the right status, not a problem document.
struct PageErrorMiddleware: RouterMiddleware {
    let pages: PagesController

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AccordError {
            let problem = Problem(error)
            return pages.render(
                "error",
                ErrorPage(page: PageModel(title: problem.title, context: context), detail: error.message),
                status: problem.httpStatus
            )
        }
    }
}

struct ErrorPage {
    var page: PageModel, detail: String
    init(page: PageModel, detail: String) {
        self.page = page
        self.detail = detail
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
