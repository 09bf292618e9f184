// accord-verify-pack: an evidence pack's verifier on its own, for an auditor. It links AccordPack and
// AccordCore only (no libpq, no server): copy the binary, the pack and, to check the MACs, the audit key.
import AccordCore
import AccordPack
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: accord-verify-pack PACK.zip [--key FILE]   (or ACCORD_AUDIT_KEY; exit 0 ok, 2 problems, 64 usage, 1 error)"

func fail(_ message: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(Data("accord-verify-pack: \(message)\n".utf8))
    exit(code)
}

var pack: String?
var keyFile: String?
var index = 0
while index < arguments.count {
    switch arguments[index] {
    case "--key":
        guard index + 1 < arguments.count else { fail("--key needs a file\n\(usage)", 64) }
        keyFile = arguments[index + 1]
        index += 2
    case "-h", "--help":
        print(usage)
        exit(0)
    case let value where !value.hasPrefix("-") && pack == nil:
        pack = value
        index += 1
    default:
        fail("unexpected '\(arguments[index])'\n\(usage)", 64)
    }
}
guard let pack else { fail("name the pack\n\(usage)", 64) }

var key: AuditKey?
if let keyFile {
    guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else { fail("cannot read '\(keyFile)'", 1) }
    guard let parsed = AuditKey(text: text) else { fail("'\(keyFile)' does not hold an audit key (32 or more bytes, hex or base64)", 1) }
    key = parsed
} else if let text = ProcessInfo.processInfo.environment["ACCORD_AUDIT_KEY"], !text.isEmpty {
    guard let parsed = AuditKey(text: text) else { fail("ACCORD_AUDIT_KEY does not hold an audit key", 1) }
    key = parsed
}
let result = verifyPack(path: pack, key: key)
let (out, err) = result.lines(for: pack, keyID: key?.id)
for line in out { print(line) }
for line in err { FileHandle.standardError.write(Data((line + "\n").utf8)) }
exit(result.ok ? 0 : 2)
