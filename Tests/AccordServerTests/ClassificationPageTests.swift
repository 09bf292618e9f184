import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Classifying an AI system in the browser")
struct ClassificationPageTests {
    /// The answers as the page's form sends them: `q-ID` for one option or text, `q-ID--VALUE` per ticked box.
    func fields(_ answers: [String: Answer], csrf: String, action: String) -> [String: String] {
        var fields = ["csrf_token": csrf, "action": action]
        for (id, answer) in answers {
            fields["seen-\(id)"] = "1"
            switch answer {
            case .choice(let value), .text(let value): fields["q-\(id)"] = value
            case .choices(let values): for value in values { fields["q-\(id)--\(value)"] = "on" }
            }
        }
        return fields
    }

    @Test("one question more per Continue, the result and its task changes before recording, then the system follows it")
    func walk() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Lovelace", email: nil, admin: true, password: apiPassword, actor: nil)
            _ = try await store.addPerson(handle: "alan", name: "Alan Turing", email: nil, admin: false, password: apiPassword, actor: "ada")
            _ = try await store.startProgram(
                workflow: "eu-ai-act-iso42001",
                version: nil,
                title: "ACME",
                slug: "acme",
                startsOn: .today(),
                actor: "ada"
            )
            _ = try await store.bindRole(program: "acme", role: "aims-manager", handles: ["ada"], actor: "ada")
            _ = try await store.bindRole(program: "acme", role: "legal", handles: ["alan"], actor: "ada")
            _ = try await store.addSystems(program: "acme", [NewAISystem(name: "Loans", operatorRole: .deployer, riskClass: .minimal)], actor: "ada")
            let ada = try await store.login(handle: "ada", password: apiPassword, address: nil)
            let alan = try await store.login(handle: "alan", password: apiPassword, address: nil)
            let csrf = ada.session.csrfToken
            let answers = try classificationAnswers(deployerOf: "5(b)")
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/acme/systems/loans", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("Classification needs review") && html.contains("/programs/acme/systems/loans/classify"))
                }
                try await client.execute(uri: "/programs/acme/systems/loans/classify", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("<fieldset id=\"question-roles\" class=\"current\">") && html.contains("ai-act:art-3"))
                    #expect(!html.contains("question-is-ai-system"))
                }
                // The first answer: the next question appears, the first keeps its answer.
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(fields(["roles": .choices(["deployer"])], csrf: csrf, action: "continue"))
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("name=\"q-roles--deployer\" value=\"on\" checked"))
                    #expect(html.contains("<fieldset id=\"question-is-ai-system\" class=\"current\">"))
                }
                // An option that is not one: the page again, the question marked, the answers kept.
                var wrong = answers
                wrong["profiling"] = .choice("perhaps")
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(fields(wrong, csrf: csrf, action: "continue"))
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("id=\"problem-profiling\"") && html.contains("aria-invalid=\"true\""))
                    #expect(html.contains("value=\"creditworthiness\" checked"))
                }
                // Every answer: the result, why, and what it does to the tasks; nothing is recorded yet.
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(fields(answers, csrf: csrf, action: "continue"))
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .ok)
                    #expect(html.contains("The result") && html.contains("deployer; high-risk, Annex III point 5(b)"))
                    #expect(html.contains("<code>acme/fundamental-rights-impact@loans</code>"))
                    #expect(html.contains("value=\"record\""))
                }
                #expect(try await store.classifications(program: "acme", system: "loans", actor: "ada").isEmpty)
                // A forged form changes nothing; a non-manager may not; then Record.
                var forged = fields(answers, csrf: "forged", action: "record")
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(forged)
                ) { #expect($0.status == .forbidden) }
                forged["csrf_token"] = alan.session.csrfToken
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(alan),
                    body: form(forged)
                ) { #expect($0.status == .forbidden) }
                try await client.execute(
                    uri: "/programs/acme/systems/loans/classify",
                    method: .post,
                    headers: sessionHeaders(ada),
                    body: form(fields(answers, csrf: csrf, action: "record"))
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/programs/acme/systems/loans?classified=1")
                }
                try await client.execute(uri: "/programs/acme/systems/loans?classified=1", method: .get, headers: sessionHeaders(ada)) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("The classification is recorded") && !html.contains("Classification needs review"))
                    #expect(html.contains("Fundamental rights impact") || html.contains("fundamental-rights-impact"))
                }
                #expect(try await store.classifications(program: "acme", system: "loans", actor: "ada").count == 1)
                let task = try await store.task("acme/confirm-classification@loans", actor: "alan")
                #expect(task.task.state == .inReview)
            }
        }
    }
}
