import AccordCore
import Foundation
import Testing

private func day(_ text: String) -> CalendarDate { CalendarDate(text)! }

private let chain = Escalation(
    remindBefore: [ISODuration("P1D")!, ISODuration("P7D")!],
    chain: [
        .init(after: ISODuration("P3D")!, to: "step-owner"),
        .init(after: ISODuration("P7D")!, to: "top-management"),
    ]
)

private func names(_ marks: [DeadlineMark]) -> [String] { marks.map { "\($0.kind.rawValue)\($0.level)@\($0.day)" } }

@Suite("Deadline rules")
struct DeadlineLogicTests {
    @Test("every mark of a due date, in firing order: reminders earliest first, overdue the day after, then the chain")
    func marks() {
        #expect(
            names(DeadlineSchedule.marks(chain, due: day("2027-03-10"))) == [
                "reminder1@2027-03-03", "reminder2@2027-03-09", "overdue0@2027-03-11", "escalation1@2027-03-13", "escalation2@2027-03-17",
            ]
        )
        #expect(names(DeadlineSchedule.marks(nil, due: day("2027-03-10"))) == ["overdue0@2027-03-11"])
    }

    @Test("what is due on a day: the latest reminder only, none once late, every level reached")
    func dueOnADay() {
        let due = day("2027-03-10")
        #expect(names(DeadlineSchedule.due(chain, due: due, today: day("2027-03-02"))).isEmpty)
        #expect(names(DeadlineSchedule.due(chain, due: due, today: day("2027-03-05"))) == ["reminder1@2027-03-03"])
        #expect(names(DeadlineSchedule.due(chain, due: due, today: day("2027-03-09"))) == ["reminder2@2027-03-09"])
        #expect(names(DeadlineSchedule.due(chain, due: due, today: due)).isEmpty)
        #expect(
            names(DeadlineSchedule.due(chain, due: due, today: day("2027-03-20"))) == [
                "overdue0@2027-03-11", "escalation1@2027-03-13", "escalation2@2027-03-17",
            ]
        )
    }

    @Test("a level before the due date fires before it, and widens the horizon a scheduler looks ahead")
    func beforeDue() {
        let clock = Escalation(remindBefore: [ISODuration("P1D")!], chain: [.init(after: ISODuration("P2D")!, to: "top-management", beforeDue: true)])
        #expect(names(DeadlineSchedule.due(clock, due: day("2027-03-10"), today: day("2027-03-08"))) == ["escalation1@2027-03-08"])
        #expect(DeadlineSchedule.horizon(clock) == 2)
        #expect(DeadlineSchedule.horizon(chain) == 7)
        #expect(DeadlineSchedule.horizon(nil) == 0)
    }

    @Test("the Art. 73 clocks of the shared reference")
    func incidentClocks() {
        #expect(
            IncidentKind.allCases.map { "\($0.rawValue) \($0.clockDays) \($0.paragraph)" } == [
                "death 10 Art. 73(4)", "critical-infrastructure 2 Art. 73(3)", "widespread 2 Art. 73(3)", "other 15 Art. 73(2)",
            ]
        )
    }

    @Test("triggers, cycles and clock levels are validated with their line")
    func validation() {
        let base = validWorkflow
        func with(_ old: String, _ new: String) -> [String] {
            diagnostics(base.replacingOccurrences(of: old, with: new)).map(\.message)
        }
        #expect(
            with("        legal_only: true\n", "        legal_only: true\n        trigger: audit\n").contains(
                "trigger must be 'finding' or 'incident', not 'audit'"
            )
        )
        #expect(
            with("        legal_only: true\n", "        legal_only: true\n        trigger: finding\n")
                .contains { $0.contains("has a trigger; it takes the AI system of its finding") }
        )
        #expect(
            with("        due: {after: a, in: P14D}\n", "        due: {after: a, in: P14D}\n        trigger: finding\n")
                .contains { $0.contains("can depend only on tasks with the same trigger") }
        )
        #expect(with("        due: P30D\n", "        due: incident-clock\n").contains("due 'incident-clock' is for tasks with trigger: incident"))
        #expect(
            with("steps:\n", "cycle: {period: P1Y, review: a}\nsteps:\n")
                .contains { $0.contains("cycle review 'a' needs an approval signed by a leadership role") }
        )
        #expect(with("steps:\n", "cycle: {period: P1Y, review: zz}\nsteps:\n").contains { $0.contains("cycle review 'zz' is not a task") })
        #expect(diagnostics(base.replacingOccurrences(of: "steps:\n", with: "cycle: {period: P1Y, review: b}\nsteps:\n")).isEmpty)
        let escalation = "        escalation: {chain: [{after: P1D, before: P1D, to: boss}]}\n"
        #expect(with("        due: P30D\n", "        due: P30D\n" + escalation).contains { $0.contains("either 'after' (late by) or 'before'") })
        let early = "        escalation: {chain: [{before: P2D, to: boss}]}\n"
        let workflow = try? WorkflowLoader.load(
            yaml: base.replacingOccurrences(of: "        due: P30D\n", with: "        due: P30D\n" + early),
            file: "w.yaml"
        ).get()
        #expect(workflow?.task("a")?.escalation?.chain.first?.beforeDue == true)
    }
}
