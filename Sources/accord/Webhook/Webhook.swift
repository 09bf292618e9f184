import AccordStore
import ArgumentParser
import Foundation

/// `accord webhook`: receivers of events.
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Send events (reminders, escalations, cycles, findings, incidents) as signed JSON to other systems (administrators).",
        subcommands: [WebhookAdd.self, WebhookList.self, WebhookRemove.self]
    )
}

/// `accord webhook add URL [--program P] [--topic T ...]`.
struct WebhookAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a webhook; its signing secret is printed once.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The http(s) URL events are POSTed to.") var url: String
    @Option(help: "Only events of this program.") var program: String?
    @Option(help: ArgumentHelp("Only this topic (repeatable): \(webhookTopics.joined(separator: ", ")).", valueName: "topic")) var topic: [String] = []

    func run() async throws {
        let webhook = try await withStore(database) { try await $0.addWebhook(url: url, program: program, topics: topic, actor: acting.actor) }
        print("webhook \(webhook.id) -> \(webhook.url) (\(webhook.program ?? "every program"); \(webhook.topics.isEmpty ? "every topic" : webhook.topics.joined(separator: ", ")))")
        print("signing secret (shown once; receivers check Accord-Signature with it): \(webhook.secret ?? "")")
    }
}

/// `accord webhook list`.
struct WebhookList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List webhooks with their delivery counts.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let hooks = try await withStore(database) { try await $0.webhooks(actor: acting.actor) }
        if json { return try printJSON(hooks) }
        printTable(["id", "program", "topics", "delivered", "pending", "failed", "url"], hooks.map {
            [String($0.id), $0.program.orDash, $0.topics.isEmpty ? "all" : $0.topics.joined(separator: ","), String($0.delivered), String($0.pending), String($0.failed), $0.url]
        })
    }
}

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
