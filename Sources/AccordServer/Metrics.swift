import AccordStore
import Foundation
import Hummingbird
import Metrics
public import Prometheus

/// The process's metrics: swift-metrics' global system, bootstrapped once per process with a
/// swift-prometheus registry. Hummingbird's `MetricsMiddleware` records every request through it; the
/// names are mapped to Prometheus' conventions (`_total` counters, `_seconds` histograms, short labels).
public enum AccordMetrics {
    /// The registry `/metrics` emits. Reading it the first time bootstraps the metrics system.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (names[name] ?? name, labels.map { (labelNames[$0.0] ?? $0.0, $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Hummingbird's metric names, as Accord exposes them.
    static let names = [
        "hb.requests": "accord_http_requests_total",
        "hb.request.errors": "accord_http_request_errors_total",
        "http.server.request.duration": "accord_http_request_duration_seconds",
        "http.server.active_requests": "accord_http_active_requests",
    ]
    static let labelNames = [
        "http.route": "route",
        "http.request.method": "method",
        "http.response.status_code": "status",
        "error.type": "status",
    ]
}

/// `/metrics`: the registry in Prometheus' text exposition format, with the task gauges read now.
struct MetricsController {
    let store: Store

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self).get("metrics", use: scrape)
    }

    /// `accord_NAME`, with its help line.
    private func gauge(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "accord", metricName: name, unitName: "", helpText: help)
    }

    @Sendable func scrape(_ request: Request, context: AccordContext) async throws -> Response {
        let registry = AccordMetrics.registry
        // The database may be down: the request metrics are still worth a scrape.
        if let gauges = try? await store.taskGauges() {
            registry.makeGauge(descriptor: gauge("tasks_overdue", "Outstanding tasks past their due date.")).set(Double(gauges.overdue))
            registry.makeGauge(descriptor: gauge("signoffs_pending", "Tasks in review, waiting for sign-offs.")).set(Double(gauges.inReview))
            registry.makeGauge(descriptor: gauge("tasks", "Tasks in scope.")).set(Double(gauges.tasks))
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
        )
    }
}
