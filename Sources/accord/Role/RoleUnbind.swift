import AccordStore
import ArgumentParser

/// `accord role unbind PROGRAM ROLE HANDLE...`.
struct RoleUnbind: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unbind", abstract: "Take a role in a program away from people.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "The role key.") var role: String
    @Argument(help: "People's handles.") var handles: [String]

    func run() async throws {
        let members = try await withStore(database) { try await $0.unbindRole(program: program, role: role, handles: handles, actor: acting.actor) }
        print("\(program) \(members.role): \(members.members.isEmpty ? "nobody" : members.members.joined(separator: ", "))")
    }
}
