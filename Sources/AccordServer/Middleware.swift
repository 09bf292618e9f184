public import AccordCore
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import Postgres

/// Headers on every response: a strict Content-Security-Policy, no sniffing, no framing, no referrer
/// leaks; HSTS when served over TLS (or behind a TLS proxy); `no-store` on the API.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let tls: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // A page whose forms lead to an identity provider set its own, naming the provider (see `withFormTargets`).
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = contentSecurityPolicy() }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "same-origin"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        if tls { response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        // API answers carry personal data and signatures, problems included: no cache or history keeps them.
        if request.uri.path.hasPrefix("/api/v1/") { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// The Content-Security-Policy of every response. `form-action` also governs where a form's answer may
/// redirect, so a page with a form that leads to an identity provider names the provider's origin.
func contentSecurityPolicy(formTargets: [String] = []) -> String {
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        + formTargets.map { " " + $0 }.joined()
}

extension Response {
    /// This page's forms may lead to these origins (identity providers), besides the site itself.
    func withFormTargets(_ origins: [String]) -> Response {
        guard !origins.isEmpty else { return self }
        var response = self
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy(formTargets: origins)
        return response
    }
}

/// The client's address for throttling: the peer's, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the left-most entries
/// are whatever the client wrote, so they are never believed).
struct ClientAddressMiddleware: RouterMiddleware {
    let trustedProxies: [IPNetwork]

    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = clientAddress(
            peer: context.remoteAddress?.ipAddress,
            forwardedFor: request.headers[values: .init("X-Forwarded-For")!],
            trustedProxies: trustedProxies
        )
        return try await next(request, context)
    }
}

/// The client's address: `peer`, unless it is one of `trustedProxies`; then the right-most
/// `X-Forwarded-For` hop that is not a trusted proxy (a malformed hop ends the walk at the last trusted one).
public func clientAddress(peer: String?, forwardedFor: [String], trustedProxies trusted: [IPNetwork]) -> String? {
    func isTrusted(_ text: String) -> Bool { IPAddress(text).map { address in trusted.contains { $0.contains(address) } } ?? false }
    guard let peer, isTrusted(peer) else { return peer }
    let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    var last = peer
    for hop in hops.reversed() {
        guard let address = IPAddress(hop) else { return last }
        if !isTrusted(hop) { return address.description }
        last = address.description
    }
    return last
}

/// The browser session cookie, for pages and the API alike: `__Host-` bound to the origin when served over TLS.
struct SessionCookies {
    let store: Store
    let tls: Bool

    var name: String { tls ? "__Host-accord_session" : "accord_session" }

    /// The live session the request's cookie names, if any.
    func current(_ request: Request) async throws -> WebSession? {
        guard let cookie = request.cookies[name] else { return nil }
        return try await store.session(cookieToken: cookie.value)
    }

    /// Logs in, ending any session the browser still carries: a login always starts a fresh one.
    func begin(_ request: Request, handle: String, password: String, address: String?) async throws -> (NewWebSession, Cookie) {
        if let old = request.cookies[name] { try await store.logout(cookieToken: old.value) }
        let new = try await store.login(handle: handle, password: password, address: address)
        return (new, cookie(new.cookieToken, maxAge: Int(new.expiresAt.timeIntervalSinceNow)))
    }

    /// Ends the request's session server-side; returns the cookie that clears it in the browser.
    func end(_ request: Request) async throws -> Cookie {
        if let old = request.cookies[name] { try await store.logout(cookieToken: old.value) }
        return cookie("", maxAge: 0)
    }

    func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: tls, httpOnly: true, sameSite: .strict)
    }
}

/// Refuses a read-only token every method but GET and HEAD (403), before any handler runs.
struct ReadOnlyTokenMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        if context.identity?.readOnly == true, request.method != .get, request.method != .head {
            throw AccordError(.forbidden, "this token is read-only: it reads, and changes nothing; use a read-write token to act")
        }
        return try await next(request, context)
    }
}

/// Recognises a bearer token (`Authorization: Bearer TOKEN`, API clients and scripts). A request with an
/// Authorization header that is not a valid token is refused at once (401), never passed on as anonymous.
struct BearerTokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = AccordContext
    let store: Store

    func authenticate(request: Request, context: AccordContext) async throws -> Caller? {
        guard let header = request.headers[.authorization] else { return nil }
        // hummingbird-auth's `bearer` matches "Bearer " exactly; RFC 9110 makes the scheme case-insensitive.
        let token: String
        if let bearer = request.headers.bearer {
            token = bearer.token
        } else if header.lowercased().hasPrefix("bearer ") {
            token = String(header.dropFirst(7))
        } else {
            throw AccordError(.unauthenticated, "the Authorization header must be 'Bearer TOKEN'")
        }
        guard let holder = try await store.bearer(token.trimmingCharacters(in: .whitespaces)) else {
            throw AccordError(.unauthenticated, "the bearer token is unknown, revoked or expired")
        }
        return Caller(person: holder.person, session: nil, readOnly: holder.readOnly)
    }
}

/// Recognises a browser by its session cookie, when no authenticator before it did.
struct SessionCookieAuthenticator: AuthenticatorMiddleware {
    typealias Context = AccordContext
    let cookies: SessionCookies

    func authenticate(request: Request, context: AccordContext) async throws -> Caller? {
        guard context.identity == nil, let session = try await cookies.current(request) else { return context.identity }
        return Caller(person: session.person, session: session)
    }
}

/// A cookie-authenticated API request that changes state must carry the session's CSRF token in the
/// `X-CSRF-Token` header (a bearer token is not sent by browsers on their own, so it needs none).
struct APICSRFMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AccordContext, next: (Request, AccordContext) async throws -> Response) async throws -> Response {
        if let session = context.session, ![.get, .head, .options].contains(request.method) {
            guard let sent = request.headers[.init("X-CSRF-Token")!], constantTimeEquals(sent, session.csrfToken) else {
                throw AccordError(.forbidden, "this request needs the session's CSRF token in the X-CSRF-Token header")
            }
        }
        return try await next(request, context)
    }
}

/// Turns errors into `application/problem+json` with the right status; anything unexpected is a logged
/// 500 that names the request id and nothing else.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AccordError {
            var response = Problem(error).response()
            if error.code == .unavailable { response.headers[.retryAfter] = "5" }
            return response
        } catch let error as PostgresError where error.isServerUnavailable || error.code == .poolTimeout || error.code == .poolClosed {
            context.logger.warning("database unavailable: \(error)")
            // A failover or a restart takes seconds: say when to come back (RFC 9110 §10.2.3).
            var response = Problem(
                type: "/problems/database-unavailable",
                title: "Database unavailable",
                status: .serviceUnavailable,
                // Lost at COMMIT (a failover, a crash): the change may have been made, so do not say it was not.
                detail: error.outcomeUnknown
                    ? "The connection to the database was lost while the change was being committed; it may or may not have been made. Retry with the same Idempotency-Key to get its answer, or look before repeating it."
                    : "The database is unavailable or cannot take changes now (stopped, read-only or full); nothing was changed. Try again shortly."
            ).response()
            response.headers[.retryAfter] = "2"
            return response
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
            // A data exception (a NUL byte, a value out of range): the input, not the server.
            return Problem(
                type: "/problems/invalid",
                title: "Invalid input",
                status: .unprocessableContent,
                detail: "A value in the request cannot be stored: \(error.message)."
            ).response()
        } catch let error as HTTPError where error.status == .unauthorized {
            // hummingbird-auth's IsAuthenticatedMiddleware: nobody authenticated.
            return Problem(AccordError(.unauthenticated, "log in, or send 'Authorization: Bearer TOKEN'")).response()
        } catch let error as HTTPError {
            return Problem(type: "/problems/\(error.status.code)", title: error.status.reasonPhrase, status: error.status, detail: error.body)
                .response()
        } catch let error as NIOTooManyBytesError {
            return Problem(
                type: "/problems/too-large",
                title: "Content too large",
                status: .contentTooLarge,
                detail: "The request body is larger than this endpoint accepts (\(error.maxBytes.map { "\($0) bytes" } ?? "its limit"))."
            ).response()
        } catch is DecodingError {
            return Problem(
                type: "/problems/malformed-request",
                title: "Malformed request",
                status: .badRequest,
                detail: "The request body is not the JSON this endpoint expects."
            ).response()
        } catch {
            context.logger.error("unexpected error: \(String(reflecting: error))")
            return Problem(
                type: "/problems/internal",
                title: "Internal error",
                status: .internalServerError,
                detail: "Something failed on our side (request \(context.id)); nothing was changed by it."
            ).response()
        }
    }
}

extension Problem {
    /// The problem for an engine refusal.
    init(_ error: AccordError) {
        let (status, title): (HTTPResponse.Status, String) =
            switch error.code {
            case .notFound: (.notFound, "Not found")
            case .forbidden, .locked: (.forbidden, "Forbidden")
            case .conflict: (.conflict, "Not allowed in the current state")
            case .unauthenticated: (.unauthorized, "Authentication required")
            case .unavailable: (.serviceUnavailable, "Busy")
            default: (.unprocessableContent, "Invalid input")
            }
        self.init(type: "/problems/\(error.code)", title: title, status: status, detail: error.message, field: error.field)
    }
}
