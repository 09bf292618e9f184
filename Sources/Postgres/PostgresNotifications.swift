import CLibPQ
import Foundation
import NIOConcurrencyHelpers

/// What a LISTEN connection delivers.
public enum PostgresNotificationEvent: Sendable, Equatable {
    /// A `NOTIFY` on one of the channels.
    case notification(channel: String, payload: String, senderPID: Int32)
    /// The connection was lost and opened again; notifications sent meanwhile were missed, so
    /// a listener should look for work by polling once.
    case reconnected
}

/// LISTEN/NOTIFY on a dedicated connection, as an async sequence.
///
/// The connection lives on its own thread, which waits on the socket with `poll()`; it reconnects
/// (with backoff) when the server goes away and reports `.reconnected`. Ending the iteration (or
/// cancelling the task that iterates) closes the connection.
public enum PostgresNotifications {
    /// Listens on the given channels.
    /// - Parameters:
    ///   - conninfo: as for `PostgresConnection.connect`.
    ///   - channels: channel names; each is quoted, so any name is safe.
    public static func listen(conninfo: String, channels: [String]) -> AsyncThrowingStream<PostgresNotificationEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<PostgresNotificationEvent, any Error>.makeStream()
        let stopped = NIOLockedValueBox(false)
        continuation.onTermination = { _ in stopped.withLockedValue { $0 = true } }
        let thread = Thread {
            runListener(conninfo: conninfo, channels: channels, stopped: stopped, continuation: continuation)
        }
        thread.name = "accord-listen"
        thread.start()
        return stream
    }

    private static func runListener(
        conninfo: String,
        channels: [String],
        stopped: NIOLockedValueBox<Bool>,
        continuation: AsyncThrowingStream<PostgresNotificationEvent, any Error>.Continuation
    ) {
        var delay: UInt32 = 100_000
        var everConnected = false
        while !stopped.withLockedValue({ $0 }) {
            guard let handle = openListening(conninfo: conninfo, channels: channels) else {
                if !everConnected {
                    continuation.finish(throwing: PostgresError(.connectionFailed, "cannot open the LISTEN connection"))
                    return
                }
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
                continue
            }
            if everConnected { continuation.yield(.reconnected) }
            everConnected = true
            delay = 100_000
            defer { PQfinish(handle) }
            let socket = PQsocket(handle)
            while !stopped.withLockedValue({ $0 }) {
                var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 200)  // wake regularly to notice the end of iteration
                if ready < 0 && errno != EINTR { break }
                if ready <= 0 { continue }
                if PQconsumeInput(handle) == 0 { break }
                while let notify = PQnotifies(handle) {
                    let event = PostgresNotificationEvent.notification(
                        channel: String(cString: notify.pointee.relname),
                        payload: String(cString: notify.pointee.extra),
                        senderPID: notify.pointee.be_pid
                    )
                    PQfreemem(notify)
                    continuation.yield(event)
                }
                if PQstatus(handle) != CONNECTION_OK { break }
            }
        }
        continuation.finish()
    }

    private static func openListening(conninfo: String, channels: [String]) -> OpaquePointer? {
        guard let handle = try? PostgresConnection.openHandle(conninfo, applicationName: "accord-listen") else { return nil }
        for channel in channels {
            let result = PQexec(handle, "LISTEN " + PostgresConnection.quoteIdentifier(channel))
            let ok = PQresultStatus(result) == PGRES_COMMAND_OK
            PQclear(result)
            if !ok {
                PQfinish(handle)
                return nil
            }
        }
        return handle
    }
}

extension PostgresConnection {
    /// Sends a notification on a channel (`pg_notify`), delivered when the current transaction commits.
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify($1, $2)", [channel, payload])
    }
}
