import AccordCore
public import AccordSSO
public import AccordStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// What the pages and the API share for single sign-on: the OpenID client, the address the provider
/// sends people back to, and the cookie that binds a request to the browser that started it.
public struct SingleSignOn: Sendable {
    let store: Store
    let client: OpenIDClient
    /// The site's public base URL (`--public-url`), which the redirect URI is built from; without it the
    /// request's own scheme and host are used.
    let publicURL: String?
    let tls: Bool

    /// Creates one over a store and an OpenID client.
    public init(store: Store, client: OpenIDClient, publicURL: String?, tls: Bool) {
        self.store = store
        self.client = client
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.tls = tls
    }

    /// The cookie that ties an authorization request to this browser. `SameSite=Lax`: it must come back
    /// with the provider's top-level redirect, which `Strict` cookies do not.
    var browserCookie: String { tls ? "__Host-accord_sso" : "accord_sso" }

    /// The site's base URL for this request.
    func base(_ request: Request) -> String {
        if let publicURL { return publicURL }
        return "\(tls ? "https" : "http")://\(request.head.authority ?? "127.0.0.1")"
    }

    /// Where the provider sends the browser back.
    func redirectURI(_ request: Request) -> String { base(request) + "/sso/callback" }

    /// Starts a request: records it, and returns the provider's URL and the browser cookie to set.
    func start(
        _ request: Request,
        issuer: Int64,
        purpose: SSOPurpose,
        actor: String? = nil,
        bindBrowser: Bool = true
    ) async throws -> (
        url: String, cookie: Cookie?, ticket: SSOTicket
    ) {
        let browser = bindBrowser ? randomToken() : nil
        let ticket = try await store.beginSSO(issuer: issuer, purpose: purpose, browser: browser, actor: actor)
        let url = try await client.authorizationURL(ticket, redirectURI: redirectURI(request))
        let cookie = browser.map {
            Cookie(name: browserCookie, value: $0, maxAge: 600, path: "/", secure: tls, httpOnly: true, sameSite: .lax)
        }
        return (url, cookie, ticket)
    }

    /// The cookie that clears the browser binding.
    var clearedBrowserCookie: Cookie {
        Cookie(name: browserCookie, value: "", maxAge: 0, path: "/", secure: tls, httpOnly: true, sameSite: .lax)
    }
}

/// A provider as the login page and the sign form offer it.
struct ProviderButton {
    var providerID: Int64
    var providerName: String
    /// The provider's origin, which the page's Content-Security-Policy lets its form lead to.
    var providerOrigin: String

    init(_ issuer: SSOIssuer) {
        self.init(id: issuer.id, name: issuer.displayName, issuer: issuer.issuer)
    }

    init(id: Int64, name: String, issuer: String) {
        providerID = id
        providerName = name
        providerOrigin = origin(of: issuer)
    }
}

/// `scheme://host[:port]` of a URL, as a CSP source names it.
func origin(of url: String) -> String {
    guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "'none'" }
    return "\(scheme)://\(host)" + (parsed.port.map { ":\($0)" } ?? "")
}
