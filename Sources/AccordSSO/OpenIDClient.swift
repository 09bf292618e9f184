public import AccordStore
public import AsyncHTTPClient
import Crypto
public import Foundation
import JWTKit
import NIOCore
import NIOHTTP1

/// What a provider's discovery document (`/.well-known/openid-configuration`) says that Accord uses.
public struct ProviderMetadata: Codable, Sendable {
    /// The issuer identifier: it must be exactly the one configured (OpenID Connect Discovery §4.3).
    public var issuer: String
    /// Where the browser is sent to authenticate.
    public var authorizationEndpoint: String
    /// Where the code is exchanged for tokens.
    public var tokenEndpoint: String
    /// The provider's public signing keys.
    public var jwksURI: String
    /// RP-initiated logout, when the provider offers it.
    public var endSessionEndpoint: String?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case endSessionEndpoint = "end_session_endpoint"
    }
}

/// The claims of an ID token that Accord reads; jwt-kit checks the signature, `exp` and `aud`.
struct IDTokenClaims: JWTIdentityToken {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var nonce: String?
    var authTime: Int64?
    var azp: String?
    var email: String?
    var emailVerified: BoolClaim?
    var audience: AudienceClaim { aud }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nonce, azp, email
        case authTime = "auth_time"
        case emailVerified = "email_verified"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        // A minute's leeway for clocks that differ.
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
    }
}

/// The relying-party side of OpenID Connect's authorization code flow with PKCE: discovery, the
/// authorization URL, the code exchange and the ID token's checks (OpenID Connect Core §3.1.3.7), with the
/// provider's keys fetched again when a token names one not seen yet (key rotation). JOSE is jwt-kit's;
/// HTTP is AsyncHTTPClient's, with redirects not followed and bodies bounded.
public actor OpenIDClient {
    private let http: HTTPClient
    private var discovered: [String: (metadata: ProviderMetadata, at: Date)] = [:]
    private var keySets: [String: (keys: JWTKeyCollection, kids: Set<String>)] = [:]
    /// How long a discovery document is reused before it is fetched again.
    static let metadataLifetime: TimeInterval = 600

    /// A client over an HTTP client the caller owns (and shuts down).
    public init(http: HTTPClient) { self.http = http }

    /// An HTTP client for provider calls that follows no redirect and lives as long as the process (a
    /// global is never deinitialised, so it needs no shutdown).
    public static let providerHTTP = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10)))
    )

    /// The provider's discovery document, cached for ten minutes.
    public func metadata(for issuer: String) async throws -> ProviderMetadata {
        if let cached = discovered[issuer], Date().timeIntervalSince(cached.at) < Self.metadataLifetime { return cached.metadata }
        let url = issuer.hasSuffix("/") ? issuer + ".well-known/openid-configuration" : issuer + "/.well-known/openid-configuration"
        let body = try await get(url, what: "discovery document")
        let metadata: ProviderMetadata
        do {
            metadata = try JSONDecoder().decode(ProviderMetadata.self, from: body)
        } catch {
            throw AccordError(.unavailable, "the discovery document of \(issuer) is not one: \(error)")
        }
        guard metadata.issuer == issuer else {
            throw AccordError(.unavailable, "the discovery document at \(issuer) names another issuer (\(metadata.issuer)); check the issuer URL")
        }
        discovered[issuer] = (metadata, Date())
        return metadata
    }

    /// Where to send the browser: the code flow with `state`, `nonce` and an S256 PKCE challenge; a signing
    /// request also asks for a fresh authentication (`prompt=login`, `max_age=0`).
    public func authorizationURL(_ ticket: SSOTicket, redirectURI: String, scopes: [String] = ["openid", "email", "profile"]) async throws -> String {
        let metadata = try await metadata(for: ticket.issuer.issuer)
        let challenge = base64URL(SHA256.hash(data: Data(ticket.codeVerifier.utf8)))
        var items: [(String, String)] = [
            ("response_type", "code"), ("client_id", ticket.issuer.clientID), ("redirect_uri", redirectURI),
            ("scope", scopes.joined(separator: " ")), ("state", ticket.state), ("nonce", ticket.nonce),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        if ticket.freshAuthentication { items += [("prompt", "login"), ("max_age", "0")] }
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return metadata.authorizationEndpoint + separator + formEncode(items)
    }

    /// Exchanges the code for tokens and checks the ID token: signature (JWKS), `iss`, `aud` (and `azp`
    /// when there are several audiences), `exp`, `iat`, `nonce`, and for a signing request `auth_time`.
    public func finish(_ request: SSOPendingRequest, code: String, redirectURI: String) async throws -> SSOAuthentication {
        let issuer = request.issuer
        let metadata = try await metadata(for: issuer.issuer)
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", request.codeVerifier)]
        var headers = HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")])
        if let secret = request.clientSecret {
            // client_secret_basic: each part form-encoded first (RFC 6749 §2.3.1).
            let pair = formComponent(issuer.clientID) + ":" + formComponent(secret)
            headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        } else {
            fields.append(("client_id", issuer.clientID))
        }
        let answer = try await post(metadata.tokenEndpoint, body: formEncode(fields), headers: headers)
        guard let idToken = answer["id_token"] as? String else {
            throw AccordError(.unauthenticated, "\(issuer.displayName) answered without an ID token")
        }
        let claims = try await verify(idToken, issuer: issuer, metadata: metadata)
        guard claims.iss.value == issuer.issuer else {
            throw AccordError(.unauthenticated, "the ID token was issued by \(claims.iss.value), not \(issuer.issuer); nobody was logged in")
        }
        if claims.aud.value.count > 1, claims.azp != issuer.clientID {
            throw AccordError(.unauthenticated, "the ID token has several audiences and is not authorised for Accord (azp); nobody was logged in")
        }
        let issuedAt = claims.iat.value.timeIntervalSinceNow
        guard issuedAt < 60, issuedAt > -600 else {
            throw AccordError(.unauthenticated, "the ID token was issued at an unlikely time (iat); check the clocks; nobody was logged in")
        }
        guard let nonce = claims.nonce, constantTimeEquals(nonce, request.nonce) else {
            throw AccordError(
                .unauthenticated,
                "the ID token does not carry this request's nonce (a replayed or injected token); nobody was logged in"
            )
        }
        if case .sign = request.purpose, claims.authTime == nil {
            throw AccordError(.unauthenticated, "\(issuer.displayName) did not say when the signer authenticated (auth_time); nothing was signed")
        }
        return SSOAuthentication(
            issuer: claims.iss.value,
            subject: claims.sub.value,
            authTime: claims.authTime.map { Date(timeIntervalSince1970: TimeInterval($0)) },
            email: claims.email,
            emailVerified: claims.emailVerified?.value ?? false,
            groups: try groups(in: idToken, claim: issuer.groupsClaim)
        )
    }

    /// The provider's logout URL for a session opened through it, when it offers RP-initiated logout.
    public func logoutURL(_ issuer: SSOIssuer, returnTo: String) async -> String? {
        guard let metadata = try? await metadata(for: issuer.issuer), let endpoint = metadata.endSessionEndpoint else { return nil }
        let separator = endpoint.contains("?") ? "&" : "?"
        return endpoint + separator + formEncode([("client_id", issuer.clientID), ("post_logout_redirect_uri", returnTo)])
    }

    /// Verifies the token's signature with the provider's keys. They are fetched again when the token
    /// names a key (`kid`) not in the set held: the provider rotated its keys.
    private func verify(_ token: String, issuer: SSOIssuer, metadata: ProviderMetadata) async throws -> IDTokenClaims {
        let kid = Self.keyID(of: token)
        var held = keySets[issuer.issuer]
        if held == nil || (kid != nil && !(held?.kids.contains(kid!) ?? false)) {
            held = try await fetchKeys(metadata)
            keySets[issuer.issuer] = held
        }
        guard let keys = held?.keys else { throw AccordError(.unavailable, "no signing keys from \(issuer.displayName)") }
        do {
            return try await keys.verify(token, as: IDTokenClaims.self, expectedAudience: issuer.clientID)
        } catch let error as JWTError {
            throw AccordError(.unauthenticated, "the ID token from \(issuer.displayName) was refused: \(describe(error)); nobody was logged in")
        }
    }

    /// The `kid` of a token's header, if it names one.
    static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".").first, let data = Data(base64URL: String(header)),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }

    private func fetchKeys(_ metadata: ProviderMetadata) async throws -> (keys: JWTKeyCollection, kids: Set<String>) {
        let body = try await get(metadata.jwksURI, what: "signing keys")
        do {
            let set = try JSONDecoder().decode(JWKS.self, from: body)
            let keys = JWTKeyCollection()
            var kids = Set<String>()
            // Keys that are not for signatures, or of a kind jwt-kit does not verify with, are skipped.
            for key in set.keys {
                guard let kid = key.keyIdentifier, (try? await keys.add(jwk: key)) != nil else { continue }
                kids.insert(kid.string)
            }
            return (keys, kids)
        } catch {
            throw AccordError(.unavailable, "the signing keys of \(metadata.issuer) could not be read: \(error)")
        }
    }

    /// The groups claim, read from the (already verified) token's payload: a list of strings, or absent.
    private func groups(in token: String, claim: String) throws -> [String]? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let payload = Data(base64URL: String(parts[1])),
            let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any]
        else { return nil }
        guard let value = object[claim] else { return nil }
        if let list = value as? [String] { return list }
        if let one = value as? String { return [one] }
        return nil
    }

    private func get(_ url: String, what: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        return try await send(request, what: "\(what) at \(url)")
    }

    private func post(_ url: String, body: String, headers: HTTPHeaders) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(ByteBuffer(string: body))
        let data = try await send(request, what: "token endpoint", acceptErrors: true)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AccordError(.unavailable, "the token endpoint answered something other than JSON")
        }
        if let error = object["error"] as? String {
            let description = (object["error_description"] as? String).map { ": \($0)" } ?? ""
            throw AccordError(.unauthenticated, "the identity provider refused the code (\(error)\(description)); log in again")
        }
        return object
    }

    private func send(_ request: HTTPClientRequest, what: String, acceptErrors: Bool = false) async throws -> Data {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw AccordError(.unavailable, "the identity provider could not be reached (\(what)): \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok || (acceptErrors && response.status.code < 500) else {
            throw AccordError(.unavailable, "the identity provider answered \(response.status.code) for its \(what)")
        }
        return Data(body.readableBytesView)
    }
}

private func describe(_ error: JWTError) -> String {
    switch error.errorType {
    case .signatureVerificationFailed: "its signature does not verify with the provider's keys"
    case .unknownKID: "it is signed with a key the provider does not publish"
    case .claimVerificationFailure: error.reason ?? "a claim is wrong"
    default: error.reason ?? "\(error.errorType)"
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}

/// application/x-www-form-urlencoded, as the token endpoint reads and the authorization URL carries.
func formEncode(_ items: [(String, String)]) -> String {
    items.map { formComponent($0.0) + "=" + formComponent($0.1) }.joined(separator: "&")
}

func formComponent(_ text: String) -> String {
    // The unreserved characters of RFC 3986, ASCII only; everything else is percent-encoded.
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
