import AccordStore
import Foundation
import Hummingbird

struct LoginBody: Decodable {
    var handle: String
    var password: String
}

struct SessionInfo: ResponseEncodable, Sendable {
    var person: Person
    /// Send it back as `X-CSRF-Token` on every state-changing request made with the session cookie.
    var csrfToken: String
    var expiresAt: Date
}

/// `POST /api/v1/session` logs in (a new session id every time) and `DELETE` logs out, server-side.
struct SessionController {
    let store: Store
    let tls: Bool

    func addRoutes(to group: RouterGroup<AccordContext>) {
        group.post("session") { request, context in
            let body = try await request.decode(as: LoginBody.self, context: context)
            // The socket's address: X-Forwarded-For is not trusted until there is a trusted-proxy setting.
            let address = context.remoteAddressText
            let (new, cookie) = try await SessionCookies(store: store, tls: tls).begin(request, handle: body.handle, password: body.password, address: address)
            var response = try SessionInfo(person: new.session.person, csrfToken: new.session.csrfToken, expiresAt: new.expiresAt)
                .response(from: request, context: context)
            response.status = .created
            response.setCookie(cookie)
            return response
        }
        group.delete("session") { request, context in
            var response = Response(status: .noContent)
            response.setCookie(try await SessionCookies(store: store, tls: tls).end(request))
            return response
        }
    }
}

extension AccordContext {
    /// The peer's IP address, for login throttling.
    var remoteAddressText: String? { remoteAddress?.ipAddress }
}
