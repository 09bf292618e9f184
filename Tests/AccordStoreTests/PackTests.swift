import AccordCore
import AccordPack
import AccordReports
import AccordTestSupport
import Crypto
import Foundation
import Postgres
import Testing

@testable import AccordStore

/// A pack's entries by name, read back in full (test packs are small).
func packEntries(_ path: String) throws -> [(String, [UInt8])] {
    let reader = try PackZipReader(path: path)
    defer { reader.close() }
    return try reader.entries.map { ($0.name, try reader.bytes($0)) }
}

/// Rewrites a pack as an attacker with a ZIP tool would: valid ZIP, CRCs right, one part changed.
/// With `reseal`, the manifest is recomputed for the changed files and the seal for the manifest
/// (all a forger without the audit key can do).
func rewritePack(_ source: String, to target: String, reseal: Bool, _ change: (inout [(String, [UInt8])]) throws -> Void) async throws {
    var entries = try packEntries(source)
    try change(&entries)
    if reseal, let m = entries.firstIndex(where: { $0.0 == "manifest.json" }), let s = entries.firstIndex(where: { $0.0 == "seal.json" }) {
        var manifest = try packDecoder().decode(PackManifest.self, from: Data(entries[m].1))
        manifest.files = entries.filter { $0.0 != "manifest.json" && $0.0 != "seal.json" }.map {
            PackManifest.File(path: $0.0, size: UInt64($0.1.count), sha256: hexString(Array(SHA256.hash(data: $0.1))))
        }
        entries[m].1 = Array(try packEncoder().encode(manifest))
        var seal = try packDecoder().decode(PackSeal.self, from: Data(entries[s].1))
        seal.manifestSHA256 = hexString(Array(SHA256.hash(data: entries[m].1)))
        entries[s].1 = Array(try packEncoder().encode(seal))
    }
    let writer = try PackZipWriter(path: target, time: Date())
    for (name, bytes) in entries { try await writer.add(name, bytes: bytes) }
    try writer.finish()
}

func replacing(_ bytes: [UInt8], _ old: String, _ new: String) throws -> [UInt8] {
    let text = String(decoding: bytes, as: UTF8.self)
    guard text.contains(old) else { throw PackZipError("'\(old)' not found") }
    return Array(text.replacingOccurrences(of: old, with: new).utf8)
}

@Suite("The evidence pack")
struct PackTests {
    @Test("a pack verifies offline, and fails after each kind of tampering")
    func exportVerifyTamper() async throws {
        try await TestDatabase.with { db in
            // Evidence larger than the 1 MiB slices the export streams in.
            let store = Store(pool: db.pool, location: .url(db.conninfo), auditKey: testAuditKey, maxEvidenceBytes: 8 << 20, passwordCost: 4)
            try await seededRoadmap(store)
            _ = try await store.addEvidence(
                to: "acme/ai-policy",
                fileName: "policy v1.pdf",
                bytes: Array("%PDF policy draft".utf8),
                title: "AI policy",
                actor: "ada"
            )
            _ = try await store.addEvidence(
                to: "acme/ai-policy",
                fileName: "policy v2.pdf",
                bytes: Array(repeating: 7, count: 3 << 20),
                title: "AI policy",
                actor: "ada"
            )
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-pack-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("acme.zip").path
            await expectRefusal(.notFound, containing: "no program 'acme'") {
                _ = try await store.exportPack(program: "acme", to: path, actor: "nemo")
            }
            let pack = try await store.exportPack(program: "acme", to: path, actor: "grace")
            #expect(pack.evidenceFiles == 2)
            #expect(pack.evidenceBytes == UInt64(17 + (3 << 20)))
            #expect(pack.signatures == 2)

            let clean = verifyPack(path: path, key: testAuditKey)
            #expect(clean.ok, "\(clean.problems)")
            #expect(clean.macsChecked && clean.checkpointChecked)
            #expect(clean.evidence == 2 && clean.signatures == 2)
            #expect(clean.auditEntries > 10)
            #expect(verifyPack(path: path, key: nil).ok)
            let names = try packEntries(path).map(\.0)
            for expected in [
                "manifest.json", "seal.json", "evidence.json", "signatures.json", "audit/program.jsonl", "audit/checkpoint.json", "index.html",
                "reports/soa.json", "reports/soa.csv", "reports/crosswalk.csv", "reports/status.csv", "reports/accountability.json",
                "reports/overdue.csv", "systems.json",
            ] {
                #expect(names.contains(expected), "\(expected)")
            }
            let index = String(decoding: try #require(try packEntries(path).first { $0.0 == "index.html" }).1, as: UTF8.self)
            #expect(index.contains("ACME, &quot;AI&quot; compliance") && !index.contains("<script") && !index.contains("http"))
            #expect(index.contains("iso42001:A.2.2"))

            func tampered(
                _ name: String,
                reseal: Bool = true,
                key: AuditKey? = nil,
                _ change: (inout [(String, [UInt8])]) throws -> Void
            ) async throws -> [String] {
                let target = folder.appendingPathComponent(name).path
                try await rewritePack(path, to: target, reseal: reseal, change)
                return verifyPack(path: target, key: key).problems
            }
            // A changed evidence byte: caught by the manifest; resealed, by the SHA-256 recorded at upload.
            var problems = try await tampered("evidence.zip", reseal: false) { entries in
                let i = entries.firstIndex { $0.0.hasSuffix("policy_v1.pdf") }!
                entries[i].1[1] ^= 0x20
            }
            #expect(problems.contains { $0.contains("policy_v1.pdf' does not match the manifest") }, "\(problems)")
            problems = try await tampered("evidence-resealed.zip") { entries in
                let i = entries.firstIndex { $0.0.hasSuffix("policy_v1.pdf") }!
                entries[i].1[1] ^= 0x20
            }
            #expect(problems.contains { $0.contains("does not match the SHA-256 recorded at upload") }, "\(problems)")
            // An edited manifest: caught by the seal; a forged seal, by its MAC.
            problems = try await tampered("manifest.zip", reseal: false) { entries in
                let i = entries.firstIndex { $0.0 == "manifest.json" }!
                entries[i].1 = try replacing(entries[i].1, "\"exportedBy\" : \"grace\"", "\"exportedBy\" : \"mallory\"")
            }
            #expect(problems.contains { $0.contains("manifest.json does not match the SHA-256 in seal.json") }, "\(problems)")
            problems = try await tampered("manifest-forged.zip", key: testAuditKey) { entries in
                let i = entries.firstIndex { $0.0 == "manifest.json" }!
                entries[i].1 = try replacing(entries[i].1, "\"exportedBy\" : \"grace\"", "\"exportedBy\" : \"mallory\"")
            }
            #expect(problems.contains { $0.contains("seal.json's MAC does not match") }, "\(problems)")
            // A removed chain line.
            problems = try await tampered("chain.zip") { entries in
                let i = entries.firstIndex { $0.0 == "audit/program.jsonl" }!
                var lines = String(decoding: entries[i].1, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                lines.remove(at: 3)
                entries[i].1 = Array(lines.joined(separator: "\n").utf8)
            }
            #expect(problems.contains { $0.contains("audit: entry 5 stands at position 4") }, "\(problems)")
            // A cut tail: the chain still links, the checkpoint catches it.
            problems = try await tampered("tail.zip") { entries in
                let i = entries.firstIndex { $0.0 == "audit/program.jsonl" }!
                var lines = String(decoding: entries[i].1, as: UTF8.self).split(separator: "\n").map(String.init)
                lines.removeLast()
                entries[i].1 = Array((lines.joined(separator: "\n") + "\n").utf8)
            }
            #expect(problems.contains { $0.contains("the chain was cut or rewritten") }, "\(problems)")
            // An altered signature: what it signed (caught without the key), or its decision (caught by its MAC).
            problems = try await tampered("signature-subject.zip") { entries in
                let i = entries.firstIndex { $0.0 == "signatures.json" }!
                var signatures = try packDecoder().decode([PackSignature].self, from: Data(entries[i].1))
                signatures[0].subject.evidenceVersion += 1
                entries[i].1 = Array(try packEncoder().encode(signatures))
            }
            #expect(problems.contains { $0.contains("what it signed does not match its subject hash") }, "\(problems)")
            problems = try await tampered("signature-decision.zip", key: testAuditKey) { entries in
                let i = entries.firstIndex { $0.0 == "signatures.json" }!
                var signatures = try packDecoder().decode([PackSignature].self, from: Data(entries[i].1))
                signatures[0].decision = .reject
                entries[i].1 = Array(try packEncoder().encode(signatures))
            }
            #expect(problems.contains { $0.contains("does not match its MAC") }, "\(problems)")
            // An added file.
            problems = try await tampered("added.zip", reseal: false) { entries in entries.append(("evidence/99-extra.pdf", [1, 2, 3])) }
            #expect(problems.contains { $0.contains("not in the manifest: it was added") }, "\(problems)")
        }
    }

    @Test("one changed byte anywhere in the pack fails verification")
    func everyByteCounts() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.addEvidence(
                to: "acme/ai-policy",
                fileName: "policy.pdf",
                bytes: Array("%PDF policy".utf8),
                title: "AI policy",
                actor: "ada"
            )
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-flip-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("acme.zip").path
            _ = try await store.exportPack(program: "acme", to: path, actor: "ada")
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            var generator = SystemRandomNumberGenerator()
            // Every byte of the ZIP structure at the end, and random bytes everywhere else.
            let offsets =
                Array((original.count - 300)..<original.count) + (0..<300).map { _ in Int.random(in: 0..<original.count, using: &generator) }
            var passed: [Int] = []
            let target = folder.appendingPathComponent("flipped.zip")
            for offset in offsets {
                var copy = original
                copy[offset] ^= 0x01
                try copy.write(to: target)
                if verifyPack(path: target.path, key: nil).ok { passed.append(offset) }
            }
            #expect(passed.isEmpty, "flips at \(passed) went unnoticed")
            try Data(original.prefix(original.count - 1)).write(to: target)
            #expect(!verifyPack(path: target.path, key: nil).ok)
            try (original + Data([0])).write(to: target)
            #expect(!verifyPack(path: target.path, key: nil).ok)
            try Data("not a zip".utf8).write(to: target)
            #expect(
                verifyPack(path: target.path, key: nil).problems.first?.contains("not a ZIP file") == true
                    || !verifyPack(path: target.path, key: nil).ok
            )
        }
    }
}
