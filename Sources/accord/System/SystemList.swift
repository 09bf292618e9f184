import AccordCore
import AccordStore
import ArgumentParser

/// `accord system list PROGRAM`.
struct SystemList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's AI systems.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String

    func run() async throws {
        let systems = try await withStore(database) { try await $0.systems(program: program, actor: acting.actor) }
        if output.json { return try printJSON(systems) }
        printTable(
            ["SYSTEM", "ROLES", "RISK", "GPAI", "ANNEX III", "OWNER", "TASKS", "CLASSIFIED", "NAME"],
            systems.map {
                [
                    $0.slug, $0.profile.roles.map(\.rawValue).joined(separator: "+"), $0.riskClass.rawValue, $0.gpai ? "yes" : "no",
                    $0.profile.annexIII ?? $0.annexIII.map(String.init) ?? "-", $0.owner.orDash, String($0.tasks),
                    $0.review == nil ? "yes" : "needs review", $0.name,
                ]
            }
        )
    }
}
