import AccordStore
import ArgumentParser
import Foundation

/// `accord user add HANDLE --name "Full Name"`.
struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a person. The first person added is an administrator; after that, an administrator adds people.",
        discussion:
            "The password is read from standard input (--password-stdin) or a no-echo prompt, never from the command line; it is stored as a bcrypt hash."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "A short handle: lowercase letters, digits, '.', '_', '-'.") var handle: String
    @Option(help: "The full name, printed on signatures.") var name: String
    @Option(help: "An e-mail address.") var email: String?
    @Flag(help: "Make the person an administrator.") var admin = false
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

    func run() async throws {
        let password = try readPassword(fromStdin: passwordStdin, confirm: true)
        let person = try await withStore(database) { store in
            try await store.addPerson(handle: handle, name: name, email: email, admin: admin, password: password, actor: acting.actor)
        }
        print("added \(person.handle) (\(person.name))\(person.isAdmin ? ", administrator" : "")")
        if password == nil {
            FileHandle.standardError.write(Data("note: no password set, so \(person.handle) cannot log in or sign yet\n".utf8))
        }
    }
}
