import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord task show TASK`.
struct TaskShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a task: description, refs, dependencies, sign-off policy, history."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String

    func run() async throws {
        let d = try await withStore(database) { try await $0.task(task, actor: acting.actor) }
        if output.json { return try printJSON(d) }
        let t = d.task
        print("\(t.ref) (#\(t.id)): \(t.title)")
        print("step: \(d.stepTitle)   state: \(t.state)   owner: \(t.ownerRole)   assignee: \(t.assignee ?? "unassigned")")
        print("due: \(t.dueOn ?? "not set")\(t.overdueDays.map { " (\($0) days late)" } ?? "")\(d.recurrence.map { "   recurs: \($0)" } ?? "")")
        if let reason = d.notApplicableReason { print("not applicable: \(reason)") }
        if let reason = d.retiredReason { print("retired: \(reason)") }
        if let description = d.description { print("\n\(description.trimmingCharacters(in: .whitespacesAndNewlines))") }
        if !d.refs.isEmpty {
            print("\nrefs:")
            for ref in d.refs { print("  \(ref.id)  \(ref.title)\(ref.legalOnly ? "  [legal obligation beyond ISO/IEC 42001]" : "")") }
        }
        if !d.evidenceRequired.isEmpty {
            print("\nevidence required:")
            for e in d.evidenceRequired { print("  - \(e)") }
        }
        if let approval = d.approval {
            let signers = approval.signersSummary
            print("\nsign-off: \(signers)\(approval.separationOfDuties ? "; separation of duties applies" : "")")
        }
        if !d.evidence.isEmpty {
            print("\nevidence (task version \(d.evidenceVersion)):")
            for e in d.evidence {
                print("  #\(e.id) '\(e.title)' v\(e.version)  \(e.size) bytes  sha256 \(e.sha256.prefix(16))…  by \(e.uploadedBy)")
            }
        }
        if !d.signatures.isEmpty {
            print("\nsignatures:")
            let format = ISO8601DateFormatter()
            for s in d.signatures {
                let who = s.onBehalfOf.map { "\(s.printedName) on behalf of \($0)" } ?? s.printedName
                print(
                    "  \(format.string(from: s.signedAt))  \(who)  \(s.decision == .approve ? "approved" : "rejected") as \(s.role ?? "-") (\(s.meaning))  \(s.versionNote)\(s.current ? "" : "  [superseded]")\(s.comment.map { ": \($0)" } ?? "")"
                )
            }
        }
        if !d.signaturesNeeded.isEmpty {
            print("still needed: " + ApprovalPolicy.neededSummary(d.signaturesNeeded))
        }
        if !d.dependsOn.isEmpty { print("\ndepends on: " + d.dependsOn.map { "\($0.ref) (\($0.state))" }.joined(separator: ", ")) }
        if !d.dependents.isEmpty { print("needed by: " + d.dependents.map { "\($0.ref) (\($0.state))" }.joined(separator: ", ")) }
        if !d.openFindings.isEmpty {
            print("\nopen findings to review (\(d.openFindings.count)):")
            for f in d.openFindings { print("  \(f.number)  \(f.severity), from \(f.source)\(f.system.map { ", \($0)" } ?? "")  \(f.title)") }
        }
        if !d.deadlines.isEmpty {
            print("\nreminders and escalations:")
            for e in d.deadlines {
                let what =
                    e.kind == .escalation
                    ? "escalation \(e.level) to \(e.toRole ?? "?")" : e.kind == .overdue ? "overdue notice" : "reminder \(e.level)"
                print("  \(e.firedOn)  \(what) (due \(e.dueOn))  -> \(e.recipients.isEmpty ? "nobody" : e.recipients.joined(separator: ", "))")
            }
        }
        if !d.history.isEmpty {
            print("\nhistory:")
            let format = ISO8601DateFormatter()
            for h in d.history { print("  \(format.string(from: h.at))  \(h.actor)  \(h.action)\(h.reason.map { ": \($0)" } ?? "")") }
        }
    }
}
