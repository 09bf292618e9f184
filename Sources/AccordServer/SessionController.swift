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
            // Any session the browser still carries ends: a login always starts a fresh one.
            if let old = request.cookies[sessionCookieName(tls: tls)] { try await store.logout(cookieToken: old.value) }
            let new = try await store.login(handle: body.handle, password: body.password, address: address)
            var response = try SessionInfo(person: new.session.person, csrfToken: new.session.csrfToken, expiresAt: new.expiresAt)
                .response(from: request, context: context)
            response.status = .created
            response.setCookie(sessionCookie(new.cookieToken, maxAge: Int(new.expiresAt.timeIntervalSinceNow)))
            return response
        }
        group.delete("session") { request, context in
            if let cookie = request.cookies[sessionCookieName(tls: tls)] { try await store.logout(cookieToken: cookie.value) }
            var response = Response(status: .noContent)
            response.setCookie(sessionCookie("", maxAge: 0))
            return response
        }
    }

    func sessionCookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: sessionCookieName(tls: tls), value: value, maxAge: maxAge, path: "/", secure: tls, httpOnly: true, sameSite: .strict)
    }
}

extension AccordContext {
    /// The peer's IP address, for login throttling.
    var remoteAddressText: String? { remoteAddress?.ipAddress }
}
