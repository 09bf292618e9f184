public import AccordCore
import Crypto
public import Foundation
import Postgres

/// An OpenID provider people log in with.
public struct SSOIssuer: Codable, Sendable, Equatable {
    /// Its number, for `accord sso remove`.
    public var id: Int64
    /// The issuer identifier, exactly as the provider's discovery document and ID tokens give it.
    public var issuer: String
    /// The name on the login page's button: "Log in with …".
    public var displayName: String
    /// The client id Accord is registered under at the provider.
    public var clientID: String
    /// Whether a client secret is kept (sealed); without one Accord is a public client and PKCE alone binds the code.
    public var hasSecret: Bool
    /// Whether a first login may link by a verified e-mail address.
    public var linkByEmail: Bool
    /// The ID-token claim that lists the person's groups, for the group rules.
    public var groupsClaim: String
    /// When it was added.
    public var createdAt: Date
}

/// What a provider vouched for in a verified ID token.
public struct SSOAuthentication: Sendable, Equatable {
    /// The issuer identifier.
    public var issuer: String
    /// The provider's stable identifier for the person (`sub`).
    public var subject: String
    /// When the person last authenticated at the provider (`auth_time`), if it said.
    public var authTime: Date?
    /// The e-mail address, if the token carried one.
    public var email: String?
    /// Whether the provider says it verified that address.
    public var emailVerified: Bool
    /// The groups claim, or `nil` when the token did not carry it (then the group rules are left alone).
    public var groups: [String]?

    /// Creates one from a verified token's claims.
    public init(issuer: String, subject: String, authTime: Date?, email: String?, emailVerified: Bool, groups: [String]?) {
        self.issuer = issuer
        self.subject = subject
        self.authTime = authTime
        self.email = email
        self.emailVerified = emailVerified
        self.groups = groups
    }
}

/// The decision a signing request will record once the signer has authenticated afresh at the provider.
public struct SigningIntent: Codable, Sendable, Equatable {
    /// The task, by reference or number.
    public var task: String
    /// Approve or reject.
    public var decision: SigningDecision
    /// What an approval means.
    public var meaning: SignatureMeaning?
    /// The comment (a rejection needs one).
    public var comment: String?

    /// Creates one.
    public init(task: String, decision: SigningDecision, meaning: SignatureMeaning?, comment: String?) {
        self.task = task
        self.decision = decision
        self.meaning = meaning
        self.comment = comment
    }
}

/// Why Accord sends someone to the provider.
public enum SSOPurpose: Sendable, Equatable {
    /// To log in.
    case login
    /// To sign: a fresh authentication (`prompt=login`, `max_age=0`) that the signature will name.
    case sign(SigningIntent)
}

/// An authorization request about to be sent: what goes in the provider's URL and the token request.
public struct SSOTicket: Sendable {
    /// The public id of the request (a signing challenge's id in the API).
    public var id: UUID
    /// The provider.
    public var issuer: SSOIssuer
    /// `state`: the request's single-use key.
    public var state: String
    /// `nonce`: bound into the ID token.
    public var nonce: String
    /// The PKCE code verifier (its S256 challenge goes in the URL).
    public var codeVerifier: String
    /// Whether this is a signing request, which asks for a fresh authentication.
    public var freshAuthentication: Bool
    /// When it stops being accepted.
    public var expiresAt: Date
}

/// An answered request, taken (once) from the database: what the callback needs to finish it.
public struct SSOPendingRequest: Sendable {
    /// The public id.
    public var id: UUID
    /// The provider.
    public var issuer: SSOIssuer
    /// The client secret, unsealed, for the token request; `nil` for a public client.
    public var clientSecret: String?
    /// The nonce the ID token must carry.
    public var nonce: String
    /// The PKCE verifier for the token request.
    public var codeVerifier: String
    /// What it was for; a signing request also names the signer.
    public var purpose: SSOPurpose
    /// The signer's handle, for a signing request.
    public var signer: String?
    /// When the request was made: a signing authentication must be later than this.
    public var requestedAt: Date
}

/// The state of a signing challenge, for the client that asked for it.
public struct SigningChallenge: Codable, Sendable, Equatable {
    /// Its id.
    public var id: UUID
    /// The task it signs.
    public var task: String
    /// `pending`, `signed` or `refused`.
    public var status: String
    /// Why it was refused.
    public var reason: String?
    /// The signature's id, once signed.
    public var signature: Int64?
    /// When it stops being accepted.
    public var expiresAt: Date
}

/// How long a request to the provider stays answerable.
let ssoRequestLifetime = "10 minutes"
/// How fresh a signing authentication must be: `auth_time` at most this many seconds before the signature.
public let ssoSigningWindow: TimeInterval = 120

extension Store {
    /// The sealing key for client secrets, derived from the audit key (outside the database).
    var ssoSealingKey: SymmetricKey { SymmetricKey(data: auditKey.derivedKey(purpose: "accord sso client secret v1")) }

    func sealClientSecret(_ secret: String) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: ssoSealingKey).combined else {
            throw AccordError(.unavailable, "could not seal the client secret")
        }
        return Array(combined)
    }

    func openClientSecret(_ sealed: [UInt8], issuer: String) throws -> String {
        guard let box = try? AES.GCM.SealedBox(combined: sealed), let plain = try? AES.GCM.open(box, using: ssoSealingKey) else {
            throw AccordError(
                .unavailable,
                "the client secret of \(issuer) was sealed under another audit key; an administrator adds the issuer again with its secret"
            )
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// The nonce and PKCE verifier of a request, derived from its state with a key only Accord holds, so
    /// neither is stored: 43 URL-safe characters each (RFC 7636 asks for 43 to 128).
    func ssoDerived(_ what: String, state: String) -> String {
        let key = SymmetricKey(data: auditKey.derivedKey(purpose: "accord sso \(what) v1"))
        return base64URL(HMAC<SHA256>.authenticationCode(for: Data(state.utf8), using: key))
    }
}

/// Whether an issuer URL may be used: `https`, or plain `http` on the loopback interface only (a provider
/// run beside Accord for development and tests).
public func acceptableIssuer(_ issuer: String) -> Bool {
    guard let url = URL(string: issuer), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(),
        url.query == nil, url.fragment == nil
    else { return false }
    if scheme == "https" { return true }
    return scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
}
