import AccordCore
import AccordStore
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Postgres

/// Request counts and latency by route, kept in memory per instance, exported in the Prometheus text format.
final class RequestMetrics: Sendable {
    struct Series {
        var count = 0
        var errors = 0
        var seconds = 0.0
        var buckets = [Int](repeating: 0, count: RequestMetrics.bounds.count)
    }
    static let bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    private let series = NIOLockedValueBox<[String: Series]>([:])

    func record(method: String, route: String, status: Int, seconds: Double) {
        series.withLockedValue { all in
            var s = all["\(method) \(route)"] ?? Series()
            s.count += 1
            if status >= 500 { s.errors += 1 }
            s.seconds += seconds
            for (i, bound) in Self.bounds.enumerated() where seconds <= bound { s.buckets[i] += 1 }
            all["\(method) \(route)"] = s
        }
    }

    func text() -> String {
        var out = "# HELP accord_http_requests_total HTTP requests by method and route.\n# TYPE accord_http_requests_total counter\n"
        let snapshot = series.withLockedValue { $0 }.sorted { $0.key < $1.key }
        func labels(_ key: String) -> String {
            let parts = key.split(separator: " ", maxSplits: 1)
            return "method=\"\(parts[0])\",route=\"\(parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "\"", with: "") : "")\""
        }
        for (key, s) in snapshot { out += "accord_http_requests_total{\(labels(key))} \(s.count)\n" }
        out += "# HELP accord_http_server_errors_total Responses with a 5xx status.\n# TYPE accord_http_server_errors_total counter\n"
        for (key, s) in snapshot { out += "accord_http_server_errors_total{\(labels(key))} \(s.errors)\n" }
        out += "# HELP accord_http_request_duration_seconds Request latency.\n# TYPE accord_http_request_duration_seconds histogram\n"
        for (key, s) in snapshot {
            for (i, bound) in Self.bounds.enumerated() {
                out += "accord_http_request_duration_seconds_bucket{\(labels(key)),le=\"\(bound)\"} \(s.buckets[i])\n"
            }
            out += "accord_http_request_duration_seconds_bucket{\(labels(key)),le=\"+Inf\"} \(s.count)\n"
            out +=
                "accord_http_request_duration_seconds_sum{\(labels(key))} \(s.seconds)\naccord_http_request_duration_seconds_count{\(labels(key))} \(s.count)\n"
        }
        return out
    }
}

/// Times each request and records it under its route pattern (never the raw path, whose ids would explode the label set).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            metrics.record(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status, seconds: seconds)
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }
}

enum MetricsSQL {
    static let gauges = """
        SELECT (SELECT count(*) FROM accord.task WHERE \(TaskState.outstandingSQL("state")) AND due_on < current_date) AS overdue,
               (SELECT count(*) FROM accord.task WHERE state = 'in_review') AS in_review,
               (SELECT count(*) FROM accord.task WHERE state NOT IN ('retired')) AS tasks
        """
}

func addMetricsRoute(to router: Router<AccordContext>, store: Store, metrics: RequestMetrics) {
    router.get("metrics") { _, _ in
        var text = metrics.text()
        if let row = try? await store.pool.withConnection({ try await $0.query(MetricsSQL.gauges)[0] }) {
            text += "# HELP accord_tasks_overdue Outstanding tasks past their due date.\n# TYPE accord_tasks_overdue gauge\n"
            text += "accord_tasks_overdue \((try? row.decode(Int.self, "overdue")) ?? 0)\n"
            text += "# HELP accord_signoffs_pending Tasks in review, waiting for sign-offs.\n# TYPE accord_signoffs_pending gauge\n"
            text += "accord_signoffs_pending \((try? row.decode(Int.self, "in_review")) ?? 0)\n"
            text += "# HELP accord_tasks Tasks in scope.\n# TYPE accord_tasks gauge\naccord_tasks \((try? row.decode(Int.self, "tasks")) ?? 0)\n"
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
