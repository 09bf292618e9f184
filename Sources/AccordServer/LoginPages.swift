import AccordSSO
import AccordStore
import Hummingbird
import HummingbirdAuth

/// Logging in and out in the browser, and the root redirect: open to anybody.
struct LoginPages {
    let store: Store
    let renderer: PageRenderer
    /// Single sign-on, for the provider's logout after Accord's.
    var sso: SingleSignOn?

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("/", use: root)
            .get("login", use: form)
            .post("login", use: login)
            .post("logout", use: logout)
    }

    @Sendable func root(_ request: Request, context: AccordContext) async throws -> Response {
        Response(status: .seeOther, headers: [.location: "/inbox"])
    }

    @Sendable func form(_ request: Request, context: AccordContext) async throws -> Response {
        if context.identity != nil { return Response(status: .seeOther, headers: [.location: "/inbox"]) }
        let set = request.uri.queryParameters["password-set"] != nil
        return await page(context, error: nil, status: .ok, notice: set ? "Your password is set. Log in with it." : nil)
    }

    /// The login page, with the identity providers to log in with.
    func page(_ context: AccordContext, error: String?, status: HTTPResponse.Status, handle: String? = nil, notice: String? = nil) async -> Response {
        // The providers are read each time; the page still shows (without them) if the database is away.
        let providers = (try? await store.ssoIssuers()) ?? []
        let passwordsOff = !((try? await store.ssoSettings().localPasswords) ?? true)
        return renderer.loginPage(
            context,
            error: error,
            status: status,
            handle: handle,
            notice: notice,
            providers: providers,
            passwordsOff: passwordsOff
        )
    }

    @Sendable func login(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request, upTo: SessionController.maxLoginBody)
        // Login CSRF: the form's token must match the pre-session cookie set with the form (SameSite,
        // so another site's form cannot carry it), and a browser's Origin must be this site.
        guard let sent = form["login_token"], let cookie = request.cookies[renderer.loginCookie]?.value, constantTimeEquals(sent, cookie)
        else {
            return await page(
                context,
                error: "this login form has expired or did not come from Accord; log in again",
                status: .forbidden,
                handle: form["handle"]
            )
        }
        do {
            try refuseCrossSite(request)
        } catch let error as AccordError {
            return await page(context, error: error.message, status: .forbidden, handle: form["handle"])
        }
        do {
            let (_, cookie) = try await SessionCookies(store: store, tls: renderer.tls)
                .begin(request, handle: form["handle"] ?? "", password: form["password"] ?? "", address: context.clientAddress)
            var response = Response(status: .seeOther, headers: [.location: "/inbox"])
            response.setCookie(cookie)
            return response
        } catch let error as AccordError {
            return await page(
                context,
                error: error.message,
                status: Problem(error).httpStatus == .serviceUnavailable ? .serviceUnavailable : .unauthorized,
                handle: form["handle"]
            )
        }
    }

    @Sendable func logout(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let cookies = SessionCookies(store: store, tls: renderer.tls)
        // A session opened through a provider that offers RP-initiated logout ends there too.
        var provider: String?
        if let sso, let token = request.cookies[cookies.name]?.value, let issuer = try await store.ssoIssuer(ofSession: token) {
            provider = await sso.client.logoutURL(issuer, returnTo: sso.base(request) + "/login")
        }
        var response: Response
        if let provider {
            // A page that goes on to the provider: a form's redirect to another origin is blocked by
            // CSP form-action, a navigation from a page is not.
            var page = PageModel(title: "Logged out", context: context)
            page.person = nil
            page.refreshTo = provider
            response = renderer.render(
                "continue",
                ContinuePage(page: page, message: "You are logged out of Accord; now logging out at your identity provider.", target: provider)
            )
        } else {
            response = Response(status: .seeOther, headers: [.location: "/login"])
        }
        response.setCookie(try await cookies.end(request))
        return response
    }
}
