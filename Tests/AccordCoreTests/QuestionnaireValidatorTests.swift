import AccordCore
import AccordResources
import Foundation
import Testing

/// A small valid questionnaire; each test breaks one thing.
let smallQuestionnaire = """
    questionnaire: tiny
    version: 1
    law_version: "2026-1744"
    start: roles
    questions:
      - id: roles
        text: Which roles?
        refs: ["ai-act:art-3"]
        kind: several
        required: true
        next: listed
        options:
          - {value: provider, text: Provider, set: {roles: provider}}
          - {value: deployer, text: Deployer, set: {roles: deployer}}
      - id: listed
        text: Is it listed in Annex III, point 4?
        refs: ["ai-act:annex-iii"]
        kind: one
        options:
          - {value: "yes", text: "Yes", set: {route: annex-iii, annex_iii: "4(a)"}, outcome: high, next: end}
          - {value: "no", text: "No", next: end}
    outcomes:
      - {id: high, text: High-risk under Art. 6(2)., refs: ["ai-act:art-6"]}
    """

@Suite("Questionnaire validation and walking")
struct QuestionnaireValidatorTests {
    func problems(_ yaml: String) -> [String] {
        switch QuestionnaireLoader.load(yaml: yaml, file: "q.yaml") {
        case .success: []
        case .failure(let invalid): invalid.diagnostics.map(\.description)
        }
    }

    @Test("the built-in questionnaire is valid, and every question and outcome cites the catalogue")
    func builtIn() throws {
        let file = try #require(Resources.questionnaires.first)
        let questionnaire = try QuestionnaireLoader.load(yaml: file.text, file: file.path).get()
        #expect(questionnaire.questions.allSatisfy { !$0.refs.isEmpty } && questionnaire.outcomes.allSatisfy { !$0.refs.isEmpty })
        #expect(questionnaire.pathCount > 100)
        #expect(!Resources.workflows.contains { $0.path == file.path })
    }

    @Test("the small questionnaire is valid and walks to its profile")
    func valid() throws {
        let questionnaire = try QuestionnaireLoader.load(yaml: smallQuestionnaire, file: "q.yaml").get()
        let walk = questionnaire.walk(["roles": .choices(["provider", "deployer"]), "listed": .choice("yes"), "ignored": .choice("x")])
        #expect(walk.isComplete)
        #expect(walk.profile == SystemProfile(roles: [.provider, .deployer], route: .annexIII, annexIII: "4(a)"))
        #expect(walk.outcomes.map(\.id) == ["high"] && walk.answers.keys.sorted() == ["listed", "roles"])
        let partial = questionnaire.walk(["roles": .choices(["provider"])])
        #expect(partial.next == "listed" && !partial.isComplete)
        #expect(questionnaire.walk(["roles": .choices([])]).problems["roles"] == "choose at least one option")
    }

    @Test("an unknown article is refused at its line, with the nearest real one")
    func unknownRef() {
        let found = problems(smallQuestionnaire.replacingOccurrences(of: "ai-act:art-6\"", with: "ai-act:art-66\""))
        #expect(found.contains { $0.hasPrefix("q.yaml:23:") && $0.contains("ref 'ai-act:art-66' is not in the regulatory reference") }, "\(found)")
    }

    @Test("a dangling next, an unreachable question and an outcome no answer records are refused")
    func danglingAndUnreachable() {
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "next: listed", with: "next: lsted")).contains {
                $0.contains("next 'lsted' is not a question (or end); did you mean 'listed'?")
            }
        )
        let orphanQuestion = [
            "  - id: orphan", "    text: Nobody asks this", "    refs: [\"ai-act:art-5\"]", "    kind: one", "    options:",
            "      - {value: a, text: A, next: end}", "      - {value: b, text: B, next: end}", "outcomes:",
            "  - {id: unused, text: Nothing records this, refs: [\"ai-act:art-5\"]}",
        ].joined(separator: "\n")
        let orphan = smallQuestionnaire.replacingOccurrences(of: "\noutcomes:", with: "\n" + orphanQuestion)
        let found = problems(orphan)
        #expect(found.contains { $0.contains("question 'orphan' is reached by no path from 'roles'") }, "\(found)")
        #expect(found.contains { $0.contains("outcome 'unused' is recorded by no option") })
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "outcome: high", with: "outcome: hihg")).contains {
                $0.contains("outcome 'hihg' is not defined under outcomes")
            }
        )
    }

    @Test("a cycle is refused")
    func cycle() {
        let looping = smallQuestionnaire.replacingOccurrences(
            of: "{value: \"no\", text: \"No\", next: end}",
            with: "{value: \"no\", text: \"No\", next: roles}"
        )
        #expect(problems(looping).contains { $0.contains("the questions form a cycle") })
    }

    @Test("unknown attributes, values and points in set, and questions citing nothing, are refused")
    func badSets() {
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "set: {roles: deployer}", with: "set: {role: deployer}")).contains {
                $0.contains("unknown attribute 'role' in set; did you mean 'roles'?")
            }
        )
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "set: {roles: deployer}", with: "set: {roles: user}")).contains {
                $0.contains("unknown operator role 'user'")
            }
        )
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "annex_iii: \"4(a)\"", with: "annex_iii: \"4(c)\"")).contains {
                $0.contains("'4(c)' is not an Annex III point")
            }
        )
        #expect(
            problems(smallQuestionnaire.replacingOccurrences(of: "refs: [\"ai-act:art-3\"]", with: "refs: []")).contains {
                $0.contains("question 'roles' cites nothing")
            }
        )
    }
}
