import AccordStore
import ArgumentParser

/// `accord role list PROGRAM`.
struct RoleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a program's roles and who holds them.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String

    func run() async throws {
        let roles = try await withStore(database) { try await $0.roles(program: program, actor: acting.actor) }
        if output.json { return try printJSON(roles) }
        printTable(
            ["ROLE", "TITLE", "KIND", "MEMBERS"],
            roles.map {
                [
                    $0.role, $0.title, [$0.leadership ? "leadership" : nil, $0.manager ? "manager" : nil].compactMap { $0 }.joined(separator: ", "),
                    $0.members.isEmpty ? "-" : $0.members.joined(separator: ", "),
                ]
            }
        )
    }
}
