import AccordStore
import ArgumentParser

/// `accord delegate list PROGRAM`.
struct DelegateList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's delegations.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String

    func run() async throws {
        let list = try await withStore(database) { try await $0.delegations(program: program, actor: acting.actor) }
        if output.json { return try printJSON(list) }
        printTable(
            ["ID", "ROLE", "FROM", "TO", "UNTIL", "STATUS", "REASON"],
            list.map {
                [String($0.id), $0.role, $0.from, $0.to, $0.validUntil, $0.revoked ? "revoked" : ($0.active ? "active" : "expired"), $0.reason]
            }
        )
    }
}
