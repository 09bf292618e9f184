import AccordStore
import ArgumentParser

/// `accord role bind PROGRAM ROLE HANDLE...`.
struct RoleBind: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bind", abstract: "Give people a role in a program.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "The role key.") var role: String
    @Argument(help: "People's handles.") var handles: [String]

    func run() async throws {
        let members = try await withStore(database) { try await $0.bindRole(program: program, role: role, handles: handles, actor: acting.actor) }
        print("\(program) \(members.role): \(members.members.joined(separator: ", "))")
    }
}
