import Foundation
import Testing

@Suite("The README tour, run as a user would", .serialized)
struct TourTests {
    @Test("validate, add people, start a program, bind roles, add systems, progress tasks, list overdue")
    func tour() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        let validate = try sandbox.run(["workflow", "validate", repository.appendingPathComponent("workflows/eu-ai-act-iso42001.yaml").path])
        #expect(validate.status == 0, "\(validate.stdout)")
        #expect(validate.stdout.contains(": ok: eu-ai-act-iso42001 version 3, 6 steps"))

        #expect(
            try sandbox.run(["user", "add", "ada", "--name", "Ada Lovelace", "--admin", "--password-stdin"], stdin: "correct horse battery\n").status
                == 0
        )
        for (handle, name) in [("grace", "Grace Hopper"), ("alan", "Alan Turing")] {
            let added = try sandbox.run(["user", "add", handle, "--name", name, "--password-stdin", "--as", "ada"], stdin: "another long password\n")
            #expect(added.status == 0, "\(added.stderr)")
        }
        let noActor = try sandbox.run(["program", "list"])
        #expect(noActor.status == 5)
        #expect(noActor.stderr == "error: say who is acting: --as HANDLE or ACCORD_USER\n")
        // The engine says what is wrong; the CLI names the place its fix goes (a flag, a listing command).
        let noProgram = try sandbox.run(["program", "show", "nope", "--as", "ada"])
        #expect(noProgram.status == 4)
        #expect(noProgram.stderr == "error: no program 'nope'; 'accord program list' shows yours\n")

        let started = try sandbox.run([
            "program", "start", "eu-ai-act-iso42001", "--title", "ACME 2027", "--slug", "acme", "--starts", "2026-01-05", "--as", "ada",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        for (role, handle) in [("aims-manager", "ada"), ("top-management", "grace"), ("legal", "alan")] {
            #expect(try sandbox.run(["role", "bind", "acme", role, handle, "--as", "ada"]).status == 0)
        }
        let high = try sandbox.run([
            "system", "add", "acme", "CV Screener", "--role", "provider", "--risk", "high", "--annex-iii", "4", "--as", "ada",
        ])
        #expect(high.stdout.contains("added cv-screener (provider, high risk): 28 per-system task(s)"), "\(high.stdout)\(high.stderr)")
        // A minimal-risk system still gets ISO/IEC 42001's own work (risk and impact assessment, life cycle, data).
        let minimal = try sandbox.run(["system", "add", "acme", "Support Chatbot", "--role", "deployer", "--risk", "minimal", "--as", "ada"])
        #expect(minimal.stdout.contains("added support-chatbot (deployer, minimal risk): 10 per-system task(s)"), "\(minimal.stdout)")
        let badRisk = try sandbox.run(["system", "add", "acme", "X", "--role", "provider", "--risk", "medium", "--as", "ada"])
        #expect(badRisk.status == 64)

        let json = try sandbox.run(["task", "list", "--program", "acme", "--json", "--as", "ada"])
        let tasks = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
        let refs = tasks.compactMap { $0["ref"] as? String }
        #expect(refs.contains("acme/risk-management@cv-screener"))
        #expect(refs.contains("acme/system-risk-assessment@support-chatbot"))
        #expect(!refs.contains("acme/deployer-use@support-chatbot") && !refs.contains("acme/transparency-interaction@support-chatbot"))

        // The classification that counts: the questionnaire's answers, from a file; a dry run first.
        let answers = sandbox.home.appendingPathComponent("chatbot.json")
        try Data(
            #"{"roles": ["deployer"], "is-ai-system": "yes", "scope-exclusions": "none", "prohibited": ["none"], "annex-i-product": "no", "annex-iii-area": "none", "transparency": ["interacts"], "gpai-model": "built-on", "outside-union": "no", "public-service": "no", "size": "sme", "legacy": "no"}"#
                .utf8
        ).write(to: answers)
        let dry = try sandbox.run(["system", "classify", "acme", "support-chatbot", "--answers", answers.path, "--dry-run", "--as", "ada"])
        #expect(dry.status == 0 && dry.stdout.contains("dry run: nothing recorded"), "\(dry.stdout)\(dry.stderr)")
        let classified = try sandbox.run(["system", "classify", "acme", "support-chatbot", "--answers", answers.path, "--as", "ada"])
        #expect(classified.stdout.contains("acme/support-chatbot: deployer; not high-risk; Art. 50: interacts; built on a GPAI model; sme"))
        #expect(classified.stdout.contains("acme/upstream-model-information@support-chatbot"))
        #expect(classified.stdout.contains("the answers await sign-off on acme/confirm-classification@support-chatbot"))
        let shown = try sandbox.run(["system", "show", "acme", "support-chatbot", "--as", "ada"])
        #expect(shown.stdout.contains("classified with: ai-act-classification@1 (law 2026-1744)") && !shown.stdout.contains("review:"))
        let unanswered = try sandbox.run(["system", "classify", "acme", "cv-screener", "--answers", answers.path, "--as", "alan"])
        #expect(unanswered.status != 0 && unanswered.stderr.hasPrefix("error: "), "\(unanswered.stderr)")

        let blocked = try sandbox.run(["task", "start", "acme/gap-assessment", "--as", "ada"])
        #expect(blocked.status == 1)
        #expect(blocked.stderr.hasPrefix("error: task 'acme/gap-assessment' is blocked and cannot start"))
        let noReason = try sandbox.run(["task", "not-applicable", "acme/gap-assessment", "--reason", " ", "--as", "ada"])
        #expect(noReason.status == 1)
        #expect(noReason.stderr == "error: say why the task does not apply (--reason)\n")
        #expect(try sandbox.run(["task", "assign", "acme/ai-inventory", "ada", "--as", "ada"]).status == 0)
        #expect(try sandbox.run(["task", "start", "acme/ai-inventory", "--as", "ada"]).stdout.contains("in_progress"))
        #expect(try sandbox.run(["task", "submit", "acme/ai-inventory", "--as", "ada"]).stdout == "acme/ai-inventory is done\n")
        #expect(try sandbox.run(["task", "start", "acme/gap-assessment", "--as", "ada"]).status == 0)

        let overdue = try sandbox.run(["task", "list", "--overdue", "--csv", "--as", "ada"])
        let lines = overdue.stdout.split(separator: "\n")
        #expect(lines.first == "id,task,state,owner,assignee,due,overdue_days,title")
        #expect(lines.contains { $0.contains(",acme/context,open,aims-manager,,2026-01-26,") })
        #expect(!lines.contains { $0.contains("acme/ai-inventory") })

        let show = try sandbox.run(["program", "show", "acme", "--as", "grace"])
        #expect(show.stdout.contains("Scope & risk inventory"))
        #expect(show.stdout.contains("top-management (leadership): grace"))
        let outsider = try sandbox.run(["user", "add", "mallory", "--name", "Mallory", "--as", "grace"])
        #expect(outsider.status == 5)
    }
}
