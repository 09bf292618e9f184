import AccordCore
import AccordStore
import ArgumentParser

/// `accord delegate --program P --from H --to H2 --role R --until DATE --reason R`, and its subcommands.
struct DelegateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate",
        abstract: "Let a deputy sign for a role while its holder is away; their signatures show 'on behalf of'.",
        subcommands: [DelegateCreate.self, DelegateList.self, DelegateRevoke.self],
        defaultSubcommand: DelegateCreate.self
    )
}

/// Creating a delegation (the default subcommand).
struct DelegateCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a delegation.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(help: "The program's slug.") var program: String
    @Option(help: "The role holder's handle.") var from: String
    @Option(help: "The deputy's handle.") var to: String
    @Option(help: "The role.") var role: String
    @Option(help: "The last day it is valid, YYYY-MM-DD.") var until: String
    @Option(help: "Why.") var reason: String

    func validate() throws {
        if CalendarDate(until) == nil { throw ValidationError("--until must be a date written YYYY-MM-DD") }
    }

    func run() async throws {
        let d = try await withStore(database) { store in
            try await store.delegate(
                program: program,
                role: role,
                from: from,
                to: to,
                until: CalendarDate(until)!,
                reason: reason,
                actor: acting.actor
            )
        }
        print("delegation \(d.id): \(d.to) signs for \(d.role) on behalf of \(d.from) in \(d.program) until \(d.validUntil)")
    }
}
