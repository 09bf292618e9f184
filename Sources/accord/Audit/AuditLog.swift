import AccordStore
import ArgumentParser
import Foundation

/// `accord audit log [--program P]`.
struct AuditLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print a program's audit entries (or the organisation-wide ones), oldest first."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Option(help: "The program (default: organisation-wide entries; administrators).") var program: String?

    func run() async throws {
        let entries = try await withStore(database) { store in try await store.auditLog(program: program, actor: acting.actor) }
        if output.json { return try printJSON(entries) }
        let format = ISO8601DateFormatter()
        for e in entries {
            var line = "\(e.seq)  \(format.string(from: e.recordedAt))  \(e.actor)  \(e.action)"
            if let object = e.objectID { line += "  \(object)" }
            if let reason = e.reason { line += "  (\(reason))" }
            print(line + "  \(e.hash.prefix(16))")
        }
    }
}
