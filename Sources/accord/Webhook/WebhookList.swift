import AccordStore
import ArgumentParser
import Foundation

/// `accord webhook list`.
struct WebhookList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List webhooks with their delivery counts.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let hooks = try await withStore(database) { try await $0.webhooks(actor: acting.actor) }
        if output.json { return try printJSON(hooks) }
        printTable(
            ["id", "format", "program", "topics", "delivered", "pending", "failed", "url"],
            hooks.map {
                [
                    String($0.id), $0.format.rawValue, $0.program.orDash, $0.topics.isEmpty ? "all" : $0.topics.joined(separator: ","),
                    String($0.delivered),
                    String($0.pending), String($0.failed), $0.url,
                ]
            }
        )
    }
}
