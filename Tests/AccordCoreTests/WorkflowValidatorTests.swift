import AccordCore
import Foundation
import Testing

/// A valid workflow that each test breaks in one place.
let validWorkflow = """
    id: demo
    version: 1
    title: Demo
    dates:
      launch: 2027-12-02
    roles:
      lead: {title: Lead, manager: true}
      boss: {title: Boss, leadership: true, max_members: 2}
    steps:
      - key: one
        title: Step one
        owner: lead
        tasks:
          - key: a
            title: Task A
            owner: lead
            due: P30D
            refs: ["iso42001:4.1"]
          - key: b
            title: Task B
            owner: lead
            depends_on: [a]
            due: {after: a, in: P14D}
            approval:
              signers: [{role: boss, quorum: 1}]
          - key: c
            title: Task C
            owner: lead
            applies_to: {roles: [provider], risk: [high]}
            due: {date: launch, before: P60D}
            legal_only: true
            refs: ["ai-act:art-43"]
    """

func diagnostics(_ yaml: String) -> [WorkflowDiagnostic] {
    switch WorkflowLoader.load(yaml: yaml, file: "w.yaml") {
    case .success: return []
    case .failure(let invalid): return invalid.diagnostics
    }
}

func replacing(_ old: String, with new: String) -> String {
    precondition(validWorkflow.contains(old), "fixture has no '\(old)'")
    return validWorkflow.replacingOccurrences(of: old, with: new)
}

@Suite("Workflow validation")
struct WorkflowValidatorTests {
    @Test("the fixture is valid, and its model is what the YAML says")
    func validFixture() throws {
        let workflow = try WorkflowLoader.load(yaml: validWorkflow, file: "w.yaml").get()
        #expect(workflow.id == "demo")
        #expect(workflow.roles.map(\.key) == ["lead", "boss"])
        #expect(workflow.role("boss")?.leadership == true)
        #expect(workflow.task("b")?.due == .afterTask("a", ISODuration("P14D")!))
        #expect(workflow.task("c")?.due == .namedDate("launch", before: ISODuration("P60D")!))
        #expect(workflow.task("c")?.appliesTo == Applicability(operatorRoles: [.provider], riskClasses: [.high]))
        #expect(workflow.task("b")?.approval?.separationOfDuties == true)
        // Tasks inherit nothing they did not say: no escalation without defaults.
        #expect(workflow.task("a")?.escalation == nil)
        #expect(
            WorkflowLoader.summary(workflow, file: "w.yaml")
                == "w.yaml: ok: demo version 1, 1 steps, 3 tasks (1 per AI system), 2 roles, 2 distinct refs"
        )
    }

    @Test("YAML syntax errors carry the line and column")
    func syntax() {
        let found = diagnostics(replacing("title: Task A", with: "title: Task: A"))
        #expect(found.count == 1)
        #expect(found.first?.line == 15)
        #expect(found.first?.column == 20)
        #expect(found.first?.description.hasPrefix("w.yaml:15:20: error: YAML syntax") == true)
    }

    @Test("unknown keys are named, with a did-you-mean")
    func unknownKey() {
        let found = diagnostics(replacing("        depends_on: [a]", with: "        depend_on: [a]"))
        let d = found.first { $0.message.contains("unknown key 'depend_on'") }
        #expect(d?.message.contains("did you mean 'depends_on'?") == true)
        #expect(d?.line == 22)
        #expect(d?.column == 9)
    }

    @Test("duplicate keys are refused")
    func duplicateKey() {
        let found = diagnostics(replacing("        title: Task A\n", with: "        title: Task A\n        title: Task A again\n"))
        #expect(found.contains { $0.message.contains("duplicate key 'title'") })
    }

    @Test("an undefined role is named where it is used, with a did-you-mean")
    func undefinedRole() {
        let found = diagnostics(replacing("        title: Task B\n        owner: lead", with: "        title: Task B\n        owner: leed"))
        let d = found.first { $0.message.contains("'leed'") }
        #expect(d?.message == "owner role 'leed' is not defined under roles; did you mean 'lead'?")
        #expect(d?.line == 21)
        #expect(d?.column == 16)
    }

    @Test("a dependency on an unknown task is named at the dependency")
    func unknownDependency() {
        let found = diagnostics(replacing("depends_on: [a]", with: "depends_on: [a, zz]"))
        let d = found.first { $0.message.contains("unknown task 'zz'") }
        #expect(d?.line == 22)
        #expect(d?.column == 25)
    }

    @Test("a dependency cycle is named in full")
    func cycle() {
        let yaml = replacing("        due: P30D\n", with: "        due: P30D\n        depends_on: [b]\n")
        let found = diagnostics(yaml)
        #expect(found.contains { $0.message == "dependency cycle: a -> b -> a" })
        #expect(found.first { $0.message.hasPrefix("dependency cycle") }?.line == 14)
    }

    @Test("bad durations and dates are refused with an example")
    func badDuration() {
        let found = diagnostics(replacing("due: P30D", with: "due: P30X"))
        #expect(found.first?.message == "due 'P30X' is not an ISO 8601 duration (e.g. P30D, P2W, P3M, P1Y)")
        #expect(found.first?.line == 17)
        #expect(diagnostics(replacing("launch: 2027-12-02", with: "launch: 2027-02-30")).contains { $0.message.contains("must be a real day") })
        #expect(
            diagnostics(replacing("due: {date: launch, before: P60D}", with: "due: {date: lunch}")).contains {
                $0.message.contains("unknown date 'lunch'; name it under dates; did you mean 'launch'?")
            }
        )
    }

    @Test("unknown refs are refused, with the nearest real one")
    func unknownRef() {
        let found = diagnostics(replacing(#"refs: ["iso42001:4.1"]"#, with: #"refs: ["iso42001:8.5", "iso42001:A.6.6", "ai-act:art-73"]"#))
        #expect(found.count == 2)
        #expect(found.allSatisfy { $0.message.contains("is not in the regulatory reference") })
        #expect(found[0].line == 18)
    }

    @Test(
        "impossible approval policies are refused",
        arguments: [
            ("quorum: 1}]", "quorum: 0}]", "at least one member must sign"),
            ("quorum: 1}]", "quorum: 3}]", "the role allows at most 2 members"),
            ("quorum: 1}]", "quorum: 25}]", "larger than allowed"),
            ("signers: [{role: boss, quorum: 1}]", "signers: []", "at least one signer"),
            ("signers: [{role: boss, quorum: 1}]", "signers: [{role: bos, quorum: 1}]", "did you mean 'boss'"),
        ]
    )
    func impossiblePolicy(old: String, new: String, expected: String) {
        #expect(diagnostics(replacing(old, with: new)).contains { $0.message.contains(expected) })
    }

    @Test("a task that applies once cannot depend on a per-system task")
    func perSystemDependency() {
        let found = diagnostics(
            replacing("depends_on: [a]\n        due: {after: a, in: P14D}", with: "depends_on: [a, c]\n        due: {after: a, in: P14D}")
        )
        #expect(found.contains { $0.message.contains("which applies per AI system") })
    }

    @Test("legal_only needs an ai-act ref; due-after needs the dependency")
    func consistency() {
        #expect(
            diagnostics(replacing(#"refs: ["ai-act:art-43"]"#, with: #"refs: ["iso42001:A.6.2.4"]"#)).contains {
                $0.message.contains("marked legal_only but has no ai-act ref")
            }
        )
        #expect(diagnostics(replacing("        depends_on: [a]\n", with: "")).contains { $0.message.contains("does not depend on it") })
    }

    @Test("every problem is reported, not only the first")
    func manyProblems() {
        var yaml = replacing("due: P30D", with: "due: P30X")
        yaml = yaml.replacingOccurrences(of: #"refs: ["iso42001:4.1"]"#, with: #"refs: ["iso42001:99"]"#)
        yaml = yaml.replacingOccurrences(of: "quorum: 1}]", with: "quorum: 0}]")
        let found = diagnostics(yaml)
        #expect(found.count == 3)
        #expect(found.map(\.line) == found.map(\.line).sorted())
    }

    @Test("a billion-laughs document is refused quickly")
    func aliasBomb() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let found = diagnostics(yaml)
        #expect(found.first?.message.contains("more than 50000 nodes") == true)
    }

    @Test("empty and non-mapping documents are refused")
    func emptyDocuments() {
        #expect(diagnostics("").first?.message.contains("empty") == true)
        #expect(diagnostics("- a\n- b\n").first?.message == "the workflow must be a mapping (key: value lines)")
    }
}
