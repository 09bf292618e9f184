import AccordCore
import AccordPack
import AccordStore
import ArgumentParser
import Foundation

/// `accord verify-pack pack.zip`: offline, no database.
struct VerifyPack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-pack",
        abstract: "Check an evidence pack offline: every file, every audit link, every signature's evidence, the checkpoint (exit 2 on any problem)."
    )
    @Argument(help: "The pack.") var pack: String
    @Option(
        help: ArgumentHelp(
            "A file holding the audit key (hex or base64), to check the seal, checkpoint and signature MACs too; ACCORD_AUDIT_KEY works as well.",
            valueName: "file"
        )
    )
    var key: String?
    @OptionGroup var output: JSONOption

    func run() async throws {
        var auditKey: AuditKey?
        if let key {
            guard let parsed = AuditKeyFile.parse(try readTextFile(key)) else {
                throw CommandFailure("'\(key)' does not hold an audit key (32 or more bytes, hex or base64)")
            }
            auditKey = parsed
        } else if let text = ProcessInfo.processInfo.environment["ACCORD_AUDIT_KEY"], !text.isEmpty {
            guard let parsed = AuditKeyFile.parse(text) else { throw CommandFailure("ACCORD_AUDIT_KEY does not hold an audit key") }
            auditKey = parsed
        }
        guard FileManager.default.fileExists(atPath: pack) else { throw CommandFailure("no file '\(pack)'") }
        let result = verifyPack(path: pack, key: auditKey)
        if output.json {
            try printJSON(result)
        } else {
            let (out, err) = result.lines(for: pack, keyID: auditKey?.id)
            for line in out { print(line) }
            for line in err { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        if !result.ok { throw ExitCode(2) }
    }
}
