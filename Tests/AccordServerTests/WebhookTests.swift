import AccordScheduler
import AccordServer
import AccordStore
import AccordTestSupport
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Postgres
import Testing

/// What a local receiver got: path, delivery id, signature header, body.
struct Received: Sendable {
    var path: String
    var delivery: String
    var attempt: String
    var signature: String
    var body: String
}

/// A receiver: `/ok` answers 204, `/flaky` answers 500 to the first two attempts of each event, then 200.
func receiver(_ log: NIOLockedValueBox<[Received]>) -> some ApplicationProtocol {
    let router = Router()
    for path in ["ok", "flaky"] {
        router.post(.init(stringLiteral: path)) { request, _ -> HTTPResponse.Status in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let received = Received(
                path: path,
                delivery: request.headers[.init("Accord-Delivery")!] ?? "",
                attempt: request.headers[.init("Accord-Attempt")!] ?? "",
                signature: request.headers[.init("Accord-Signature")!] ?? "",
                body: body
            )
            let tries = log.withLockedValue { log in
                log.append(received)
                return log.filter { $0.path == path && $0.delivery == received.delivery }.count
            }
            if path == "flaky" && tries <= 2 { return .internalServerError }
            return path == "ok" ? .noContent : .ok
        }
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
}

@Suite("Webhooks")
struct WebhookTests {
    @Test(
        "events reach every webhook signed, with stable ids; a failing receiver is retried with backoff; one that is down delays nobody and is given up"
    )
    func delivery() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
            _ = try await store.addPerson(handle: "bob", name: "Bob", email: nil, admin: false, password: nil, actor: "ada")
            let log = NIOLockedValueBox<[Received]>([])
            try await receiver(log).test(.live) { client in
                let base = "http://127.0.0.1:\(client.port!)"
                await #expect(throws: AccordError.self) { _ = try await store.addWebhook(url: "\(base)/ok", program: nil, topics: [], actor: "bob") }
                await #expect(throws: AccordError.self) { _ = try await store.addWebhook(url: "ftp://x/", program: nil, topics: [], actor: "ada") }
                await #expect(throws: AccordError.self) {
                    _ = try await store.addWebhook(url: "\(base)/ok", program: nil, topics: ["task.nope"], actor: "ada")
                }
                let ok = try await store.addWebhook(url: "\(base)/ok", program: nil, topics: [], actor: "ada")
                let flaky = try await store.addWebhook(url: "\(base)/flaky", program: nil, topics: ["task.escalation"], actor: "ada")
                let down = try await store.addWebhook(url: "http://127.0.0.1:1/down", program: nil, topics: [], actor: "ada")
                try await db.pool.withConnection { connection in
                    for n in 1...3 { _ = try await connection.query("SELECT accord.emit('task.escalation', NULL, $1::jsonb)", ["{\"n\": \(n)}"]) }
                    _ = try await connection.query("SELECT accord.emit('cycle.opened', NULL, '{}'::jsonb)")  // flaky does not take this topic
                }
                let t0 = Date()
                var round = try await Scheduler.deliverWebhooks(store: store, now: t0, timeout: 5, allowPrivate: true)
                #expect(round.delivered == 4)  // ok: all four
                #expect(round.failed == 3 + 4)  // flaky: three 500s; down: four refusals
                round = try await Scheduler.deliverWebhooks(store: store, now: t0, timeout: 5, allowPrivate: true)
                #expect(round.delivered == 0 && round.failed == 0, "nothing is due again before its backoff")
                round = try await Scheduler.deliverWebhooks(store: store, now: t0.addingTimeInterval(11), timeout: 5, allowPrivate: true)
                #expect(round.delivered == 0 && round.failed == 7)
                round = try await Scheduler.deliverWebhooks(store: store, now: t0.addingTimeInterval(11 + 21), timeout: 5, allowPrivate: true)
                #expect(round.delivered == 3 && round.failed == 4)

                let received = log.withLockedValue { $0 }
                let okIDs = Set(received.filter { $0.path == "ok" }.map(\.delivery))
                #expect(okIDs.count == 4)
                let flakyIDs = received.filter { $0.path == "flaky" }.map(\.delivery)
                #expect(flakyIDs.count == 9)  // three events, three attempts each, the same id each time
                #expect(Set(flakyIDs).count == 3 && Set(flakyIDs).isSubset(of: okIDs))
                #expect(received.filter { $0.path == "flaky" }.map(\.attempt).sorted() == ["1", "1", "1", "2", "2", "2", "3", "3", "3"])
                for r in received {
                    let secret = r.path == "ok" ? ok.secret! : flaky.secret!
                    let timestamp = Int(r.signature.split(separator: ",")[0].dropFirst(2))!
                    #expect(r.signature == webhookSignature(secret: secret, timestamp: timestamp, body: Array(r.body.utf8)))
                    let envelope = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
                    #expect(envelope["id"] as? String == r.delivery)
                    #expect(envelope["topic"] != nil && envelope["data"] != nil)
                }

                // The receiver that is down is tried until the last attempt, then given up.
                var later = t0.addingTimeInterval(40)
                for _ in 0..<20 {
                    later = later.addingTimeInterval(3700)
                    _ = try await Scheduler.deliverWebhooks(store: store, now: later, timeout: 5, allowPrivate: true)
                }
                let hooks = try await store.webhooks(actor: "ada")
                #expect(hooks.first { $0.id == ok.id }.map { [$0.delivered, $0.pending, $0.failed] } == [4, 0, 0])
                #expect(hooks.first { $0.id == flaky.id }.map { [$0.delivered, $0.pending, $0.failed] } == [3, 0, 0])
                #expect(hooks.first { $0.id == down.id }.map { [$0.delivered, $0.pending, $0.failed] } == [0, 0, 4])
                let attempts = try await db.pool.withConnection {
                    try await $0.query("SELECT max(attempts) AS n FROM accord.webhook_delivery WHERE webhook_id = $1", [down.id])[0].decode(
                        Int.self,
                        "n"
                    )
                }
                #expect(attempts == webhookMaximumAttempts)
                try await store.removeWebhook(ok.id, actor: "ada")
                #expect(try await store.webhooks(actor: "ada").map(\.id) == [flaky.id, down.id])
            }
        }
    }

    @Test("a delivery whose lease ran out is claimed again, and only the new claimer's outcome counts")
    func leases() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
            _ = try await store.addWebhook(url: "http://127.0.0.1:1/x", program: nil, topics: [], actor: "ada")
            try await db.pool.withConnection { _ = try await $0.query("SELECT accord.emit('cycle.opened', NULL, '{}'::jsonb)") }
            let first = try await store.claimWebhookDeliveries()
            #expect(first.count == 1)
            #expect(try await store.claimWebhookDeliveries().isEmpty, "a leased delivery is not claimed twice")
            try await db.pool.withConnection { try await $0.execute("UPDATE accord.webhook_delivery SET leased_until = now() - interval '1 second'") }
            let second = try await store.claimWebhookDeliveries()
            #expect(second.count == 1 && second[0].leaseToken != first[0].leaseToken && second[0].attempt == 2)
            try await store.recordWebhookOutcome(first[0], status: 200, error: nil)  // the crashed-and-back sender: ignored
            #expect(try await store.webhooks(actor: "ada")[0].delivered == 0)
            try await store.recordWebhookOutcome(second[0], status: 204, error: nil)
            #expect(try await store.webhooks(actor: "ada")[0].delivered == 1)
        }
    }

    @Test("an event wakes the scheduler's delivery through NOTIFY, long before its next round")
    func notifyWakes() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
            let log = NIOLockedValueBox<[Received]>([])
            try await receiver(log).test(.live) { client in
                _ = try await store.addWebhook(url: "http://127.0.0.1:\(client.port!)/ok", program: nil, topics: [], actor: "ada")
                let scheduler = Scheduler(
                    store: store,
                    deadlineInterval: .seconds(3600),
                    deliveryInterval: .seconds(3600),
                    allowPrivateWebhooks: true
                )
                let running = Task { try await scheduler.run() }
                // Once the scheduler listens (its first round found nothing), an event must wake it.
                #expect(
                    try await eventually {
                        try await db.pool.withConnection {
                            try await $0.query(
                                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%accord_outbox%'"
                            )[0].decode(Int.self, "n") > 0
                        }
                    },
                    "the scheduler listens on accord_outbox"
                )
                try await db.pool.withConnection { _ = try await $0.query("SELECT accord.emit('cycle.opened', NULL, '{\"n\": 1}'::jsonb)") }
                await eventually { !log.withLockedValue { $0.isEmpty } }
                running.cancel()
                _ = try? await running.value
                #expect(log.withLockedValue { $0.count } == 1, "delivered through NOTIFY, not the hourly round")
            }
        }
    }
}
