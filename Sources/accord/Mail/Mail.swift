import AccordMail
import AccordStore
import ArgumentParser
import Foundation

/// `accord mail`: the mail relay and the outbox.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "E-mail: test the relay, see the outbox, choose what you receive.",
        subcommands: [MailTest.self, MailStatus.self, MailPreferencesCommand.self]
    )
}

/// `accord mail test ADDRESS`: one message through the configured relay, and what the server answered.
struct MailTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send one test message to ADDRESS through the configured relay and print what the server answered."
    )
    @OptionGroup var mail: MailOptions
    @Argument(help: "Where to send it.") var address: String

    func run() async throws {
        guard let renderer = try mail.renderer() else {
            throw CommandFailure("mail is off: give --smtp-url (or ACCORD_SMTP_URL) and --mail-from (or ACCORD_MAIL_FROM)")
        }
        let reply: SMTPReply
        do {
            reply = try await MailDelivery.test(to: address, renderer: renderer)
        } catch let error as MailError {
            throw CommandFailure(error.description)
        }
        switch reply.outcome {
        case .sent: print("sent to \(address) through \(renderer.settings.url): the server answered \(reply.text)")
        case .temporary(let text): throw CommandFailure("not sent (temporary, would be retried): \(text)")
        case .permanent(let text): throw CommandFailure("refused by the server: \(text)")
        }
    }
}

/// `accord mail status`: the outbox's counts and the messages given up (administrators).
struct MailStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The outbox: messages sent, waiting, waiting for a digest, and those given up with the server's answer (administrators)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let (counts, failed) = try await withStore(database) { store in
            (try await store.mailCounts(actor: acting.actor), try await store.failedMail(actor: acting.actor))
        }
        if output.json { return try printJSON(["counts": AnyEncodable(counts), "failed": AnyEncodable(failed)]) }
        print("mail: \(counts.sent) sent, \(counts.waiting) waiting, \(counts.inDigest) waiting for a digest, \(counts.failed) given up")
        for mail in failed {
            print("  \(ISO8601DateFormatter().string(from: mail.failedAt))  \(mail.person) <\(mail.address)>  \(mail.subject)  -> \(mail.lastReply)")
        }
    }
}

/// Encodes any `Encodable` value, for a JSON object of mixed parts.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
