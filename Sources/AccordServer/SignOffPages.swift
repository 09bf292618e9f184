import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `/signoffs`: everything the signer or top management may sign now, past the inbox's hundred, filtered by
/// program, overdue and the role they would sign in; each row links to the task page, where signing is.
struct SignOffPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).get("signoffs", use: signOffs)
    }

    @Sendable func signOffs(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let list = try ListRequest(request, defaultFormat: .page)
        let filter = try SignOffFilter(query: request.uri.queryParameters)
        let paged = try await store.signOffs(filter, paging: list.paging, actor: actor)
        if list.format != .page { return try listDownload(paged, name: "signoffs", format: list.format) }
        let model = SignOffsPage(
            page: PageModel(title: "Sign-offs", context: context),
            paged: paged,
            filter: filter,
            signing: try await store.signingRoles(actor: actor)
        )
        return renderer.render("signoffs", model)
    }
}
