public import AccordStore
public import Hummingbird
public import NIOCore

/// The request context of Accord's routes: who is acting, and how they proved it.
public struct AccordContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's socket address (the proxy's, behind one).
    public let remoteAddress: SocketAddress?
    /// The authenticated person, if any.
    public var person: Person?
    /// The browser session, when the person came with a session cookie.
    public var session: WebSession?
    /// The client's address: the peer's, or, behind a trusted proxy, the one it forwarded.
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress
    }

    /// The largest body a JSON route decodes (64 KiB); evidence uploads read their own, larger limit.
    public var maxUploadSize: Int { 64 << 10 }

    /// The person, or a 401 problem.
    public func requirePerson() throws -> Person {
        guard let person else { throw AccordError(.unauthenticated, "log in, or send 'Authorization: Bearer TOKEN'") }
        return person
    }
}
