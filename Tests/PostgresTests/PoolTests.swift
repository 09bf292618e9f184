import AccordTestSupport
import Foundation
import NIOConcurrencyHelpers
import Postgres
import PostgresCluster
import Testing

@Suite("The connection pool")
struct PoolTests {
    @Test("when every connection is lent, a caller waits, then fails with the acquire timeout")
    func exhaustedPoolTimesOut() async throws {
        try await TestDatabase.with(migrated: false, maxConnections: 1, acquireTimeout: .milliseconds(300)) { db in
            let release = NIOLockedValueBox(false)
            let holding = NIOLockedValueBox(false)
            let holder = Task {
                try await db.pool.withConnection { c in
                    _ = try await c.query("SELECT 1")
                    holding.withLockedValue { $0 = true }
                    while !release.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                }
            }
            #expect(await eventually { holding.withLockedValue { $0 } }, "the holder has the only connection")
            let started = ContinuousClock.now
            let error = await #expect(throws: PostgresError.self) {
                try await db.pool.withConnection { _ = try await $0.query("SELECT 1") }
            }
            let waited = started.duration(to: .now)
            #expect(error?.code == .poolTimeout)
            #expect(error?.description.contains("no database connection became free") == true)
            #expect(waited >= .milliseconds(250))
            release.withLockedValue { $0 = true }
            try await holder.value
            // Once the connection is back, the next caller gets it.
            let one = try await db.pool.withConnection { try await $0.query("SELECT 1 AS one")[0].decode(Int.self, "one") }
            #expect(one == 1)
            #expect(db.pool.openConnections == 1)
        }
    }

    @Test("a waiting caller gets the connection as soon as it is released")
    func waiterIsServed() async throws {
        try await TestDatabase.with(migrated: false, maxConnections: 2, acquireTimeout: .seconds(10)) { db in
            // 20 callers share 2 connections; each holds one briefly.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await db.pool.withConnection { c in
                            try await c.query("SELECT $1::int AS i, pg_sleep(0.01)", [i])[0].decode(Int.self, "i")
                        }
                    }
                }
                var seen: Set<Int> = []
                for try await i in group { seen.insert(i) }
                #expect(seen == Set(0..<20))
            }
            #expect(db.pool.openConnections <= 2)
        }
    }

    @Test("a closed pool refuses new leases with a clear error")
    func closedPool() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let pool = PostgresPool(configuration: .init(conninfo: db.conninfo, maxConnections: 1))
            _ = try await pool.withConnection { try await $0.query("SELECT 1") }
            try await pool.close()
            let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ = try await $0.query("SELECT 1") } }
            #expect(error?.code == .poolClosed)
        }
    }

    @Test("a wrong server address fails with a connection error that says why")
    func connectionFailure() async throws {
        let pool = PostgresPool(
            configuration: .init(conninfo: "host=/nonexistent/accord-socket port=5432 dbname=x connect_timeout=2", maxConnections: 1)
        )
        let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ = try await $0.query("SELECT 1") } }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("cannot connect to PostgreSQL") == true)
        #expect(pool.openConnections == 0)
        try await pool.close()
    }

    @Test("one connection is never used by two callers at once")
    func connectionBusy() async throws {
        try await TestDatabase.with(migrated: false) { db in
            try await db.pool.withConnection { c in
                // Whoever comes second, while the other call is in flight, is refused: either the slow
                // query or one of the probes. No timing assumption about which starts first.
                let finished = NIOLockedValueBox(false)
                let slow = Task {
                    defer { finished.withLockedValue { $0 = true } }
                    return try await c.query("SELECT pg_sleep(1)")
                }
                var refused = 0
                while !finished.withLockedValue({ $0 }) {
                    do {
                        _ = try await c.query("SELECT 1")
                    } catch let error as PostgresError where error.code == .connectionBusy {
                        refused += 1
                        break
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
                do {
                    _ = try await slow.value
                } catch let error as PostgresError where error.code == .connectionBusy {
                    refused += 1
                }
                #expect(refused >= 1)
                // The connection is still usable afterwards.
                #expect(try await c.query("SELECT 2 AS two")[0].decode(Int.self, "two") == 2)
            }
        }
    }
}

@Suite("A server restart", .serialized)
struct RestartTests {
    @Test("the query after a server restart succeeds, through a plain lease and a transaction")
    func queryAfterRestart() async throws {
        let cluster = try await PrivateCluster.start()
        let pool = PostgresPool(configuration: .init(conninfo: cluster.conninfo, maxConnections: 2))
        let before = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid() AS pid")[0].decode(Int.self, "pid") }
        try cluster.restart()
        let after = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid() AS pid")[0].decode(Int.self, "pid") }
        #expect(after != before)
        try cluster.restart()
        let value = try await pool.withTransaction { try await $0.query("SELECT 42 AS v")[0].decode(Int.self, "v") }
        #expect(value == 42)
        #expect(pool.openConnections <= 2)
        try await pool.close()
        try cluster.stop()
    }
}

@Suite("LISTEN/NOTIFY")
struct NotificationTests {
    @Test("a notification sent on a channel arrives, with its payload; other channels do not")
    func notificationArrives() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let stream = PostgresNotifications.listen(conninfo: db.conninfo, channels: ["accord_work", "odd \"name\""])
            var iterator = stream.makeAsyncIterator()
            // The listener subscribes asynchronously: notify until the first one arrives.
            let sender = Task {
                for _ in 0..<100 {
                    try await db.pool.withConnection { c in
                        try await c.notify(channel: "other", payload: "ignored")
                        try await c.notify(channel: "accord_work", payload: "task:42 ✓")
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let event = try await iterator.next()
            sender.cancel()
            guard case .notification(let channel, let payload, _) = event else {
                Issue.record("expected a notification, got \(String(describing: event))")
                return
            }
            #expect(channel == "accord_work")
            #expect(payload == "task:42 ✓")
            try await db.pool.withTransaction { c in try await c.notify(channel: "odd \"name\"", payload: "quoted") }
            var quotedPayload: String?
            while let next = try await iterator.next() {
                if case .notification(let name, let payload, _) = next, name == "odd \"name\"" {
                    quotedPayload = payload
                    break
                }
            }
            #expect(quotedPayload == "quoted")
        }
    }
}
