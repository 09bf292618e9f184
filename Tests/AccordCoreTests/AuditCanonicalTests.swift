import AccordCore
import Testing

/// The canonical encoding written the plain way, as docs/integrity.md states it.
private func reference(_ e: AuditEntryContent) -> [UInt8] {
    var out = Array("accord-audit-v1;".utf8)
    for value in [e.chain, String(e.seq), String(e.recordedAtMicros), e.actor, e.action, e.objectType, e.objectID, e.before, e.after, e.reason] {
        guard let value else {
            out += Array("~;".utf8)
            continue
        }
        out += Array("\(value.utf8.count):".utf8) + Array(value.utf8) + [UInt8(ascii: ";")]
    }
    return out
}

@Suite("The audit entry's canonical encoding")
struct AuditCanonicalTests {
    @Test("the fast encoder writes exactly the documented bytes, for every kind of field")
    func matchesReference() {
        let texts: [String?] = [nil, "", "a", "ünïcødé ✓", "{\"k\": [1, 2, \"x;y\"]}", String(repeating: "long;", count: 500)]
        let numbers: [Int64] = [0, 1, 9, 10, 99, 100, 1_795_000_000_123_456, -1, -1_000_000, Int64.max, Int64.min + 1]
        var checked = 0
        for (i, number) in numbers.enumerated() {
            for (j, text) in texts.enumerated() {
                let entry = AuditEntryContent(
                    chain: "program:acme",
                    seq: Int64(i * 7 + j),
                    recordedAtMicros: number,
                    actor: text ?? "system",
                    action: "task.sign",
                    objectType: text,
                    objectID: texts[(j + 1) % texts.count],
                    before: texts[(j + 2) % texts.count],
                    after: text,
                    reason: texts[(j + 3) % texts.count]
                )
                #expect(entry.canonicalBytes == reference(entry), "\(number) \(String(describing: text))")
                // The byte-level writer `accord audit verify` uses gives the same bytes and hash.
                var writer = AuditCanonicalWriter()
                writer.begin()
                writer.field(Array(entry.chain.utf8))
                writer.number(entry.seq)
                writer.number(entry.recordedAtMicros)
                for value in [entry.actor, entry.action, entry.objectType, entry.objectID, entry.before, entry.after, entry.reason] as [String?] {
                    writer.field(value.map { Array($0.utf8) })
                }
                #expect(writer.bytes == reference(entry), "\(number) \(String(describing: text))")
                #expect(writer.hash(previous: [1, 2, 3]) == entry.hash(previous: [1, 2, 3]))
                checked += 1
            }
        }
        #expect(checked == numbers.count * texts.count)
    }
}
