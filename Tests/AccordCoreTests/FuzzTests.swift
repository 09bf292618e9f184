import AccordCore
import AccordResources
import Foundation
import Testing

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutates bytes the way fuzzers do: flips, deletions, duplications, insertions of interesting bytes, truncation.
func mutate(_ input: [UInt8], using random: inout SplitMix64, rounds: Int) -> [UInt8] {
    var bytes = input
    let interesting: [[UInt8]] = [
        [0], [0xff], [0xc0, 0x80], Array("&a".utf8), Array("*a".utf8), Array(": ".utf8), Array("- ".utf8), Array("{".utf8),
        Array("[".utf8), Array("\n  ".utf8), Array("!!binary ".utf8), Array("'".utf8), Array("\"".utf8), Array("<<: *a".utf8),
        Array("99999999999999999999".utf8), Array("P999999Y".utf8),
    ]
    for _ in 0..<rounds where !bytes.isEmpty {
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
        case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &random)))
        case 2:
            let end = min(bytes.count, at + Int.random(in: 1...200, using: &random))
            bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &random))
        case 3: bytes.insert(contentsOf: interesting.randomElement(using: &random)!, at: at)
        case 4: bytes = Array(bytes.prefix(at))
        default: bytes[at] = UInt8.random(in: 0...255, using: &random)
        }
    }
    return bytes
}

@Suite("Fuzzing the workflow loader")
struct WorkflowFuzzTests {
    static var cases: Int { ProcessInfo.processInfo.environment["ACCORD_SOAK"] == "1" ? 20_000 : 1_500 }

    @Test("mutated roadmaps: each loads or is refused with diagnostics that name the file; none crashes or hangs")
    func mutatedWorkflows() throws {
        let seeds = Resources.files.filter { $0.path.hasPrefix("workflows/") }.map(\.bytes)
        try #require(!seeds.isEmpty)
        var random = SplitMix64(state: 42)
        var loaded = 0
        var refused = 0
        var slowest = 0.0
        for n in 0..<Self.cases {
            let seed = seeds[n % seeds.count]
            let bytes = mutate(seed, using: &random, rounds: Int.random(in: 1...8, using: &random))
            let start = DispatchTime.now()
            switch WorkflowLoader.load(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml") {
            case .success: loaded += 1
            case .failure(let invalid):
                refused += 1
                #expect(!invalid.diagnostics.isEmpty, "case \(n): refused without a diagnostic")
                #expect(invalid.diagnostics.allSatisfy { $0.description.hasPrefix("fuzz.yaml") }, "case \(n): \(invalid)")
            }
            slowest = max(slowest, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        }
        print(
            "workflow fuzz: \(Self.cases) mutated files, \(loaded) loaded, \(refused) refused with diagnostics, 0 crashes; slowest \(String(format: "%.3f", slowest)) s"
        )
        #expect(slowest < 5, "a mutated file took \(slowest) s")
    }

    @Test("a billion-laughs document, deep nesting and a huge scalar are refused quickly")
    func hostileDocuments() {
        var laughs = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        for i in 1...9 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let documents = [
            ("billion laughs", laughs),
            ("deep nesting", String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)),
            ("a huge scalar", "id: " + String(repeating: "x", count: 5_000_000)),
            ("null bytes", "id: a\u{0}b\nversion: 1\n"),
        ]
        for (name, yaml) in documents {
            let start = DispatchTime.now()
            guard case .failure(let invalid) = WorkflowLoader.load(yaml: yaml, file: "evil.yaml") else {
                Issue.record("\(name) was accepted")
                continue
            }
            #expect(!invalid.diagnostics.isEmpty, "\(name)")
            #expect(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 < 5, "\(name) took too long")
        }
    }
}
