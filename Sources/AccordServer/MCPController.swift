import AccordCore
import AccordMCP
import AccordStore
import Foundation
import Hummingbird
import MCP
import NIOCore
import NIOFoundationEssentialsCompat

/// `/mcp`: Accord's MCP server over streamable HTTP, for an assistant that reaches Accord over the network.
///
/// It is the official SDK's stateless transport: each POST carries one JSON-RPC message and gets its answer
/// as JSON (no SSE stream, no session), so any instance behind a load balancer can answer it. A GET for a
/// server-sent event stream is answered 405, as the specification allows. Each request is authenticated by
/// its bearer token (never a cookie: a web page cannot call it in a visitor's name) and served by a server
/// acting as that person, so the tools have the API's authorisation; their changes are audited with the
/// origin `mcp http client=ADDRESS`.
struct MCPController {
    let store: Store
    /// The site's public origin (`--public-url`), the one browser origin accepted besides this machine's.
    let publicOrigin: String?

    /// The largest JSON-RPC message accepted: an evidence note is at most 100,000 characters.
    static let maxMessageBytes = 512 << 10

    func addRoutes(to router: Router<AccordContext>) {
        let group = router.group("mcp").add(middleware: BearerTokenAuthenticator(store: store))
        group.post(use: handle)
        group.get(use: handle)
        group.delete(use: handle)
    }

    @Sendable func handle(_ request: Request, context: AccordContext) async throws -> Response {
        // DNS rebinding and cross-site pages: a browser names its page's origin, which must be ours.
        if let origin = request.headers[.origin], !allowed(origin: origin) {
            throw AccordError(.forbidden, "requests from the web page at \(origin) may not use the MCP endpoint")
        }
        guard let caller = context.identity else {
            var refused = Problem(
                AccordError(.unauthenticated, "send one of your API tokens: 'Authorization: Bearer TOKEN' (accord token create --read-only)")
            )
            .response()
            refused.headers[.wwwAuthenticate] = "Bearer realm=\"accord-mcp\""
            return refused
        }
        var body: Data?
        if request.method == .post {
            body = Data(buffer: try await request.body.collect(upTo: Self.maxMessageBytes))
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let tools = AccordTools(
            store: store,
            person: caller.person.handle,
            readOnly: caller.readOnly,
            origin: "mcp http client=\(context.clientAddress ?? "unknown")"
        )
        let server = await tools.server()
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ])
        )
        try await server.start(transport: transport)
        let answer = await transport.handleRequest(MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: "/mcp"))
        await server.stop()
        var response = Response(status: .init(code: answer.statusCode))
        // The transport's stateless answers name only these two (no session id, no stream).
        if let type = answer.headers[HTTPHeaderName.contentType] { response.headers[.contentType] = type }
        if let allow = answer.headers[HTTPHeaderName.allow] { response.headers[.allow] = allow }
        if let data = answer.bodyData {
            response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The public origin, or a page on this machine (a local assistant's own web view).
    func allowed(origin: String) -> Bool {
        if let publicOrigin, origin == publicOrigin { return true }
        guard let url = URL(string: origin), let host = url.host else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"
    }
}
