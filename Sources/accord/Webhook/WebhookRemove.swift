import AccordStore
import ArgumentParser
import Foundation

/// `accord webhook remove ID`.
struct WebhookRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a webhook; its undelivered events are given up.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The webhook's id.") var id: Int64

    func run() async throws {
        try await withStore(database) { try await $0.removeWebhook(id, actor: acting.actor) }
        print("webhook \(id) removed")
    }
}
