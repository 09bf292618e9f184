import AccordStore
public import ArgumentParser
import Foundation

/// `accord webhook add URL [--program P] [--topic T ...]`.
struct WebhookAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a webhook; its signing secret is printed once.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The http(s) URL events are POSTed to.") var url: String
    @Option(help: "Only events of this program.") var program: String?
    @Option(help: ArgumentHelp("Only this topic (repeatable): \(webhookTopics.joined(separator: ", ")).", valueName: "topic")) var topic: [String] =
        []

    @Option(help: "standard (the JSON event), slack (an incoming-webhook message) or teams (a workflow message with an Adaptive Card).")
    var format: WebhookFormat = .standard

    func run() async throws {
        let webhook = try await withStore(database) {
            try await $0.addWebhook(url: url, program: program, topics: topic, format: format, actor: acting.actor)
        }
        print(
            "webhook \(webhook.id) -> \(webhook.url) (\(webhook.format.rawValue); \(webhook.program ?? "every program"); \(webhook.topics.isEmpty ? "every topic" : webhook.topics.joined(separator: ", ")))"
        )
        print("signing secret (shown once; receivers verify webhook-signature with it, the Standard Webhooks way): \(webhook.secret ?? "")")
    }
}

extension WebhookFormat: ExpressibleByArgument {}
