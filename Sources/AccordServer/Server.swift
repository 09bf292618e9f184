public import AccordCore
import AccordResources
import AccordSSO
public import AccordScheduler
public import AccordStore
import AsyncHTTPClient
public import Hummingbird
import HummingbirdAuth
public import Logging
import ServiceLifecycle
import UnixSignals

/// Where `accord serve` listens.
public struct ServerConfiguration: Sendable {
    /// The address to bind, `127.0.0.1` by default.
    public var host: String
    /// The TCP port, 8080 by default.
    public var port: Int
    /// How long `/readyz` waits for the database before answering 503.
    public var readinessTimeout: Duration
    /// Whether the site is served over TLS (directly or behind a TLS proxy): `Secure` `__Host-` cookies and HSTS.
    public var tls: Bool
    /// Proxies whose `X-Forwarded-For` is believed for the client's address (throttling, the audit of logins).
    public var trustedProxies: [IPNetwork]
    /// The mail relay as administrators see it ("smtp://mail.example.com from accord@example.com"); `nil`: mail is off.
    public var mailRelay: String?
    /// The site's public base URL (`--public-url`): the identity provider sends people back under it.
    public var publicURL: String?
    /// What SIGTERM does before the server stops accepting (`--shutdown-delay`): `/readyz` answers 503 meanwhile.
    public var drain: ShutdownDrain

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        readinessTimeout: Duration = .seconds(2),
        tls: Bool = false,
        trustedProxies: [IPNetwork] = [],
        mailRelay: String? = nil,
        publicURL: String? = nil,
        drain: ShutdownDrain = ShutdownDrain()
    ) {
        self.drain = drain
        self.trustedProxies = trustedProxies
        self.mailRelay = mailRelay
        self.publicURL = publicURL
        self.host = host
        self.port = port
        self.readinessTimeout = readinessTimeout
        self.tls = tls
    }
}

extension ServerConfiguration {
    /// A warning when the server listens beyond this machine without TLS: session cookies would then
    /// travel in clear and lack `Secure`.
    public var exposureWarning: String? {
        guard !tls else { return nil }
        let loopback = host == "localhost" || IPAddress(host).map { IPNetwork("127.0.0.0/8")!.contains($0) || $0 == IPAddress("::1")! } == true
        return loopback
            ? nil
            : "serving \(host) without --tls or --behind-tls-proxy: session cookies are not Secure and travel in clear; put a TLS proxy in front and pass --behind-tls-proxy"
    }
}

/// Builds the HTTP application over a store. The store's pool runs as one of the application's
/// services, so SIGTERM stops the server first and then closes the pool.
/// With a scheduler, deadlines and webhooks run inside the server too.
public func makeApplication(
    store: Store,
    configuration: ServerConfiguration,
    scheduler: Scheduler? = nil,
    logger: Logger = Logger(label: "accord.server")
) throws -> some ApplicationProtocol {
    var services: [any Service] = [store.pool]
    if let scheduler { services.append(scheduler) }
    return Application(
        router: try makeRouter(store: store, configuration: configuration),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "accord"),
        services: services,
        logger: logger
    )
}

/// Serves until SIGTERM or SIGINT. A graceful shutdown first runs the configuration's drain (`/readyz`
/// answers 503 while requests are still served), then stops accepting, finishes the requests in flight,
/// stops the scheduler and closes the pool.
public func serve(
    store: Store,
    configuration: ServerConfiguration,
    scheduler: Scheduler? = nil,
    logger: Logger = Logger(label: "accord.server")
) async throws {
    let app = try makeApplication(store: store, configuration: configuration, scheduler: scheduler, logger: logger)
    // A group shuts its services down last first: the drain ends before the application is told to stop.
    let group = ServiceGroup(
        configuration: .init(services: [app, configuration.drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    )
    try await group.run()
}

/// The OpenAPI document of the JSON API, as compiled into the binary.
public let openAPIDocument: String = Resources.templates.first { $0.name == "openapi.yaml" }?.text ?? ""

/// The OpenAPI document of the SCIM service, for SCIM clients and the fuzzer.
public let scimOpenAPIDocument: String = Resources.templates.first { $0.name == "scim-openapi.yaml" }?.text ?? ""

/// Every route: health, metrics, the JSON API and the pages.
public func makeRouter(store: Store, configuration: ServerConfiguration) throws -> Router<AccordContext> {
    let router = Router(context: AccordContext.self)
    _ = AccordMetrics.registry  // bootstraps swift-metrics before the first request is recorded
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(tls: configuration.tls))
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    router.addRoutes(HealthController(store: store, configuration: configuration).endpoints)
    router.addRoutes(MetricsController(store: store).endpoints)
    router.addRoutes(OpenAPIController().endpoints)
    // The API: a bearer token or the session cookie; only logging in is open. Anonymous callers are refused
    // (401) before any handler reads their input, so they learn nothing from validation messages.
    let api = router.group("api/v1")
        .add(middleware: BearerTokenAuthenticator(store: store))
        .add(middleware: SessionCookieAuthenticator(cookies: SessionCookies(store: store, tls: configuration.tls)))
    let sessions = SessionController(store: store, tls: configuration.tls)
    api.addRoutes(sessions.loginEndpoints)
    let authenticated = api.group()
        .add(middleware: IsAuthenticatedMiddleware())
        .add(middleware: ReadOnlyTokenMiddleware())
        .add(middleware: APICSRFMiddleware())
    authenticated.addRoutes(sessions.endpoints)
    authenticated.addRoutes(APIController(store: store).endpoints)
    PeopleAPIController(store: store, tls: configuration.tls).addRoutes(open: api, authenticated: authenticated)
    authenticated.addRoutes(SetupAPIController(store: store).endpoints)
    authenticated.addRoutes(ClassificationAPIController(store: store).endpoints)
    authenticated.addRoutes(WorkAPIController(store: store).endpoints)
    authenticated.addRoutes(ImprovementAPIController(store: store).endpoints)
    // The provider calls go through one HTTP client that follows no redirect and lives as long as the process.
    let sso = SingleSignOn(
        store: store,
        client: OpenIDClient(http: OpenIDClient.providerHTTP),
        publicURL: configuration.publicURL,
        tls: configuration.tls
    )
    authenticated.addRoutes(SigningChallengeController(store: store, sso: sso).endpoints)
    // MCP authenticates bearer tokens only and answers in JSON-RPC.
    MCPController(store: store, publicOrigin: configuration.publicURL.map(origin(of:))).addRoutes(to: router)
    // SCIM authenticates its own provisioning tokens and answers in its own error format.
    router.group("scim/v2").addRoutes(SCIMController(store: store, sso: sso).endpoints)
    try PagesController(store: store, tls: configuration.tls, mailRelay: configuration.mailRelay, sso: sso).addRoutes(to: router)
    return router
}

/// `/api/openapi.yaml` and `/api/scim-openapi.yaml`: the API's and the SCIM service's OpenAPI 3.1 descriptions.
struct OpenAPIController {
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("api/openapi.yaml") { _, _ in Self.yaml(openAPIDocument) }
            .get("api/scim-openapi.yaml") { _, _ in Self.yaml(scimOpenAPIDocument) }
    }

    static func yaml(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
