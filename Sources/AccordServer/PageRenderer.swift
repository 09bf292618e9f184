import AccordResources
import AccordStore
import Foundation
import Hummingbird
import Mustache

/// What every page controller shares: the compiled templates, the stylesheet, and the page-side helpers
/// (rendering, the login form, form decoding, the form CSRF check).
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let stylesheet: String
    let tls: Bool

    /// Compiles the templates compiled into the binary.
    init(tls: Bool) throws {
        self.tls = tls
        var library = MustacheLibrary()
        var stylesheet = ""
        for file in Resources.templates {
            if file.name.hasSuffix(".mustache") {
                try library.register(file.text, named: String(file.name.dropLast(".mustache".count)))
            } else if file.name == "accord.css" {
                stylesheet = file.text
            }
        }
        self.library = library
        self.stylesheet = stylesheet
    }

    /// A template rendered as an HTML response, never cached.
    func render(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(model, withTemplate: template) ?? "<!doctype html><title>Accord</title><p>Page missing.</p>"
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// To the login page.
    func redirectToLogin() -> Response { Response(status: .seeOther, headers: [.location: "/login"]) }

    /// The pre-session cookie of the login form (login CSRF).
    var loginCookie: String { tls ? "__Host-accord_login" : "accord_login" }

    /// The login form with a fresh pre-session token, in the page and in a cookie.
    func loginPage(
        _ context: AccordContext,
        error: String?,
        status: HTTPResponse.Status,
        handle: String? = nil,
        notice: String? = nil,
        providers: [SSOIssuer] = [],
        passwordsOff: Bool = false
    ) -> Response {
        let token = randomToken()
        var page = PageModel(title: "Log in", context: context, error: error)
        page.notice = notice
        let buttons = providers.map(ProviderButton.init)
        let model = LoginPage(
            page: page,
            handle: handle ?? "",
            loginToken: token,
            providers: buttons,
            hasProviders: !buttons.isEmpty,
            passwordsOff: passwordsOff
        )
        var response = render("login", model, status: status).withFormTargets(buttons.map(\.providerOrigin))
        response.setCookie(Cookie(name: loginCookie, value: token, maxAge: 3600, path: "/", secure: tls, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The fields of an `application/x-www-form-urlencoded` body (64 KiB at most, or `limit`).
    func formFields(_ request: Request, upTo limit: Int = 64 << 10) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: limit)
        // Hummingbird's own decoder ('+' as space, percent escapes), not a parser of ours. A body it cannot
        // read (a field twice, brackets that make no map) is the form's fault, and said so on the page.
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: body))
        } catch {
            throw AccordError(.invalid, "this form could not be read; reload the page and try again")
        }
    }

    /// The form's `csrf_token` must be the session's.
    func requireCSRF(_ form: [String: String], _ context: AccordContext) throws {
        try requireCSRF(form["csrf_token"], context)
    }

    /// The token a form sent must be the session's.
    func requireCSRF(_ token: String?, _ context: AccordContext) throws {
        guard let session = context.session, let token, constantTimeEquals(token, session.csrfToken) else {
            throw AccordError(.forbidden, "this form has expired or did not come from Accord; reload the page and try again")
        }
    }
}
