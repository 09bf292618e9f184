import AccordStore
import Hummingbird

/// `/healthz`: the process answers (no database). `/readyz`: the database answers too, and the instance is not shutting down.
struct HealthController {
    let store: Store
    let configuration: ServerConfiguration

    /// The routes, at the root.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("healthz", use: live)
            .get("readyz", use: ready)
    }

    @Sendable func live(_ request: Request, context: AccordContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: "ok\n"))
        )
    }

    @Sendable func ready(_ request: Request, context: AccordContext) async throws -> Response {
        if configuration.drain.isDraining {
            return Problem(
                type: "/problems/shutting-down",
                title: "Shutting down",
                status: .serviceUnavailable,
                detail: "This instance is shutting down; it finishes the requests it has and takes no more once the load balancer has noticed."
            ).response()
        }
        do {
            try await withDeadline(configuration.readinessTimeout) { try await store.ping() }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: "ready\n"))
            )
        } catch {
            return Problem(
                type: "/problems/database-unavailable",
                title: "Database unavailable",
                status: .serviceUnavailable,
                detail: "The database did not answer; Accord cannot serve requests until it does."
            ).response()
        }
    }
}

struct DeadlineExceeded: Error {}

/// Runs `body`, or throws `DeadlineExceeded` when it takes longer than `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
