import AccordTestSupport
import Foundation
import Testing

@Suite("The README tour's mail, through a real SMTP server", .serialized)
struct MailTourTests {
    @Test("a person added with an address receives the invitation, the sign-off request, the reminder and the escalation by mail")
    func tour() throws {
        let smtp = try SMTPTestServer()
        defer { smtp.remove() }
        var sandbox = try CLISandbox()
        sandbox.extraEnvironment = [
            "ACCORD_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "ACCORD_MAIL_FROM": "Accord <accord@example.com>",
            "ACCORD_PUBLIC_URL": "https://accord.example.com",
        ]
        defer { sandbox.tearDown() }
        func run(_ arguments: [String], stdin: String? = nil) throws -> CLIResult {
            let result = try sandbox.run(arguments, stdin: stdin)
            #expect(result.status == 0, "accord \(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }
        _ = try run(
            ["user", "add", "ada", "--name", "Ada Lovelace", "--email", "ada@example.com", "--admin", "--password-stdin"],
            stdin: "correct horse battery\n"
        )
        _ = try run(
            ["user", "add", "grace", "--name", "Grace Hopper", "--email", "grace@example.com", "--password-stdin", "--as", "ada"],
            stdin: "another long password\n"
        )
        _ = try run(["user", "add", "alan", "--name", "Alan Turing", "--password-stdin", "--as", "ada"], stdin: "another long password\n")
        let invited = try run(["user", "add", "kat", "--name", "Katherine Johnson", "--email", "kat@example.com", "--invite", "--as", "ada"])
        #expect(invited.stdout.contains("invited kat (Katherine Johnson): a link to set the password is mailed to kat@example.com"))
        let token = try #require(invited.stdout.split(separator: "/set-password/").last.map { String($0.prefix { !$0.isWhitespace }) })
        let noAddress = try sandbox.run(["user", "add", "bob", "--name", "Bob", "--invite", "--as", "ada"])
        #expect(noAddress.status != 0 && noAddress.stderr == "error: --invite mails the link: give the person's --email\n")

        _ = try run([
            "program", "start", "eu-ai-act-iso42001", "--title", "ACME AI compliance", "--slug", "acme", "--starts", "2026-09-01", "--as", "ada",
        ])
        for (role, handle) in [("aims-manager", "ada"), ("top-management", "grace"), ("legal", "alan"), ("risk-manager", "kat")] {
            _ = try run(["role", "bind", "acme", role, handle, "--as", "ada"])
        }
        _ = try run(["task", "assign", "acme/ai-inventory", "ada", "--as", "ada"])
        _ = try run(["task", "start", "acme/ai-inventory", "--as", "ada"])
        _ = try run(["task", "submit", "acme/ai-inventory", "--as", "ada"])
        _ = try run(["task", "submit", "acme/classify-systems", "--as", "alan"])  // in review: waits for ada's sign-off
        // A pass three weeks after the start reminds; today's escalates what is late.
        _ = try run(["deadlines", "run-once", "--at", "2026-09-16"])
        let pass = try run(["deadlines", "run-once", "--at", "2026-12-02"])
        #expect(pass.stdout.contains("mail: ") && pass.stdout.contains(" sent, 0 attempt(s) failed"), "\(pass.stdout)")

        let received = smtp.received()
        let invitation = try #require(
            received.first { $0.to == ["kat@example.com"] && $0.header("Subject") == "Your Accord account: set your password" }
        )
        #expect(invitation.decodedBody.contains("https://accord.example.com/set-password/\(token)"))
        let signoff = try #require(received.first { $0.to == ["ada@example.com"] && ($0.header("Subject") ?? "").contains("Sign-off requested") })
        #expect(signoff.decodedBody.contains("acme/classify-systems"))
        #expect(received.contains { ($0.header("Subject") ?? "").contains("] Reminder, due in ") }, "\(received.map { $0.header("Subject") ?? "" })")
        let escalations = received.filter { $0.to == ["grace@example.com"] && ($0.header("Subject") ?? "").contains("] Escalation level ") }
        #expect(!escalations.isEmpty && escalations[0].decodedBody.contains("you hold top-management in acme"))
        #expect(received.allSatisfy { $0.to.count == 1 }, "one recipient per message")
        #expect(!received.contains { $0.to == ["alan@example.com"] }, "alan has no address")

        // Sent once: another pass sends nothing again.
        let again = try run(["deadlines", "run-once", "--at", "2026-12-02"])
        #expect(again.stdout.contains("mail: 0 sent"), "\(again.stdout)")
        #expect(smtp.received().count == received.count)
        let status = try run(["mail", "status", "--as", "ada"])
        #expect(status.stdout.hasPrefix("mail: \(received.count) sent, 0 waiting"), "\(status.stdout)")
        let test = try run(["mail", "test", "ops@example.com"])
        #expect(test.stdout.hasPrefix("sent to ops@example.com through smtp://127.0.0.1:\(smtp.port): the server answered 250"))
        let refused = try sandbox.run(["mail", "preferences", "--set", "escalation=off", "--as", "grace"])
        #expect(refused.status != 0 && refused.stderr.contains("cannot be switched off"), "\(refused.stderr)")
    }
}
