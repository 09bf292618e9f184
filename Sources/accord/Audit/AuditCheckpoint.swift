import AccordStore
import ArgumentParser
import Foundation

/// `accord audit checkpoint [--program P]`.
struct AuditCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print a signed checkpoint (chain, position, head hash, time) to keep outside the database; one JSON object per line."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(help: "The program (default: every chain; administrators).") var program: String?

    func run() async throws {
        let checkpoints = try await withStore(database) { try await $0.checkpoints(program: program, actor: acting.actor) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for checkpoint in checkpoints { print(String(decoding: try encoder.encode(checkpoint), as: UTF8.self)) }
    }
}
