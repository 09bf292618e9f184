import AccordStore
import ArgumentParser

/// `accord user list`.
struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List people.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let people = try await withStore(database) { try await $0.people() }
        if output.json { return try printJSON(people) }
        printTable(
            ["HANDLE", "NAME", "EMAIL", "ADMIN", "CAN SIGN"],
            people.map { [$0.handle, $0.name, $0.email.orDash, $0.isAdmin ? "yes" : "no", $0.canSign ? "yes" : "no"] }
        )
    }
}
