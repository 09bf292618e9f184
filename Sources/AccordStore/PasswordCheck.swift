import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOPosix

/// Per key, at most `permits` attempts of this process at once; the others wait in order, suspended.
final class AttemptGate: Sendable {
    private struct Key {
        var inside = 0
        var waiting: [(ticket: UUID, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let keys = NIOLockedValueBox<[String: Key]>([:])

    /// Waits for a place, at most `within`; throws `GateTimeout` then (and holds no place).
    func enter(_ key: String, permits: Int, within limit: Duration) async throws {
        let ticket = UUID()
        let timeout = Task {
            try? await Task.sleep(for: limit)
            // Still waiting: leave the line and fail.
            let waiter = keys.withLockedValue { keys -> CheckedContinuation<Bool, Never>? in
                guard var entry = keys[key], let index = entry.waiting.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                let waiter = entry.waiting.remove(at: index).continuation
                keys[key] = entry
                return waiter
            }
            waiter?.resume(returning: false)
        }
        defer { timeout.cancel() }
        let admitted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let now = keys.withLockedValue { keys -> Bool in
                var entry = keys[key] ?? Key()
                defer { keys[key] = entry }
                if entry.inside < permits {
                    entry.inside += 1
                    return true
                }
                entry.waiting.append((ticket, continuation))
                return false
            }
            if now { continuation.resume(returning: true) }
        }
        if !admitted { throw GateTimeout() }
    }

    func leave(_ key: String) {
        let next = keys.withLockedValue { keys -> CheckedContinuation<Bool, Never>? in
            guard var entry = keys[key] else { return nil }
            if !entry.waiting.isEmpty {
                // The place passes to the next in line: `inside` stays the same.
                let next = entry.waiting.removeFirst().continuation
                keys[key] = entry
                return next
            }
            entry.inside -= 1
            keys[key] = entry.inside > 0 ? entry : nil
            return nil
        }
        next?.resume(returning: true)
    }
}

/// A wait for a place in the gate that ran out.
struct GateTimeout: Error {}

/// Where bcrypt runs, and how much of it may wait. Logins run on two threads of their own with a
/// bounded queue, so a flood of logins cannot starve signing of threads; past the queue a login is
/// refused as busy (503) without hashing.
final class PasswordCheck: Sendable {
    enum Purpose: Sendable { case login, signing }

    /// Logins hash here, whatever the number of stores in the process.
    static let loginThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()
    /// Logins waiting for or running bcrypt, process-wide.
    static let loginsWaiting = NIOLockedValueBox(0)
    /// The most logins that may wait for bcrypt at once; more are refused as busy.
    static let maxLoginsWaiting = 32

    let count = NIOLockedValueBox(0)

    func verify(_ password: String, hash: String, purpose: Purpose) async throws -> Bool {
        switch purpose {
        case .signing:
            count.withLockedValue { $0 += 1 }
            return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        case .login:
            let admitted = Self.loginsWaiting.withLockedValue { waiting -> Bool in
                guard waiting < Self.maxLoginsWaiting else { return false }
                waiting += 1
                return true
            }
            guard admitted else { throw AccordError(.unavailable, "too many logins at once; try again in a few seconds") }
            defer { Self.loginsWaiting.withLockedValue { $0 -= 1 } }
            count.withLockedValue { $0 += 1 }
            return try await Self.loginThreads.runIfActive { Bcrypt.verify(password, hash: hash) }
        }
    }
}
