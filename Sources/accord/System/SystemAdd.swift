import AccordCore
import AccordStore
import ArgumentParser

/// `accord system add PROGRAM NAME --role R --risk C`.
struct SystemAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an AI system; the per-system tasks that apply to it appear in the program."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "The system's name.") var name: String
    @Option(help: "The organisation's role for it: provider, deployer, importer, distributor; repeat for several (in-house: provider and deployer).")
    var role: [OperatorRole]
    @Option(help: "Its AI Act risk class: prohibited, high, limited, minimal.") var risk: RiskClass
    @Flag(help: "It is (or builds on) a general-purpose AI model.") var gpai = false
    @Option(name: .customLong("annex-iii"), help: "The Annex III high-risk area, 1 to 8.") var annexIII: Int?
    @Option(help: "The handle of the system's owner.") var owner: String?
    @Option(help: "What the system is for.") var purpose: String?

    func run() async throws {
        guard let first = role.first else { throw ValidationError("give the organisation's role for the system with --role") }
        let system = NewAISystem(
            name: name,
            operatorRole: first,
            riskClass: risk,
            gpai: gpai,
            annexIII: annexIII,
            owner: owner,
            purpose: purpose,
            moreRoles: Array(role.dropFirst())
        )
        let added = try await withStore(database) { try await $0.addSystems(program: program, [system], actor: acting.actor) }
        for s in added {
            print(
                "added \(s.slug) (\(s.profile.roles.map(\.rawValue).joined(separator: " and ")), \(s.riskClass.rawValue) risk\(s.gpai ? ", GPAI" : "")): \(s.tasks) per-system task(s); classify it with 'accord system classify \(program) \(s.slug)'"
            )
        }
    }
}
