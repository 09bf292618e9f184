import AccordCore
import AccordMail
import AccordScheduler
import AccordStore
import ArgumentParser
import Foundation

/// `accord deadlines run-once [--at TIME]`.
struct DeadlinesRunOnce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-once",
        abstract: "One scheduler pass: fire due reminders and escalations, open due cycles, deliver webhooks. Safe to run beside other schedulers."
    )
    @OptionGroup var database: DatabaseOptions
    @Option(help: ArgumentHelp("Count deadlines as of this time (ISO 8601, or YYYY-MM-DD) instead of now.", valueName: "time")) var at: String?
    @Flag(help: "Do not deliver webhooks in this pass.") var noWebhooks = false
    @Flag(help: "Deliver webhooks to loopback and private addresses too (refused by default: blind SSRF).") var allowPrivateWebhooks = false
    @OptionGroup var mail: MailOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let now = try at.map(parseInstant) ?? Date()
        let renderer = try mail.renderer()
        let pass = try await withStore(database) { store in
            let deadlines = try await store.runDeadlines(now: now)
            let (delivered, failed) =
                noWebhooks ? (0, 0) : try await Scheduler.deliverWebhooks(store: store, now: Date(), allowPrivate: allowPrivateWebhooks)
            var mailed = (digests: 0, sent: 0, failed: 0)
            if let renderer {
                mailed.digests = try await store.makeDigests(now: now)
                (mailed.sent, mailed.failed) = try await MailDelivery.deliver(store: store, renderer: renderer, now: Date())
            }
            return (deadlines, delivered, failed, mailed)
        }
        if output.json { return try printJSON(pass.0) }
        let d = pass.0
        print(
            "deadlines as of \(d.today): \(d.examined) dated task(s) looked at; \(d.reminders) reminder(s), \(d.overdue) overdue notice(s), \(d.escalations) escalation(s) fired"
        )
        for f in d.fired {
            let what = f.kind == .escalation ? "escalation \(f.level) to \(f.toRole ?? "?")" : f.kind.rawValue
            print("  \(f.task)  \(what)  due \(f.dueOn)  -> \(f.recipients.isEmpty ? "nobody" : f.recipients.joined(separator: ", "))")
        }
        if !d.cyclesOpened.isEmpty { print("cycles opened: \(d.cyclesOpened.joined(separator: ", "))") }
        if !noWebhooks { print("webhooks: \(pass.1) delivered, \(pass.2) attempt(s) failed (retried later)") }
        if renderer != nil { print("mail: \(pass.3.sent) sent, \(pass.3.failed) attempt(s) failed, \(pass.3.digests) digest(s) made") }
    }
}

/// An instant from the command line: ISO 8601 with a zone, `YYYY-MM-DDTHH:MM[:SS]` (UTC), or `YYYY-MM-DD` (midnight UTC).
func parseInstant(_ text: String) throws -> Date {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    for format in [
        "yyyy-MM-dd'T'HH:mmXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    ] {
        formatter.dateFormat = format
        if let date = formatter.date(from: text) { return date }
    }
    throw CommandFailure("'\(text)' is not a time: write 2027-03-01T14:30:00Z, 2027-03-01T14:30 (UTC) or 2027-03-01")
}
