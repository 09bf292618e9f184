import Foundation

/// Waits until `condition` holds, checking every `every`, for at most `within`: tests wait for what they
/// need, never for a fixed time. Returns whether it held in time.
@discardableResult
public func eventually(
    within limit: Duration = .seconds(10),
    every step: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: step)
    }
}

/// The value `body` gives once it stops throwing, trying for at most `within`; the last error otherwise.
public func eventually<T>(
    within limit: Duration = .seconds(10),
    every step: Duration = .milliseconds(50),
    value body: () async throws -> T
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        do {
            return try await body()
        } catch {
            if ContinuousClock.now >= deadline { throw error }
            try? await Task.sleep(for: step)
        }
    }
}
