import ArgumentParser

/// `accord deadlines`: reminders, overdue notices and escalations.
struct DeadlinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadlines",
        abstract: "Run the deadline scheduler once (for cron, or to see what it would fire today).",
        subcommands: [DeadlinesRunOnce.self]
    )
}
