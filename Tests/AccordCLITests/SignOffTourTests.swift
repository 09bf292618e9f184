import Foundation
import Testing

@Suite("The sign-off tour, run as a user would", .serialized)
struct SignOffTourTests {
    @Test("evidence, submit, own approval refused, two signers, done, verify passes; a superuser edit makes it fail naming the entry")
    func signOffTour() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        let password = "correct horse battery\n"
        #expect(try sandbox.run(["user", "add", "ada", "--name", "Ada Lovelace", "--password-stdin"], stdin: password).status == 0)
        for (handle, name) in [("grace", "Grace Hopper"), ("alan", "Alan Turing"), ("kat", "Katherine Johnson")] {
            #expect(try sandbox.run(["user", "add", handle, "--name", name, "--password-stdin", "--as", "ada"], stdin: password).status == 0)
        }
        #expect(try sandbox.run(["program", "start", "eu-ai-act-iso42001", "--title", "ACME", "--slug", "acme", "--as", "ada"]).status == 0)
        for (role, handles) in [("aims-manager", ["ada", "kat"]), ("top-management", ["grace", "kat"]), ("legal", ["alan"])] {
            #expect(try sandbox.run(["role", "bind", "acme", role] + handles + ["--as", "ada"]).status == 0)
        }
        for task in ["acme/ai-inventory", "acme/context", "acme/aims-scope"] where task != "acme/aims-scope" {
            #expect(try sandbox.run(["task", "submit", task, "--as", "ada"]).status == 0)
        }
        let memo = sandbox.home.appendingPathComponent("memo.txt")
        try "Provider of a high-risk CV screener (Annex III point 4).".write(to: memo, atomically: true, encoding: .utf8)
        let added = try sandbox.run(["evidence", "add", "acme/classify-systems", memo.path, "--title", "Classification memo", "--as", "alan"])
        #expect(added.stdout.contains("'Classification memo' version 1"), "\(added.stderr)")
        #expect(try sandbox.run(["task", "submit", "acme/classify-systems", "--as", "alan"]).stdout.contains("in_review"))
        let review = try sandbox.run(
            ["task", "sign", "acme/classify-systems", "--meaning", "review", "--password-stdin", "--as", "ada"],
            stdin: password
        )
        #expect(review.stdout.contains("is done: its approval policy is met"), "\(review.stderr)")

        #expect(try sandbox.run(["task", "assign", "acme/ai-policy", "kat", "--as", "ada"]).status == 0)
        #expect(try sandbox.run(["task", "assign", "acme/aims-scope", "kat", "--as", "ada"]).status == 0)
        #expect(try sandbox.run(["task", "submit", "acme/aims-scope", "--as", "kat"]).status == 0)
        let own = try sandbox.run(["task", "sign", "acme/aims-scope", "--password-stdin", "--as", "kat"], stdin: password)
        #expect(own.status == 5)
        #expect(own.stderr == "error: separation of duties: kat is the task's assignee and may not approve their own work (task 'acme/aims-scope')\n")
        let wrong = try sandbox.run(["task", "sign", "acme/aims-scope", "--password-stdin", "--as", "grace"], stdin: "not it\n")
        #expect(wrong.status == 5)
        #expect(wrong.stderr.hasPrefix("error: wrong password; nothing was signed"))
        #expect(
            try sandbox.run(["task", "sign", "acme/aims-scope", "--password-stdin", "--as", "grace"], stdin: password).stdout.contains("is done")
        )

        #expect(try sandbox.run(["task", "submit", "acme/ai-policy", "--as", "kat"]).status == 0)
        #expect(
            try sandbox.run(["task", "sign", "acme/ai-policy", "--password-stdin", "--as", "alan", "--meaning", "review"], stdin: password).stdout
                .contains("still needed: 1 of top-management")
        )
        let second = try sandbox.run(
            ["task", "sign", "acme/ai-policy", "--password-stdin", "--as", "grace", "--comment", "Approved for the board"],
            stdin: password
        )
        #expect(second.stdout.contains("acme/ai-policy is done"))
        let show = try sandbox.run(["task", "show", "acme/ai-policy", "--as", "ada"])
        #expect(show.stdout.contains("Grace Hopper  approved as top-management (approval)  signed version 0: Approved for the board"))

        let checkpoint = sandbox.home.appendingPathComponent("acme.checkpoint")
        let printed = try sandbox.run(["audit", "checkpoint", "--program", "acme", "--as", "ada"])
        try printed.stdout.write(to: checkpoint, atomically: true, encoding: .utf8)
        let ok = try sandbox.run(["audit", "verify", "--program", "acme", "--checkpoint", checkpoint.path, "--as", "ada"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("checkpoint checked"))
        #expect(ok.stdout.hasSuffix("ok\n"))

        let url = try sandbox.run(["db", "url"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = [
            url, "-q", "-c",
            "SET session_replication_role = replica; UPDATE accord.audit_entry SET actor = 'mallory' WHERE chain = 'program:acme' AND seq = 5",
        ]
        psql.environment = sandbox.environment
        try psql.run()
        psql.waitUntilExit()
        #expect(psql.terminationStatus == 0)
        let failed = try sandbox.run(["audit", "verify", "--program", "acme", "--as", "ada"])
        #expect(failed.status == 2)
        #expect(failed.stdout.contains("problem: program:acme: entry 5 (role.bind by mallory) was altered"))
    }
}
