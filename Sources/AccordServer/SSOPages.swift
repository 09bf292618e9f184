import AccordCore
import AccordSSO
import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// Logging in through an OpenID provider, and signing with a fresh authentication at it: the request
/// sent, and the provider's answer (`/sso/callback`), which may land on any instance.
struct SSOPages {
    let store: Store
    let renderer: PageRenderer
    let sso: SingleSignOn

    /// Open to anybody: starting a login and the provider's answer.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .post("login/sso", use: startLogin)
            .get("sso/callback", use: callback)
    }

    /// For a logged-in signer: sending them to the provider to sign.
    var signedInEndpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).post("tasks/:task/sign-sso", use: startSigning)
    }

    @Sendable func startLogin(_ request: Request, context: AccordContext) async throws -> Response {
        let form = try await renderer.formFields(request, upTo: SessionController.maxLoginBody)
        let pages = LoginPages(store: store, renderer: renderer)
        // The same login CSRF defence as the password form: the pre-session cookie and this site's Origin.
        guard let sent = form["login_token"], let cookie = request.cookies[renderer.loginCookie]?.value, constantTimeEquals(sent, cookie)
        else {
            return await pages.page(context, error: "this login form has expired or did not come from Accord; log in again", status: .forbidden)
        }
        do {
            try refuseCrossSite(request)
            guard let issuer = form["issuer"].flatMap(Int64.init) else { throw AccordError(.invalid, "choose an identity provider") }
            let started = try await sso.start(request, issuer: issuer, purpose: .login)
            var response = Response(status: .seeOther, headers: [.location: started.url])
            if let cookie = started.cookie { response.setCookie(cookie) }
            return response
        } catch let error as AccordError {
            return await pages.page(context, error: error.message, status: Problem(error).httpStatus)
        }
    }

    @Sendable func startSigning(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let id = try context.parameters.require("task")
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let intent = SigningIntent(
            task: id,
            decision: form["decision"].flatMap(SigningDecision.init(rawValue:)) ?? .approve,
            meaning: form["meaning"].flatMap(SignatureMeaning.init(rawValue:)),
            // Trimmed, and a blank one dropped, where signing reads it (Store.sign).
            comment: form["comment"]
        )
        do {
            guard let issuer = form["issuer"].flatMap(Int64.init) else { throw AccordError(.invalid, "choose the identity provider to sign with") }
            // The decision is checked now, so a signer does not log in again only to be told it cannot be signed.
            guard try await store.canSignNow(id, actor: actor) else {
                throw AccordError(.conflict, "this task is not waiting for your signature")
            }
            let started = try await sso.start(request, issuer: issuer, purpose: .sign(intent), actor: actor)
            var response = Response(status: .seeOther, headers: [.location: started.url])
            if let cookie = started.cookie { response.setCookie(cookie) }
            return response
        } catch let error as AccordError {
            return try await TaskPages(store: store, renderer: renderer).refused(error, task: id, actor: actor, context: context, input: form) {
                $0.task.state == .inReview
            }
        }
    }

    /// The provider's answer: the request taken once (same browser), the code exchanged, the ID token
    /// checked; then a session, or the signature. The page that follows is reached by a same-site
    /// navigation, so the `SameSite=Strict` session cookie goes with it.
    @Sendable func callback(_ request: Request, context: AccordContext) async throws -> Response {
        let query = request.uri.queryParameters
        let browser = request.cookies[sso.browserCookie]?.value
        let pages = LoginPages(store: store, renderer: renderer)
        guard let state = query["state"].map(String.init) else {
            return await pages.page(context, error: "the identity provider's answer has no state; start again", status: .badRequest)
        }
        let pending: SSOPendingRequest
        do {
            pending = try await store.takeSSORequest(state: state, browser: browser)
        } catch let error as AccordError {
            return await pages.page(context, error: error.message, status: .unauthorized)
        }
        let outcome: Result<SSOAuthentication, AccordError>
        if let refusal = query["error"] {
            let description = query["error_description"].map { ": \($0)" } ?? ""
            outcome = .failure(AccordError(.unauthenticated, "the identity provider did not authenticate you (\(refusal)\(description))"))
        } else if let code = query["code"].map(String.init) {
            do {
                outcome = .success(try await sso.client.finish(pending, code: code, redirectURI: sso.redirectURI(request)))
            } catch let error as AccordError {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(AccordError(.invalid, "the identity provider's answer has no code"))
        }
        switch pending.purpose {
        case .login:
            return try await finishLogin(request, context: context, outcome: outcome)
        case .sign(let intent):
            return try await finishSigning(pending, intent: intent, outcome: outcome, context: context)
        }
    }

    private func finishLogin(_ request: Request, context: AccordContext, outcome: Result<SSOAuthentication, AccordError>) async throws -> Response {
        let pages = LoginPages(store: store, renderer: renderer)
        do {
            let authentication = try outcome.get()
            let cookies = SessionCookies(store: store, tls: renderer.tls)
            if let old = request.cookies[cookies.name] { try await store.logout(cookieToken: old.value) }
            let new = try await store.ssoLogin(authentication, address: context.clientAddress)
            var response = continuePage(to: "/inbox", title: "Logged in", message: "You are logged in.", context: context)
            response.setCookie(cookies.cookie(new.cookieToken, maxAge: Int(new.expiresAt.timeIntervalSinceNow)))
            response.setCookie(sso.clearedBrowserCookie)
            return response
        } catch let error as AccordError {
            var response = await pages.page(context, error: error.message, status: .unauthorized)
            response.setCookie(sso.clearedBrowserCookie)
            return response
        }
    }

    private func finishSigning(
        _ pending: SSOPendingRequest,
        intent: SigningIntent,
        outcome: Result<SSOAuthentication, AccordError>,
        context: AccordContext
    ) async throws -> Response {
        let target = "/tasks/\(intent.task)"
        do {
            let authentication = try outcome.get()
            // The fresh login must come after the request: an older one (a provider that ignored
            // prompt=login) is not the re-authentication this signature asked for. Five seconds of clock skew.
            if let at = authentication.authTime, at < pending.requestedAt.addingTimeInterval(-5) {
                throw AccordError(
                    .unauthenticated,
                    "the identity provider reused a login from before this signature was asked for; log in again at it and sign again"
                )
            }
            let signed = try await store.sign(
                intent.task,
                decision: intent.decision,
                meaning: intent.meaning,
                comment: intent.comment,
                proof: .sso(authentication),
                actor: pending.signer
            )
            try await store.recordSigningOutcome(pending.id, signature: signed.signature.id, refusal: nil)
            var response = continuePage(to: target + "?signed=1", title: "Signed", message: "Your decision is recorded.", context: context)
            response.setCookie(sso.clearedBrowserCookie)
            return response
        } catch let error as AccordError {
            try await store.recordSigningOutcome(pending.id, signature: nil, refusal: error.message)
            var response = continuePage(to: target, title: "Not signed", message: "Nothing was signed: \(error.message).", context: context)
            response.status = Problem(error).httpStatus
            response.setCookie(sso.clearedBrowserCookie)
            return response
        }
    }

    /// A page that goes on to `target` at once (a meta refresh, no script) and says so with a link.
    private func continuePage(to target: String, title: String, message: String, context: AccordContext) -> Response {
        var page = PageModel(title: title, context: context)
        page.refreshTo = target
        return renderer.render("continue", ContinuePage(page: page, message: message, target: target))
    }
}

/// A page between the provider and Accord's own.
struct ContinuePage {
    var page: PageModel
    var message: String
    var target: String
}
