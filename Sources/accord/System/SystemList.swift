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
            ["SYSTEM", "ROLE", "RISK", "GPAI", "ANNEX III", "OWNER", "TASKS", "NAME"],
            systems.map {
                [
                    $0.slug, $0.operatorRole.rawValue, $0.riskClass.rawValue, $0.gpai ? "yes" : "no", $0.annexIII.map(String.init) ?? "-",
                    $0.owner.orDash, String($0.tasks), $0.name,
                ]
            }
        )
    }
}
