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
