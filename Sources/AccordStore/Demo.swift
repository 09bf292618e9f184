public import AccordCore
import Foundation

/// A demo organisation, so that a newcomer's first screen is alive.
public struct DemoAccount: Sendable {
    /// The handle to log in with, e.g. `ada`.
    public var handle: String
    /// The person's full name.
    public var name: String
    /// What the person does in the demo, in words for the printed list (not the role keys bound).
    public var roles: String
    /// The generated password: 16 random characters, printed once and stored only as a bcrypt hash.
    public var password: String
}

extension Store {
    /// Seeds a demo organisation when nobody exists yet; returns the accounts (with their generated
    /// passwords, to print once), or nothing when the database already has people.
    public func seedDemo(today: CalendarDate = CalendarDate.today()) async throws -> [DemoAccount] {
        guard try await people().isEmpty else { return [] }
        func password() -> String { randomToken().prefix(16).description }
        let accounts = [
            DemoAccount(handle: "ada", name: "Ada Lovelace", roles: "administrator, AIMS manager", password: password()),
            DemoAccount(handle: "grace", name: "Grace Hopper", roles: "top management (CEO)", password: password()),
            DemoAccount(handle: "kat", name: "Katherine Johnson", roles: "top management (CFO)", password: password()),
            DemoAccount(handle: "alan", name: "Alan Turing", roles: "legal counsel", password: password()),
            DemoAccount(handle: "lin", name: "Lin Wei", roles: "AI risk manager, internal auditor", password: password()),
            DemoAccount(handle: "sam", name: "Sam Okafor", roles: "AI system owner, data lead", password: password()),
        ]
        _ = try await addPerson(
            handle: "ada",
            name: accounts[0].name,
            email: "ada@example.com",
            admin: true,
            password: accounts[0].password,
            actor: nil
        )
        for account in accounts.dropFirst() {
            _ = try await addPerson(
                handle: account.handle,
                name: account.name,
                email: "\(account.handle)@example.com",
                admin: false,
                password: account.password,
                actor: "ada"
            )
        }
        let start = today.adding(days: -75)
        _ = try await startProgram(
            workflow: "eu-ai-act-iso42001",
            version: nil,
            title: "ACME AI compliance",
            slug: "acme",
            startsOn: start,
            actor: "ada"
        )
        for (role, handles) in [
            ("aims-manager", ["ada"]), ("top-management", ["grace", "kat"]), ("legal", ["alan"]), ("risk-manager", ["lin"]),
            ("internal-auditor", ["lin"]), ("system-owner", ["sam"]), ("data-lead", ["sam"]), ("procurement", ["ada"]), ("security", ["sam"]),
        ] {
            _ = try await bindRole(program: "acme", role: role, handles: handles, actor: "ada")
        }
        _ = try await addSystems(
            program: "acme",
            [
                NewAISystem(
                    name: "CV Screener",
                    operatorRole: .provider,
                    riskClass: .high,
                    annexIII: 4,
                    owner: "sam",
                    purpose: "Ranks job applications for recruiters"
                ),
                NewAISystem(
                    name: "Support Chatbot",
                    operatorRole: .deployer,
                    riskClass: .limited,
                    owner: "sam",
                    purpose: "Answers customer questions"
                ),
            ],
            actor: "ada"
        )
        func pw(_ handle: String) -> String { accounts.first { $0.handle == handle }!.password }
        // Done: the inventory and context; signed: the classification.
        for task in ["acme/ai-inventory", "acme/context"] {
            _ = try await assignTask(task, to: "ada", actor: "ada")
            _ = try await submitTask(task, actor: "ada")
        }
        _ = try await addEvidence(
            to: "acme/ai-inventory",
            fileName: "ai-inventory.csv",
            bytes: Array("name,role,risk\nCV Screener,provider,high\nSupport Chatbot,deployer,limited\n".utf8),
            title: "AI system inventory",
            actor: "ada"
        )
        _ = try await addEvidence(
            to: "acme/classify-systems",
            fileName: "classification.md",
            bytes: Array(
                "# Classification\nCV Screener: provider, Annex III point 4, high risk.\nSupport Chatbot: deployer, Art. 50 transparency.\n".utf8
            ),
            title: "Classification memo",
            actor: "alan"
        )
        _ = try await submitTask("acme/classify-systems", actor: "alan")
        _ = try await sign(
            "acme/classify-systems",
            decision: .approve,
            meaning: .review,
            comment: "Reasoning checked",
            password: pw("ada"),
            actor: "ada"
        )
        // The CV screener walked through the questionnaire (signed by legal counsel); the chatbot still has
        // only its inventory flags, so its page says it needs review.
        let screener: [String: Answer] = [
            "roles": .choices(["provider"]), "is-ai-system": .choice("yes"), "scope-exclusions": .choice("none"),
            "prohibited": .choices(["none"]), "annex-i-product": .choice("no"), "annex-iii-area": .choice("employment"),
            "annex-iii-4": .choice("recruitment"), "profiling": .choice("yes"), "value-chain": .choices(["none"]),
            "transparency": .choices(["none"]), "gpai-model": .choice("none"), "outside-union": .choice("no"),
            "public-service": .choice("no"), "size": .choice("large"), "legacy": .choice("no"),
        ]
        _ = try await classifySystem(program: "acme", system: "cv-screener", answers: screener, reason: .initial, actor: "ada")
        _ = try await sign(
            "acme/confirm-classification@cv-screener",
            decision: .approve,
            meaning: .approval,
            comment: "Annex III 4(a): recruitment",
            password: pw("alan"),
            actor: "alan"
        )
        _ = try await submitTask("acme/gap-assessment", actor: "ada")
        // In review, waiting for top management: the AIMS scope; the AI policy after legal's review.
        _ = try await addEvidence(
            to: "acme/aims-scope",
            fileName: "aims-scope.md",
            bytes: Array("# AIMS scope\nAll AI systems developed or deployed by ACME in the EU.\n".utf8),
            title: "AIMS scope statement",
            actor: "ada"
        )
        _ = try await submitTask("acme/aims-scope", actor: "ada")
        _ = try await sign("acme/aims-scope", decision: .approve, meaning: .approval, comment: "Scope agreed", password: pw("grace"), actor: "grace")
        _ = try await addEvidence(
            to: "acme/ai-policy",
            fileName: "ai-policy.md",
            bytes: Array("# AI policy\nACME develops and uses AI lawfully, transparently and under human oversight.\n".utf8),
            title: "AI policy",
            actor: "ada"
        )
        _ = try await submitTask("acme/ai-policy", actor: "ada")
        _ = try await sign("acme/ai-policy", decision: .approve, meaning: .review, comment: "Legally sound", password: pw("alan"), actor: "alan")
        _ = try await submitTask("acme/roles-responsibilities", actor: "ada")
        _ = try await startTask("acme/risk-method", actor: "lin")
        return accounts
    }
}
