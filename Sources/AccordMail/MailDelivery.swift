import AccordResources
public import AccordStore
public import Foundation
import Mustache
import NIOPosix

/// Words outgoing messages with the mail templates beside the pages (`mail.txt`, `mail.html`), times in
/// the recipient's time zone, links to the site.
public struct MailRenderer: Sendable {
    let library: MustacheLibrary
    /// The settings whose site and From address the messages use.
    public let settings: MailSettings

    /// The renderer over the templates compiled into the binary.
    public init(settings: MailSettings) throws {
        var library = MustacheLibrary()
        for file in Resources.templates where file.name.hasPrefix("mail.") && file.name.hasSuffix(".mustache") {
            try library.register(file.text, named: String(file.name.dropLast(".mustache".count)))
        }
        self.library = library
        self.settings = settings
    }

    /// One outbox message as it is sent.
    public func message(_ mail: OutgoingMail) -> MailMessage {
        let link = mail.body.path.map { settings.publicURL + $0.replacing("{secret}", with: mail.secret ?? "") }
        let view = MailView(
            name: mail.name,
            subject: mail.subject,
            lines: mail.body.lines.filter { !$0.isEmpty },
            link: link,
            linkLabel: mail.body.linkLabel ?? "Open Accord",
            reason: mail.body.reason.isEmpty ? "you have an account in Accord" : mail.body.reason,
            deadline: mail.body.deadline.map { localTime($0, zone: mail.timeZone) },
            items: (mail.body.items ?? []).map {
                MailView.Item(
                    subject: $0.subject,
                    link: $0.path.map { settings.publicURL + $0 },
                    lateText: $0.late.flatMap { $0 > 0 ? "\($0) day\($0 == 1 ? "" : "s") late" : nil },
                    summary: $0.summary
                )
            },
            preferences: settings.publicURL + "/account/notifications"
        )
        return MailMessage(
            id: mail.id.uuidString.lowercased(),
            from: settings.from,
            to: MailAddress(name: mail.name, address: mail.address),
            subject: mail.subject,
            date: Date(),
            thread: mail.thread,
            unsubscribe: mail.kind == .account ? nil : view.preferences,
            text: library.render(view, withTemplate: "mail.txt") ?? view.lines.joined(separator: "\n\n"),
            html: library.render(view, withTemplate: "mail.html") ?? ""
        )
    }
}

/// What the mail templates read.
struct MailView {
    struct Item {
        var subject: String
        var link: String?
        var lateText: String?
        var summary: String
    }
    var name: String
    var subject: String
    var lines: [String]
    var link: String?
    var linkLabel: String
    var reason: String
    var deadline: String?
    var items: [Item]
    var hasItems: Bool { !items.isEmpty }
    var preferences: String
}

/// `2026-12-04 09:30 (Europe/Paris)`: a moment in a person's time zone (an IANA name), the zone named as
/// the person chose it (Foundation would call UTC "GMT").
public func localTime(_ date: Date, zone: String) -> String {
    let format = DateFormatter()
    format.locale = Locale(identifier: "en_US_POSIX")
    format.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")
    format.dateFormat = "yyyy-MM-dd HH:mm"
    return "\(format.string(from: date)) (\(zone))"
}

/// The mail consumer of the outbox: leases what is due, words it, sends it over one SMTP connection,
/// records each outcome. Any number of instances may run it: the lease holds each message for one.
public enum MailDelivery {
    /// Sends every message due at `now` and returns how many were sent and how many attempts failed.
    public static func deliver(store: Store, renderer: MailRenderer, now: Date = Date()) async throws -> (sent: Int, failed: Int) {
        var sent = 0
        var failed = 0
        while true {
            let batch = try await store.claimMail(now: now)
            if batch.isEmpty { break }
            let messages = batch.map { renderer.message($0) }
            let settings = renderer.settings
            let replies = try await NIOThreadPool.singleton.runIfActive { () -> [SMTPReply] in
                do {
                    let session = try SMTPSession(settings: settings)
                    return messages.map { session.send($0) }
                } catch {
                    return messages.map { _ in SMTPReply(code: 0, text: "\(error)", outcome: .temporary("\(error)")) }
                }
            }
            for (mail, reply) in zip(batch, replies) {
                try await store.recordMailOutcome(mail, reply.outcome, now: now)
                if case .sent = reply.outcome { sent += 1 } else { failed += 1 }
            }
            // A server that is down fails the whole batch: stop, and let the backoff space the retries.
            if replies.allSatisfy({ $0.code == 0 }) { break }
        }
        return (sent, failed)
    }

    /// Sends one test message to `address` at once, outside the outbox, and returns the server's answer.
    public static func test(to address: String, renderer: MailRenderer) async throws -> SMTPReply {
        guard MailSettings.isAddress(address) else { throw MailError("'\(address)' is not an e-mail address") }
        let lines = [
            "This is a test message from Accord. Mail works: reminders, sign-off requests, escalations and digests will reach people.",
            "Sent through \(renderer.settings.url) from \(renderer.settings.from.address).",
        ]
        let view = MailView(
            name: address,
            subject: "Accord test message",
            lines: lines,
            link: renderer.settings.publicURL + "/",
            linkLabel: "Open Accord",
            reason: "an administrator ran accord mail test",
            deadline: nil,
            items: [],
            preferences: renderer.settings.publicURL + "/account/notifications"
        )
        let message = MailMessage(
            id: UUID().uuidString.lowercased(),
            from: renderer.settings.from,
            to: MailAddress(address: address),
            subject: view.subject,
            date: Date(),
            thread: nil,
            unsubscribe: nil,
            text: renderer.library.render(view, withTemplate: "mail.txt") ?? lines.joined(separator: "\n\n"),
            html: renderer.library.render(view, withTemplate: "mail.html") ?? ""
        )
        let settings = renderer.settings
        return try await NIOThreadPool.singleton.runIfActive { try SMTPSession(settings: settings).send(message) }
    }
}
