import Foundation
import Testing

/// Item 7 of the security review: `--as` names who the operator acts for; it is not authentication.
@Suite("The CLI's --as is not authentication", .serialized)
struct CLIAuthenticationTests {
    @Test("item 7: token create takes the owner's password or an audited administrator override; every CLI entry names the OS user")
    func tokenCreateNeedsProof() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        #expect(
            try sandbox.run(["user", "add", "ada", "--name", "Ada Admin", "--admin", "--password-stdin"], stdin: "correct horse battery\n").status
                == 0
        )
        #expect(
            try sandbox.run(["user", "add", "bob", "--name", "Bob Builder", "--password-stdin", "--as", "ada"], stdin: "bob's long password\n").status
                == 0
        )

        // Saying "--as bob" without bob's password mints nothing.
        let noPassword = try sandbox.run(["token", "create", "--as", "bob"])
        #expect(noPassword.status != 0)
        #expect(noPassword.stderr.hasPrefix("error: creating a token takes bob's password"), "\(noPassword.stderr)")
        let wrong = try sandbox.run(["token", "create", "--as", "bob", "--password-stdin"], stdin: "a guess at it\n")
        #expect(wrong.status == 5)
        #expect(wrong.stderr.hasPrefix("error: wrong password; no token was created"), "\(wrong.stderr)")
        let own = try sandbox.run(["token", "create", "--as", "bob", "--password-stdin"], stdin: "bob's long password\n")
        #expect(own.status == 0, "\(own.stderr)")
        #expect(own.stdout.hasPrefix("acc_"))
        // An administrator "as" someone else still needs that person's password, or an override.
        let forBob = try sandbox.run(["token", "create", "--as", "ada", "--user", "bob", "--password-stdin"], stdin: "correct horse battery\n")
        #expect(forBob.status == 5, "ada's password is not bob's")
        let notAdmin = try sandbox.run(["token", "create", "--as", "bob", "--admin-override", "just because"])
        #expect(notAdmin.status == 5)
        #expect(notAdmin.stderr.contains("only an administrator may override the password check"))
        let overridden = try sandbox.run([
            "token", "create", "--as", "ada", "--user", "bob", "--admin-override", "bob's laptop was lost; ticket 4711",
        ])
        #expect(overridden.status == 0, "\(overridden.stderr)")

        let log = try sandbox.run(["audit", "log", "--json", "--as", "ada"])
        #expect(log.status == 0, "\(log.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]] ?? []
        let tokens = entries.filter { $0["action"] as? String == "token.create" }
        #expect(tokens.count == 2)
        #expect(tokens.last?["reason"] as? String == "bob's laptop was lost; ticket 4711")
        #expect((tokens.last?["after"] as? String)?.contains("administrator-override") == true)
        let user = String(cString: getpwuid(geteuid())!.pointee.pw_name!)
        #expect(!entries.isEmpty)
        for entry in entries {
            #expect((entry["origin"] as? String)?.hasPrefix("cli user=\(user) ") == true, "\(entry)")
        }
        let verify = try sandbox.run(["audit", "verify", "--as", "ada"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
