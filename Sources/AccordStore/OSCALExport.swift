import AccordCore
import AccordPack
public import Foundation
import Postgres

extension Store {
    /// The namespace of Accord's own OSCAL properties.
    public static let oscalNamespace = "urn:accord:oscal"

    /// A program's statement of applicability and the state of each control as an OSCAL 1.1 assessment-results
    /// document (JSON): one result for the program, the Annex A controls as reviewed controls (those marked
    /// not applicable excluded, with the reasons), a finding per control with `satisfied` when every applicable
    /// task is done, and each evidence version as an observation whose back-matter resource carries its SHA-256
    /// and its path in the program's evidence pack (`accord export`).
    /// - Returns: the document, pretty-printed with sorted keys.
    public func oscalAssessmentResults(program slug: String, actor: String?, now: Date = Date()) async throws -> Data {
        let soa = try await soaReport(program: slug, actor: actor)
        let (program, evidence) = try await reading(program: slug, actor: actor) { connection, _, program in
            (program, try await connection.query(PackSQL.evidence, program.id))
        }
        let stamp = { (date: Date) in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.string(from: date)
        }
        let uuid = { UUID().uuidString.lowercased() }
        let token = { (id: String) in id.lowercased().replacingOccurrences(of: ":", with: "-") }
        let prop = { (name: String, value: String) -> [String: Any] in ["name": name, "ns": Self.oscalNamespace, "value": value] }

        var resources: [[String: Any]] = []
        let planUUID = uuid()
        resources.append([
            "uuid": planUUID,
            "title": "Workflow \(program.workflowID) version \(program.workflowVersion)",
            "description": "The roadmap the program follows: its tasks, their refs and their sign-off policies stand for the assessment plan.",
        ])
        var observationsByTask: [String: [String]] = [:]
        var observations: [[String: Any]] = []
        for item in evidence {
            let resource = uuid()
            resources.append([
                "uuid": resource,
                "title": "\(item.title) version \(item.version)",
                "props": [prop("task", item.task), prop("uploaded-by", item.uploadedBy)],
                "rlinks": [
                    [
                        "href": item.path, "media-type": item.mediaType,
                        "hashes": [["algorithm": "SHA-256", "value": item.sha256]],
                    ]
                ],
            ])
            let observation = uuid()
            observations.append([
                "uuid": observation,
                "title": "\(item.fileName) on \(item.task)",
                "description": "Evidence version \(item.version) of '\(item.title)', uploaded by \(item.uploadedBy).",
                "methods": ["EXAMINE"],
                "collected": stamp(item.uploadedAt),
                "relevant-evidence": [["href": "#\(resource)", "description": "The file as uploaded, with its SHA-256."]],
            ])
            observationsByTask[item.task, default: []].append(observation)
        }
        let included = soa.controls.filter { $0.applicability != "not applicable" }
        let excluded = soa.controls.filter { $0.applicability == "not applicable" }
        var selection: [String: Any] = ["include-controls": included.map { ["control-id": token($0.id)] }]
        if !excluded.isEmpty { selection["exclude-controls"] = excluded.map { ["control-id": token($0.id)] } }
        let findings: [[String: Any]] = included.map { control in
            var target: [String: Any] = [
                "type": "objective-id",
                "target-id": token(control.id),
                "status": ["state": control.status == "implemented" ? "satisfied" : "not-satisfied"],
            ]
            target["props"] = [prop("control", control.id), prop("applicability", control.applicability), prop("status", control.status)]
            var finding: [String: Any] = [
                "uuid": uuid(),
                "title": "\(control.id) \(control.title)",
                "description":
                    control.tasks.isEmpty
                    ? "No task of the program addresses this control."
                    : "\(control.tasksDone) of \(control.tasksApplicable) applicable tasks done: \(control.tasks.joined(separator: ", ")).",
                "target": target,
            ]
            let related = control.tasks.flatMap { observationsByTask[$0] ?? [] }
            if !related.isEmpty { finding["related-observations"] = related.map { ["observation-uuid": $0] } }
            return finding
        }
        var result: [String: Any] = [
            "uuid": uuid(),
            "title": "Statement of applicability of \(program.title)",
            "description": "The state of each ISO/IEC 42001 Annex A control in the program, from its tasks and their evidence.",
            "start": stamp(now),
            "reviewed-controls": ["control-selections": [selection]],
            "findings": findings,
        ]
        if !observations.isEmpty { result["observations"] = observations }
        if !excluded.isEmpty {
            result["remarks"] = excluded.map { "\($0.id) is not applicable: \($0.justification ?? "no reason recorded")" }.joined(separator: "\n")
        }
        let document: [String: Any] = [
            "assessment-results": [
                "uuid": uuid(),
                "metadata": [
                    "title": "\(program.title): statement of applicability and control states",
                    "last-modified": stamp(now),
                    "version": stamp(now),
                    "oscal-version": "1.1.2",
                    "props": [prop("program", program.slug)],
                ],
                "import-ap": ["href": "#\(planUUID)"],
                "results": [result],
                "back-matter": ["resources": resources],
            ]
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
