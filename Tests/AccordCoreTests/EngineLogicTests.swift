import AccordCore
import Foundation
import Testing

@Suite("Due dates, the task state machine, CSV, diffs, audit hashing")
struct EngineLogicTests {
    let start = CalendarDate("2026-09-01")!
    let dates = ["launch": NamedDate(date: CalendarDate("2027-12-02")!)]

    @Test("due dates from each kind of rule")
    func dueDates() {
        #expect(DueDates.due(.afterStart(ISODuration("P30D")!), programStart: start, dates: dates)?.description == "2026-10-01")
        // A system added after the start counts from the day it was added.
        #expect(
            DueDates.due(.afterStart(ISODuration("P30D")!), programStart: start, systemAdded: CalendarDate("2026-11-29")!, dates: dates)?.description
                == "2026-12-29"
        )
        #expect(
            DueDates.due(.afterStart(ISODuration("P30D")!), programStart: start, systemAdded: CalendarDate("2026-01-01")!, dates: dates)?.description
                == "2026-10-01"
        )
        #expect(DueDates.due(.afterTask("x", ISODuration("P14D")!), programStart: start, dates: dates) == nil)
        #expect(
            DueDates.due(.afterTask("x", ISODuration("P14D")!), programStart: start, dates: dates) { _ in CalendarDate("2026-12-20") }?.description
                == "2027-01-03"
        )
        #expect(DueDates.due(.namedDate("launch", before: ISODuration("P60D")!), programStart: start, dates: dates)?.description == "2027-10-03")
        #expect(DueDates.due(.namedDate("launch", before: nil), programStart: start, dates: dates)?.description == "2027-12-02")
        #expect(
            DueDates.due(.fixedDate(CalendarDate("2028-08-02")!, before: ISODuration("P1M")!), programStart: start, dates: dates)?.description
                == "2028-07-02"
        )
        #expect(DueDates.due(nil, programStart: start, dates: dates) == nil)
    }

    @Test("the state machine accepts exactly its transitions")
    func stateMachine() {
        let expected: [TaskState: [TaskEvent: TaskState]] = [
            .blocked: [.unblock: .open, .markNotApplicable: .notApplicable, .retire: .retired],
            .open: [.block: .blocked, .start: .inProgress, .submit: .inReview, .markNotApplicable: .notApplicable, .retire: .retired],
            .inProgress: [.block: .blocked, .submit: .inReview, .markNotApplicable: .notApplicable, .retire: .retired],
            .inReview: [.approve: .done, .reject: .inProgress, .reopen: .inReview, .markNotApplicable: .notApplicable, .retire: .retired],
            .done: [.reopen: .inReview, .retire: .retired],
            .notApplicable: [.reinstate: .blocked, .retire: .retired],
            .retired: [:],
        ]
        for state in TaskState.allCases {
            for event in TaskEvent.allCases {
                #expect(TaskStateMachine.next(from: state, on: event, needsSignOff: true) == expected[state]?[event], "\(state) on \(event)")
            }
        }
        // Without a sign-off policy, submitting finishes the task and there is no review to reopen.
        #expect(TaskStateMachine.next(from: .inProgress, on: .submit, needsSignOff: false) == .done)
        #expect(TaskStateMachine.next(from: .done, on: .reopen, needsSignOff: false) == nil)
        #expect(
            TaskStateMachine.refusal(task: "p/t", state: .inReview, event: .start, needsSignOff: true)
                == "task 'p/t' is in_review and cannot start; only its signers can act on it now (sign or reject); allowed now: reject, reopen, not-applicable"
        )
    }

    @Test("CSV: quotes, commas, newlines in fields, CRLF, BOM; and writing back")
    func csv() throws {
        let text = "\u{FEFF}name,purpose\r\n\"Screener, CV\",\"Ranks \"\"applicants\"\"\nfor HR\"\r\n\r\nBot,\n"
        let rows = try CSV.parse(text)
        #expect(rows.map(\.fields) == [["name", "purpose"], ["Screener, CV", "Ranks \"applicants\"\nfor HR"], ["Bot", ""]])
        #expect(rows.map(\.line) == [1, 2, 5])
        #expect(CSV.line(["a", "b,c", "say \"hi\""]) == "a,\"b,c\",\"say \"\"hi\"\"\"")
        #expect(throws: CSV.Malformed.self) { try CSV.parse("a,\"open\nb") }
        #expect(throws: CSV.Malformed.self) { try CSV.parse("a,b\"c\n") }
    }

    @Test("a diff names added, removed and changed tasks")
    func diff() throws {
        let v1 = try WorkflowLoader.load(yaml: validWorkflow, file: "v1").get()
        let v2yaml =
            validWorkflow
            .replacingOccurrences(of: "version: 1", with: "version: 2")
            .replacingOccurrences(of: "due: P30D", with: "due: P45D")
            .replacingOccurrences(of: "      - key: c\n", with: "      - key: d\n")
        let v2 = try WorkflowLoader.load(yaml: v2yaml, file: "v2").get()
        let diff = WorkflowDiff.compare(v1, v2)
        #expect(diff.addedTasks == ["d"])
        #expect(diff.removedTasks == ["c"])
        #expect(diff.changedTasks == [WorkflowDiff.Change(task: "a", changes: ["due: P30D after start -> P45D after start"])])
        #expect(diff.lines == ["+ task d", "- task c", "~ task a: due: P30D after start -> P45D after start"])
    }

    @Test("audit hashing: length-prefixed fields, NULL apart from empty, and chained")
    func auditHash() {
        let entry = AuditEntryContent(
            chain: "org",
            seq: 1,
            recordedAtMicros: 1_764_000_000_000_000,
            actor: "ada",
            action: "person.add",
            objectType: "person",
            objectID: "ada",
            before: nil,
            after: "{}",
            reason: ""
        )
        #expect(
            String(decoding: entry.canonicalBytes, as: UTF8.self)
                == "accord-audit-v1;3:org;1:1;16:1764000000000000;3:ada;10:person.add;6:person;3:ada;~;2:{};0:;"
        )
        var moved = entry
        moved.actor = "ad"
        moved.action = "aperson.add"
        #expect(moved.hash(previous: nil) != entry.hash(previous: nil))
        #expect(entry.hash(previous: nil) != entry.hash(previous: [UInt8](repeating: 0, count: 32)))
        #expect(entry.hash(previous: nil).count == 32)
    }
}
