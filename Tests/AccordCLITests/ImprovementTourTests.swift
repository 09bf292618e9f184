import Foundation
import Testing

@Suite("The README tour's deadlines, cycles, findings and incidents", .serialized)
struct ImprovementTourTests {
    @Test("one scheduler pass puts escalations in the leaders' inbox; a cycle cannot close unsigned; an incident shows its deadline")
    func tour() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        #expect(try sandbox.run(["user", "add", "ada", "--name", "Ada Lovelace", "--admin"]).status == 0)
        for (handle, name) in [("grace", "Grace Hopper"), ("alan", "Alan Turing")] {
            #expect(try sandbox.run(["user", "add", handle, "--name", name, "--as", "ada"]).status == 0)
        }
        // Started long ago: most of the roadmap is past due.
        #expect(
            try sandbox.run(["program", "start", "eu-ai-act-iso42001", "--title", "ACME", "--slug", "acme", "--starts", "2026-01-05", "--as", "ada"])
                .status == 0
        )
        for (role, handle) in [("aims-manager", "ada"), ("top-management", "grace"), ("legal", "alan")] {
            #expect(try sandbox.run(["role", "bind", "acme", role, handle, "--as", "ada"]).status == 0)
        }
        #expect(try sandbox.run(["system", "add", "acme", "CV Screener", "--role", "provider", "--risk", "high", "--as", "ada"]).status == 0)

        #expect(try sandbox.run(["inbox", "--as", "grace"]).stdout.hasPrefix("reminders and escalations (0):"))
        let pass = try sandbox.run(["deadlines", "run-once"])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stdout.contains("escalation(s) fired"))
        #expect(pass.stdout.contains("acme/context  escalation 2 to top-management  due 2026-01-26  -> grace"), "\(pass.stdout)")
        let again = try sandbox.run(["deadlines", "run-once", "--json"])
        let fired = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect((fired?["fired"] as? [Any])?.isEmpty == true, "a second pass fires nothing")
        let inbox = try sandbox.run(["inbox", "--as", "grace"])
        #expect(
            inbox.stdout.contains("Escalation level 2 to top-management: acme/context (Define the organisation's context and AIMS scope inputs)")
                || inbox.stdout.contains("Escalation level 2 to top-management: acme/context"),
            "\(inbox.stdout)"
        )
        let show = try sandbox.run(["task", "show", "acme/context", "--as", "ada"])
        #expect(show.stdout.contains("escalation 2 to top-management"), "\(show.stdout)")

        let opened = try sandbox.run(["cycle", "open", "acme", "--as", "ada"])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.contains("opened cycle 1 of acme"))
        #expect(opened.stdout.contains("acme/management-review+c1"))
        let close = try sandbox.run(["cycle", "close", "acme", "--as", "ada"])
        #expect(close.status == 1)
        #expect(
            close.stderr
                == "error: cycle 1 of 'acme' cannot close: its management review acme/management-review+c1 is blocked, not signed by top management\n"
        )
        #expect(try sandbox.run(["cycle", "open", "acme", "--as", "ada"]).status == 1)
        let report = try sandbox.run(["report", "cycles", "acme", "--csv", "--as", "grace"])
        #expect(report.stdout.hasPrefix("KPI,cycle 1 (open)\n"), "\(report.stdout)")

        let aware = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
        let incident = try sandbox.run([
            "incident", "report", "acme", "--system", "cv-screener", "--kind", "death", "--aware-at", aware,
            "--summary", "A patient was harmed", "--as", "alan",
        ])
        #expect(incident.status == 0, "\(incident.stderr)")
        #expect(incident.stdout.contains("(Art. 73(4), 10 days from awareness): in 9 d 2"), "\(incident.stdout)")
        #expect(incident.stdout.contains("acme/incident-initial-report@cv-screener+i1"))
        let findings = try sandbox.run(["finding", "list", "acme", "--as", "ada"])
        #expect(findings.stdout.contains("major     incident  cv-screener  open"), "\(findings.stdout)")
        let badKind = try sandbox.run([
            "incident", "report", "acme", "--system", "cv-screener", "--kind", "fire", "--aware-at", aware, "--summary", "x", "--as", "alan",
        ])
        #expect(badKind.status == 64)
        let badTime = try sandbox.run([
            "incident", "report", "acme", "--system", "cv-screener", "--kind", "other", "--aware-at", "last week", "--summary", "x", "--as", "alan",
        ])
        #expect(badTime.status != 0)
        #expect(badTime.stderr.split(separator: "\n").count == 1)
    }
}
