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
    @Flag(
        help:
            "Invite instead: no password now; a one-time link (72 hours) to set it is mailed to --email and printed once (administrators)."
    )
    var invite = false

    func run() async throws {
        if invite {
            guard email != nil else { throw CommandFailure("--invite mails the link: give the person's --email") }
            guard !passwordStdin else { throw CommandFailure("--invite and --password-stdin exclude each other: the person chooses the password") }
            let (person, link) = try await withStore(database) { store in
                try await store.invitePerson(handle: handle, name: name, email: email, admin: admin, actor: acting.actor)
            }
            print(
                "invited \(person.handle) (\(person.name))\(person.isAdmin ? ", administrator" : ""): a link to set the password is mailed to \(email ?? "")"
            )
            print("link (shown once, until \(ISO8601DateFormatter().string(from: link.expiresAt))): /set-password/\(link.token)")
            return
        }
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
