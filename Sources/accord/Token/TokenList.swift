import AccordStore
import ArgumentParser
import Foundation

/// `accord token list`.
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List your tokens (administrators: everyone's), never the secrets."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let tokens = try await withStore(database) { try await $0.tokens(actor: acting.actor) }
        if output.json { return try printJSON(tokens) }
        let format = ISO8601DateFormatter()
        printTable(
            ["ID", "PERSON", "NAME", "CREATED", "EXPIRES", "STATUS", "ACCESS", "LAST USED"],
            tokens.map {
                [
                    String($0.id), $0.person, $0.name, format.string(from: $0.createdAt), $0.expiresAt.map(format.string) ?? "-",
                    $0.revoked ? "revoked" : "active", $0.readOnly ? "read-only" : "read-write",
                    $0.lastUsedAt.map(format.string) ?? "-",
                ]
            }
        )
    }
}
