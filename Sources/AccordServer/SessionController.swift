import AccordStore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat

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
    /// The largest login body read (a handle and a password fit in far less).
    static let maxLoginBody = 16 << 10

    /// Logging in: open to anybody (it starts a session), relative to `/api/v1`.
    var loginEndpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).post("session", use: login)
    }

    /// Logging out: for an authenticated caller, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).delete("session", use: logout)
    }

    @Sendable func login(_ request: Request, context: AccordContext) async throws -> Response {
        // Login CSRF: a page elsewhere must not log a visitor in as the attacker. Browsers send Origin
        // (and Sec-Fetch-Site) with a cross-site POST, and no cross-site form can send application/json.
        try refuseCrossSite(request)
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw HTTPError(.unsupportedMediaType, message: "log in with a JSON body: Content-Type: application/json")
        }
        let raw = try await request.body.collect(upTo: SessionController.maxLoginBody)
        let body = try JSONDecoder().decode(LoginBody.self, from: Data(buffer: raw))
        // The socket's address, or the forwarded one behind a --trusted-proxy.
        let (new, cookie) = try await SessionCookies(store: store, tls: tls).begin(
            request,
            handle: body.handle,
            password: body.password,
            address: context.clientAddress
        )
        var response = try SessionInfo(person: new.session.person, csrfToken: new.session.csrfToken, expiresAt: new.expiresAt)
            .response(from: request, context: context)
        response.status = .created
        response.setCookie(cookie)
        return response
    }

    @Sendable func logout(_ request: Request, context: AccordContext) async throws -> Response {
        var response = Response(status: .noContent)
        response.setCookie(try await SessionCookies(store: store, tls: tls).end(request))
        return response
    }
}

/// Refuses a request a browser marks as coming from another site: an `Origin` that is not this host, or
/// `Sec-Fetch-Site: cross-site`. Clients that send neither (curl, other servers) pass: they carry no
/// victim's cookies.
func refuseCrossSite(_ request: Request) throws {
    if request.headers[.init("Sec-Fetch-Site")!]?.lowercased() == "cross-site" {
        throw AccordError(.forbidden, "this request came from another site; log in on Accord's own page")
    }
    guard let origin = request.headers[.origin] else { return }
    let host = request.head.authority
    // Host and port on both sides, a missing port being the scheme's default.
    guard let url = URL(string: origin), let originHost = url.host?.lowercased(), let host,
        let own = URL(string: "\(url.scheme ?? "http")://\(host)"),
        let ownHost = own.host?.lowercased()
    else {
        throw AccordError(.forbidden, "this request came from another site; log in on Accord's own page")
    }
    let defaultPort = url.scheme?.lowercased() == "https" ? 443 : 80
    guard originHost == ownHost, (url.port ?? defaultPort) == (own.port ?? defaultPort) else {
        throw AccordError(.forbidden, "this request came from another site (\(origin)); log in on Accord's own page")
    }
}
