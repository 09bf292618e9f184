public import AccordStore
public import Hummingbird
public import HummingbirdAuth
public import NIOCore

/// Who is calling, as an authenticator found them: the person, and the browser session when they came
/// with a session cookie (absent for a bearer token).
public struct Caller: Sendable {
    /// The authenticated person.
    public let person: Person
    /// The browser session, when the person came with a session cookie.
    public let session: WebSession?
    /// Whether the caller came with a read-only token: the API refuses it every change.
    public var readOnly = false
}

/// The request context of Accord's routes: who is acting (hummingbird-auth's `identity`, set by the
/// authenticators) and from where.
public struct AccordContext: AuthRequestContext, RemoteAddressRequestContext {
    /// Hummingbird's own per-request state (logger, allocator, route parameters), which every context carries.
    public var coreContext: CoreRequestContextStorage
    /// The peer's socket address (the proxy's, behind one).
    public let remoteAddress: SocketAddress?
    /// The caller, once an authenticator recognised them.
    public var identity: Caller?
    /// The client's address: the peer's, or, behind a trusted proxy, the one it forwarded.
    public var clientAddress: String?

    /// A context for a request on a channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress
    }

    /// The largest body a JSON route decodes (64 KiB); evidence uploads read their own, larger limit.
    public var maxUploadSize: Int { 64 << 10 }

    /// The authenticated person, if any.
    public var person: Person? { identity?.person }
    /// The browser session, when the person came with a session cookie.
    public var session: WebSession? { identity?.session }

    /// The acting person's handle, as the engine takes it; a 401 when nobody is authenticated (routes
    /// behind `IsAuthenticatedMiddleware` never see that).
    public var actor: String {
        get throws { try requireIdentity().person.handle }
    }
}
