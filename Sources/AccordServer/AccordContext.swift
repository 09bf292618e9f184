import AccordStore
import Hummingbird
import NIOCore

/// The request context of Accord's routes: who is acting, and how they proved it.
public struct AccordContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's socket address (the proxy's, behind one).
    public let remoteAddress: SocketAddress?
    /// The authenticated person, if any.
    public var person: Person?
    /// The browser session, when the person came with a session cookie.
    public var session: WebSession?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Evidence uploads may be larger than Hummingbird's default 2 MiB.
    public var maxUploadSize: Int { 64 << 20 }

    /// The person, or a 401 problem.
    public func requirePerson() throws -> Person {
        guard let person else { throw AccordError(.unauthenticated, "log in, or send 'Authorization: Bearer TOKEN'") }
        return person
    }
}
