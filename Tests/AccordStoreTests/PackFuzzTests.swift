import AccordCore
import AccordPack
import AccordReports
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// The same generator and mutations as the workflow fuzzer (kept here so the test targets stay apart).
private struct Mix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Fuzzing the evidence-pack verifier")
struct PackFuzzTests {
    static var cases: Int { ProcessInfo.processInfo.environment["ACCORD_SOAK"] == "1" ? 5_000 : 400 }

    @Test("mutated, truncated and random packs: verify-pack reports problems, never crashes or hangs")
    func mutatedPacks() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.addEvidence(
                to: "acme/ai-policy",
                fileName: "policy.pdf",
                bytes: Array("%PDF the policy".utf8),
                title: "AI policy",
                actor: "ada"
            )
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-packfuzz-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let original = folder.appendingPathComponent("acme.zip").path
            _ = try await store.exportPack(program: "acme", to: original, actor: "ada")
            let pristine = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
            #expect(verifyPack(path: original, key: testAuditKey).problems.isEmpty)

            var random = Mix(state: 7)
            var detected = 0
            var unchanged = 0
            var slowest = 0.0
            let path = folder.appendingPathComponent("fuzz.zip").path
            for n in 0..<Self.cases {
                var bytes = pristine
                switch n % 4 {
                case 0:  // a few bytes changed anywhere
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        let at = Int.random(in: 0..<bytes.count, using: &random)
                        bytes[at] ^= UInt8.random(in: 1...255, using: &random)
                    }
                case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
                case 2:  // a slice duplicated somewhere else
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    let end = min(bytes.count, at + Int.random(in: 1...4096, using: &random))
                    bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &random))
                default:  // random bytes behind a ZIP signature
                    bytes =
                        [0x50, 0x4b, 0x03, 0x04]
                        + (0..<Int.random(in: 0...8192, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                }
                if bytes == pristine {
                    unchanged += 1
                    continue
                }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let start = DispatchTime.now()
                let result = verifyPack(path: path, key: testAuditKey)
                slowest = max(slowest, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
                if !result.problems.isEmpty { detected += 1 } else { Issue.record("case \(n): a changed pack verified") }
            }
            print(
                "pack fuzz: \(Self.cases) cases, \(detected) detected, \(unchanged) left the pack unchanged, 0 crashes; slowest \(String(format: "%.3f", slowest)) s"
            )
            #expect(slowest < 5)
        }
    }
}
