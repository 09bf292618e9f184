import Foundation
import Yams

/// One problem in a workflow file, printed as `FILE:LINE:COLUMN: error: message`.
public struct WorkflowDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The file name as the caller gave it to `WorkflowLoader.load`.
    public var file: String
    /// The line of the offending node, from 1 (1 when the problem has no place, e.g. an empty file).
    public var line: Int
    /// The column of the offending node, from 1.
    public var column: Int
    /// What is wrong, with a did-you-mean where one helps.
    public var message: String

    /// The diagnostic as compilers print one, so editors can jump to it.
    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// A workflow file that did not load, with every problem found.
public struct WorkflowInvalid: Error, Sendable, CustomStringConvertible {
    /// Every problem found, in file order (YAML syntax errors alone, as nothing further can be read).
    public let diagnostics: [WorkflowDiagnostic]
    /// The diagnostics, one per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads workflow YAML into a `Workflow`, reporting every problem with its line and column:
/// YAML syntax, duplicate and unknown keys (with a did-you-mean), undefined roles, unknown or cyclic
/// dependencies, bad durations and dates, unknown refs, impossible approval policies.
public enum WorkflowLoader {
    /// The most YAML nodes a file may expand to (aliases included), against alias bombs.
    public static let maximumNodes = 50_000
    /// The most signers of one role a policy may require.
    public static let maximumQuorum = 20

    /// Loads and validates a workflow.
    /// - Returns: the workflow, or every problem found.
    public static func load(yaml: String, file: String, catalogue: ReferenceCatalogue = .builtIn) -> Result<Workflow, WorkflowInvalid> {
        let reader = NodeReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            reader.yamlError(error)
            return .failure(WorkflowInvalid(diagnostics: reader.diagnostics))
        } catch {
            reader.report(at: nil, "cannot read the YAML: \(error)")
            return .failure(WorkflowInvalid(diagnostics: reader.diagnostics))
        }
        guard let root else {
            reader.report(at: nil, "the file is empty; a workflow needs id, version, title, roles and steps")
            return .failure(WorkflowInvalid(diagnostics: reader.diagnostics))
        }
        guard reader.countNodes(root) <= maximumNodes else {
            reader.report(at: root, "the document expands to more than \(maximumNodes) nodes (are aliases nesting?); a workflow is far smaller")
            return .failure(WorkflowInvalid(diagnostics: reader.diagnostics))
        }
        let workflow = WorkflowBuilder(reader: reader, catalogue: catalogue).build(root)
        if let workflow, reader.diagnostics.isEmpty { return .success(workflow) }
        return .failure(WorkflowInvalid(diagnostics: reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }))
    }

    /// A one-line summary of a valid workflow.
    public static func summary(_ workflow: Workflow, file: String) -> String {
        let tasks = workflow.steps.flatMap(\.tasks)
        let perSystem = tasks.filter(\.isPerSystem).count
        let refs = Set(tasks.flatMap(\.refs)).count
        return
            "\(file): ok: \(workflow.id) version \(workflow.version), \(workflow.steps.count) steps, \(tasks.count) tasks (\(perSystem) per AI system), \(workflow.roles.count) roles, \(refs) distinct refs"
    }
}

/// Collects diagnostics while reading nodes.
final class NodeReader {
    let file: String
    private(set) var diagnostics: [WorkflowDiagnostic] = []

    init(file: String) { self.file = file }

    func report(at node: Node?, _ message: String) {
        let mark = node?.mark
        diagnostics.append(WorkflowDiagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    func yamlError(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            diagnostics.append(WorkflowDiagnostic(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(prefix)\(problem)"))
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.append(
                WorkflowDiagnostic(
                    file: file,
                    line: context.mark.line,
                    column: context.mark.column,
                    message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in the same mapping"
                )
            )
        case .reader(let problem, let offset, _, _):
            diagnostics.append(
                WorkflowDiagnostic(file: file, line: 1, column: 1, message: "YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
            )
        default:
            diagnostics.append(WorkflowDiagnostic(file: file, line: 1, column: 1, message: "YAML: \(error)"))
        }
    }

    /// Counts nodes, stopping early past the limit.
    func countNodes(_ node: Node) -> Int {
        var count = 0
        var stack = [node]
        while let next = stack.popLast() {
            count += 1
            if count > WorkflowLoader.maximumNodes { return count }
            switch next {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            case .sequence(let sequence):
                stack.append(contentsOf: sequence)
            default:
                break
            }
        }
        return count
    }

    /// The pairs of a mapping, checking its keys; `nil` (reported) when the node is not a mapping.
    func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            report(at: node, "\(what) must be a mapping (key: value lines)")
            return nil
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                report(at: key, "keys of \(what) must be plain words")
                continue
            }
            if allowed.contains(name) {
                fields[name] = value
            } else {
                let hint =
                    closest(to: name, among: allowed).first.map { "; did you mean '\($0)'?" } ?? "; allowed: \(allowed.joined(separator: ", "))"
                report(at: key, "unknown key '\(name)' in \(what)\(hint)")
            }
        }
        for name in required where fields[name] == nil {
            report(at: node, "\(what) needs '\(name)'")
        }
        return fields
    }

    func string(_ node: Node?, _ what: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            report(at: node, "\(what) must be text")
            return nil
        }
        return scalar.string
    }

    func identifier(_ node: Node?, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        guard text.range(of: #"^[a-z0-9][a-z0-9-]{0,62}$"#, options: .regularExpression) != nil else {
            report(at: node, "\(what) '\(text)' must be lowercase letters, digits and dashes (e.g. risk-assessment)")
            return nil
        }
        return text
    }

    func int(_ node: Node?, _ what: String) -> Int? {
        guard let node else { return nil }
        guard let value = node.scalar.flatMap({ Int($0.string) }) else {
            report(at: node, "\(what) must be a whole number")
            return nil
        }
        return value
    }

    func bool(_ node: Node?, _ what: String) -> Bool? {
        guard let node else { return nil }
        switch node.scalar?.string.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            report(at: node, "\(what) must be true or false")
            return nil
        }
    }

    func list(_ node: Node?, _ what: String) -> [Node] {
        guard let node else { return [] }
        if case .sequence(let sequence) = node { return Array(sequence) }
        report(at: node, "\(what) must be a list")
        return []
    }

    func duration(_ node: Node?, _ what: String) -> ISODuration? {
        guard let text = string(node, what) else { return nil }
        guard let duration = ISODuration(text) else {
            report(at: node, "\(what) '\(text)' is not an ISO 8601 duration (e.g. P30D, P2W, P3M, P1Y)")
            return nil
        }
        if duration.hasTimePart {
            report(at: node, "\(what) '\(text)' has hours, minutes or seconds; roadmap dates count whole days")
            return nil
        }
        return duration
    }
}

/// Builds the model from nodes, then checks what spans the whole file (roles, dependencies, cycles).
struct WorkflowBuilder {
    let reader: NodeReader
    let catalogue: ReferenceCatalogue

    func build(_ root: Node) -> Workflow? {
        guard
            let top = reader.mapping(
                root,
                "the workflow",
                allowed: ["id", "version", "title", "description", "dates", "roles", "defaults", "cycle", "steps"],
                required: ["id", "version", "title", "roles", "steps"]
            )
        else { return nil }
        let id = reader.identifier(top["id"], "id")
        let version = reader.int(top["version"], "version")
        if let version, version < 1, let node = top["version"] { reader.report(at: node, "version must be 1 or more") }
        let title = reader.string(top["title"], "title")
        let description = top["description"].flatMap { reader.string($0, "description") }
        let dates = buildDates(top["dates"])
        let roles = buildRoles(top["roles"])
        let defaultEscalation = top["defaults"].flatMap { node -> Escalation? in
            guard let fields = reader.mapping(node, "defaults", allowed: ["escalation"]) else { return nil }
            return fields["escalation"].flatMap(buildEscalation)
        }
        var taskNodes: [String: Node] = [:]
        var stepKeys: Set<String> = []
        var steps: [Step] = []
        for stepNode in reader.list(top["steps"], "steps") {
            guard let step = buildStep(stepNode, defaultEscalation: defaultEscalation, taskNodes: &taskNodes, stepKeys: &stepKeys) else { continue }
            steps.append(step)
        }
        if top["steps"] != nil, steps.isEmpty, let node = top["steps"] { reader.report(at: node, "a workflow needs at least one step") }
        let cycle = top["cycle"].flatMap { node -> CyclePolicy? in
            guard let fields = reader.mapping(node, "cycle", allowed: ["period", "review"], required: ["period", "review"]),
                let period = reader.duration(fields["period"], "cycle.period"), let review = reader.identifier(fields["review"], "cycle.review")
            else { return nil }
            return CyclePolicy(period: period, review: review)
        }
        guard let id, let version, let title else { return nil }
        let workflow = Workflow(
            id: id,
            version: version,
            title: title,
            description: description,
            dates: dates.values,
            roles: roles.values,
            steps: steps,
            cycle: cycle
        )
        check(workflow, roleNodes: roles.nodes, dateNodes: dates.nodes, taskNodes: taskNodes)
        checkCycle(workflow, node: top["cycle"])
        return workflow
    }

    private func buildDates(_ node: Node?) -> (values: [String: NamedDate], nodes: [String: Node]) {
        guard let node else { return ([:], [:]) }
        guard case .mapping(let mapping) = node else {
            reader.report(at: node, "dates must be a mapping of names to YYYY-MM-DD dates")
            return ([:], [:])
        }
        var values: [String: NamedDate] = [:]
        var nodes: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = reader.identifier(key, "a date's name") else { continue }
            nodes[name] = key
            var text = value.scalar?.string
            var note: String?
            if case .mapping = value, let fields = reader.mapping(value, "date '\(name)'", allowed: ["date", "note"], required: ["date"]) {
                text = reader.string(fields["date"], "date")
                note = fields["note"].flatMap { reader.string($0, "note") }
            }
            guard let text, let date = CalendarDate(text) else {
                reader.report(at: value, "date '\(name)' must be a real day written YYYY-MM-DD")
                continue
            }
            values[name] = NamedDate(date: date, note: note)
        }
        return (values, nodes)
    }

    private func buildRoles(_ node: Node?) -> (values: [Role], nodes: [String: Node]) {
        guard let node else { return ([], [:]) }
        guard case .mapping(let mapping) = node else {
            reader.report(at: node, "roles must be a mapping of role keys to their titles")
            return ([], [:])
        }
        var roles: [Role] = []
        var nodes: [String: Node] = [:]
        for (key, value) in mapping {
            guard let roleKey = reader.identifier(key, "a role key") else { continue }
            if roleKey == "step-owner" { reader.report(at: key, "'step-owner' is reserved for escalation chains; choose another role key") }
            nodes[roleKey] = key
            guard
                let fields = reader.mapping(
                    value,
                    "role '\(roleKey)'",
                    allowed: ["title", "leadership", "manager", "description", "max_members"],
                    required: ["title"]
                )
            else { continue }
            let maxMembers = reader.int(fields["max_members"], "max_members")
            if let maxMembers, maxMembers < 1, let n = fields["max_members"] { reader.report(at: n, "max_members must be 1 or more") }
            roles.append(
                Role(
                    key: roleKey,
                    title: reader.string(fields["title"], "title") ?? roleKey,
                    leadership: reader.bool(fields["leadership"], "leadership") ?? false,
                    manager: reader.bool(fields["manager"], "manager") ?? false,
                    description: fields["description"].flatMap { reader.string($0, "description") },
                    maxMembers: maxMembers
                )
            )
        }
        if roles.isEmpty { reader.report(at: node, "a workflow needs at least one role") }
        if !roles.isEmpty && !roles.contains(where: \.manager) {
            reader.report(at: node, "no role has 'manager: true'; one role must manage programs (bind roles, assign tasks)")
        }
        return (roles, nodes)
    }

    private func buildStep(_ node: Node, defaultEscalation: Escalation?, taskNodes: inout [String: Node], stepKeys: inout Set<String>) -> Step? {
        guard
            let fields = reader.mapping(
                node,
                "a step",
                allowed: ["key", "title", "description", "owner", "tasks"],
                required: ["key", "title", "tasks"]
            )
        else { return nil }
        guard let key = reader.identifier(fields["key"], "a step key") else { return nil }
        if !stepKeys.insert(key).inserted, let n = fields["key"] { reader.report(at: n, "step key '\(key)' is used twice") }
        var tasks: [TaskTemplate] = []
        for taskNode in reader.list(fields["tasks"], "tasks of step '\(key)'") {
            guard let task = buildTask(taskNode, defaultEscalation: defaultEscalation) else { continue }
            if let previous = taskNodes[task.key] {
                let line = previous.mark?.line ?? 0
                reader.report(
                    at: taskNode.mapping?["key"] ?? taskNode,
                    "task key '\(task.key)' is already used on line \(line); task keys are unique in a workflow"
                )
                continue
            }
            taskNodes[task.key] = taskNode
            tasks.append(task)
        }
        if fields["tasks"] != nil, tasks.isEmpty, let n = fields["tasks"] { reader.report(at: n, "step '\(key)' has no tasks") }
        return Step(
            key: key,
            title: reader.string(fields["title"], "title") ?? key,
            description: fields["description"].flatMap { reader.string($0, "description") },
            owner: fields["owner"].flatMap { reader.identifier($0, "owner") },
            tasks: tasks
        )
    }

    private func buildTask(_ node: Node, defaultEscalation: Escalation?) -> TaskTemplate? {
        let allowed = [
            "key", "title", "description", "owner", "depends_on", "due", "evidence", "approval", "escalation", "recurrence", "applies_to", "refs",
            "legal_only", "trigger",
        ]
        guard let fields = reader.mapping(node, "a task", allowed: allowed, required: ["key", "title", "owner"]) else { return nil }
        guard let key = reader.identifier(fields["key"], "a task key") else { return nil }
        let refs = reader.list(fields["refs"], "refs").compactMap { refNode -> String? in
            guard let ref = reader.string(refNode, "a ref") else { return nil }
            guard catalogue[ref] != nil else {
                let hint = catalogue.suggestions(for: ref).first.map { "; did you mean '\($0)'?" } ?? ""
                reader.report(at: refNode, "unknown ref '\(ref)': it is not in the regulatory reference\(hint)")
                return nil
            }
            return ref
        }
        return TaskTemplate(
            key: key,
            title: reader.string(fields["title"], "title") ?? key,
            description: fields["description"].flatMap { reader.string($0, "description") },
            owner: reader.identifier(fields["owner"], "owner") ?? "",
            dependsOn: reader.list(fields["depends_on"], "depends_on").compactMap { reader.identifier($0, "a dependency") },
            due: fields["due"].flatMap(buildDue),
            evidence: reader.list(fields["evidence"], "evidence").compactMap { reader.string($0, "an evidence item") },
            approval: fields["approval"].flatMap(buildApproval),
            escalation: fields["escalation"].flatMap(buildEscalation) ?? defaultEscalation,
            recurrence: fields["recurrence"].flatMap { reader.duration($0, "recurrence") },
            appliesTo: fields["applies_to"].flatMap(buildApplicability),
            refs: refs,
            legalOnly: reader.bool(fields["legal_only"], "legal_only") ?? false,
            trigger: fields["trigger"].flatMap { node -> TaskTrigger? in
                guard let text = reader.string(node, "trigger") else { return nil }
                guard let trigger = TaskTrigger(rawValue: text) else {
                    reader.report(at: node, "trigger must be 'finding' or 'incident', not '\(text)'")
                    return nil
                }
                return trigger
            }
        )
    }

    private func buildDue(_ node: Node) -> DueRule? {
        if case .scalar(let scalar) = node {
            if let date = CalendarDate(scalar.string) { return .fixedDate(date, before: nil) }
            if scalar.string == "incident-clock" { return .incidentClock }
            return reader.duration(node, "due").map(DueRule.afterStart)
        }
        guard let fields = reader.mapping(node, "due", allowed: ["after", "in", "date", "before"]) else { return nil }
        if let after = fields["after"] {
            if fields["date"] != nil || fields["before"] != nil {
                reader.report(at: node, "due takes either 'after' and 'in', or 'date' and 'before'")
            }
            guard let task = reader.identifier(after, "due.after") else { return nil }
            return .afterTask(task, fields["in"].flatMap { reader.duration($0, "due.in") } ?? ISODuration(days: 0))
        }
        guard let dateNode = fields["date"], let text = reader.string(dateNode, "due.date") else {
            reader.report(at: node, "due needs 'after' (a task key) or 'date' (a named date or YYYY-MM-DD)")
            return nil
        }
        let before = fields["before"].flatMap { reader.duration($0, "due.before") }
        if let date = CalendarDate(text) { return .fixedDate(date, before: before) }
        return .namedDate(text, before: before)
    }

    private func buildApproval(_ node: Node) -> ApprovalPolicy? {
        guard let fields = reader.mapping(node, "approval", allowed: ["signers", "order", "separation_of_duties"], required: ["signers"]) else {
            return nil
        }
        var requirements: [ApprovalPolicy.Requirement] = []
        for signer in reader.list(fields["signers"], "signers") {
            if case .scalar = signer, let role = reader.identifier(signer, "a signer role") {
                requirements.append(.init(role: role, quorum: 1))
                continue
            }
            guard let s = reader.mapping(signer, "a signer", allowed: ["role", "quorum"], required: ["role"]),
                let role = reader.identifier(s["role"], "a signer role")
            else { continue }
            let quorum = s["quorum"].flatMap { reader.int($0, "quorum") } ?? 1
            if quorum < 1 {
                reader.report(at: s["quorum"], "quorum \(quorum) for '\(role)' is impossible: at least one member must sign")
            } else if quorum > WorkflowLoader.maximumQuorum {
                reader.report(at: s["quorum"], "quorum \(quorum) for '\(role)' is larger than allowed (\(WorkflowLoader.maximumQuorum) at most)")
            }
            requirements.append(.init(role: role, quorum: quorum))
        }
        if requirements.isEmpty, let n = fields["signers"] { reader.report(at: n, "approval needs at least one signer") }
        var order = ApprovalPolicy.Order.parallel
        if let orderNode = fields["order"], let text = reader.string(orderNode, "order") {
            if let parsed = ApprovalPolicy.Order(rawValue: text) {
                order = parsed
            } else {
                reader.report(at: orderNode, "order must be 'parallel' or 'sequential', not '\(text)'")
            }
        }
        return ApprovalPolicy(
            signers: requirements,
            order: order,
            separationOfDuties: reader.bool(fields["separation_of_duties"], "separation_of_duties") ?? true
        )
    }

    private func buildEscalation(_ node: Node) -> Escalation? {
        guard let fields = reader.mapping(node, "escalation", allowed: ["remind_before", "chain"]) else { return nil }
        let reminders = reader.list(fields["remind_before"], "remind_before").compactMap { reader.duration($0, "remind_before") }
        let chain = reader.list(fields["chain"], "chain").compactMap { levelNode -> Escalation.Level? in
            guard let level = reader.mapping(levelNode, "an escalation level", allowed: ["after", "before", "to"], required: ["to"]) else {
                return nil
            }
            if (level["after"] == nil) == (level["before"] == nil) {
                reader.report(at: levelNode, "an escalation level takes either 'after' (late by) or 'before' (before the due date)")
                return nil
            }
            let beforeDue = level["before"] != nil
            guard let offset = reader.duration(level[beforeDue ? "before" : "after"], beforeDue ? "before" : "after"),
                let to = reader.identifier(level["to"], "to")
            else { return nil }
            return Escalation.Level(after: offset, to: to, beforeDue: beforeDue)
        }
        return Escalation(remindBefore: reminders, chain: chain)
    }

    private func buildApplicability(_ node: Node) -> Applicability? {
        guard let fields = reader.mapping(node, "applies_to", allowed: ["roles", "risk", "gpai"]) else { return nil }
        func values<T: RawRepresentable>(_ key: String, _ type: T.Type, _ all: [T]) -> [T]? where T.RawValue == String {
            guard let list = fields[key] else { return nil }
            return reader.list(list, "applies_to.\(key)").compactMap { item in
                guard let text = reader.string(item, "a value") else { return nil }
                guard let value = T(rawValue: text) else {
                    let names = all.map(\.rawValue)
                    let hint = closest(to: text, among: names).first.map { "; did you mean '\($0)'?" } ?? "; one of \(names.joined(separator: ", "))"
                    reader.report(at: item, "unknown \(key == "roles" ? "operator role" : "risk class") '\(text)'\(hint)")
                    return nil
                }
                return value
            }
        }
        return Applicability(
            operatorRoles: values("roles", OperatorRole.self, OperatorRole.allCases),
            riskClasses: values("risk", RiskClass.self, RiskClass.allCases),
            gpai: reader.bool(fields["gpai"], "gpai")
        )
    }

    // MARK: - Whole-file checks

    private func check(_ workflow: Workflow, roleNodes: [String: Node], dateNodes: [String: Node], taskNodes: [String: Node]) {
        let roleKeys = workflow.roles.map(\.key)
        func checkRole(_ role: String, at node: Node?, _ what: String) {
            guard !role.isEmpty, workflow.role(role) == nil else { return }
            let hint = closest(to: role, among: roleKeys).first.map { "; did you mean '\($0)'?" } ?? ""
            reader.report(at: node, "\(what) '\(role)' is not defined under roles\(hint)")
        }
        let taskKeys = workflow.steps.flatMap(\.tasks).map(\.key)
        for step in workflow.steps {
            if let owner = step.owner { checkRole(owner, at: nil, "step owner") }
            for task in step.tasks {
                let node = taskNodes[task.key]
                let fields = node?.mapping
                checkRole(task.owner, at: fields?["owner"], "owner role")
                for (i, dependency) in task.dependsOn.enumerated() {
                    let depNode = fields?["depends_on"]?.sequence.flatMap { i < $0.count ? $0[i] : nil }
                    if dependency == task.key {
                        reader.report(at: depNode, "task '\(task.key)' depends on itself")
                    } else if let target = workflow.task(dependency) {
                        if target.isPerSystem && !task.isPerSystem {
                            reader.report(
                                at: depNode,
                                "task '\(task.key)' applies once, but depends on '\(dependency)', which applies per AI system; make '\(task.key)' per system too, or depend on a task that applies once"
                            )
                        }
                    } else {
                        let hint = closest(to: dependency, among: taskKeys).first.map { "; did you mean '\($0)'?" } ?? ""
                        reader.report(at: depNode, "task '\(task.key)' depends on unknown task '\(dependency)'\(hint)")
                    }
                }
                if let trigger = task.trigger {
                    if task.isPerSystem {
                        reader.report(
                            at: fields?["applies_to"],
                            "task '\(task.key)' has a trigger; it takes the AI system of its \(trigger.rawValue), so applies_to is not allowed"
                        )
                    }
                    if task.recurrence != nil { reader.report(at: fields?["recurrence"], "task '\(task.key)' has a trigger; it cannot recur too") }
                    for dependency in task.dependsOn where workflow.task(dependency).map({ $0.trigger != trigger }) == true {
                        reader.report(
                            at: fields?["depends_on"],
                            "task '\(task.key)' is instantiated per \(trigger.rawValue); it can depend only on tasks with the same trigger, not on '\(dependency)'"
                        )
                    }
                } else {
                    for dependency in task.dependsOn where workflow.task(dependency)?.trigger != nil {
                        reader.report(
                            at: fields?["depends_on"],
                            "task '\(task.key)' is on the roadmap; it cannot depend on '\(dependency)', which is instantiated per finding or incident"
                        )
                    }
                }
                switch task.due {
                case .incidentClock:
                    if task.trigger != .incident { reader.report(at: fields?["due"], "due 'incident-clock' is for tasks with trigger: incident") }
                case .afterTask(let other, _):
                    if workflow.task(other) == nil {
                        reader.report(at: fields?["due"], "due after unknown task '\(other)'")
                    } else if !task.dependsOn.contains(other) {
                        reader.report(
                            at: fields?["due"],
                            "task '\(task.key)' is due after '\(other)' but does not depend on it; add it to depends_on"
                        )
                    }
                case .namedDate(let name, _):
                    if workflow.dates[name] == nil {
                        let hint = closest(to: name, among: Array(workflow.dates.keys)).first.map { "; did you mean '\($0)'?" } ?? ""
                        reader.report(at: fields?["due"], "due on unknown date '\(name)'; name it under dates\(hint)")
                    }
                default: break
                }
                if let approval = task.approval {
                    var seen: Set<String> = []
                    for requirement in approval.signers {
                        checkRole(requirement.role, at: fields?["approval"], "signer role")
                        if !seen.insert(requirement.role).inserted {
                            reader.report(at: fields?["approval"], "signer role '\(requirement.role)' is listed twice; give it one quorum")
                        }
                        if let max = workflow.role(requirement.role)?.maxMembers, requirement.quorum > max {
                            reader.report(
                                at: fields?["approval"],
                                "quorum \(requirement.quorum) for '\(requirement.role)' is impossible: the role allows at most \(max) members"
                            )
                        }
                    }
                }
                for level in task.escalation?.chain ?? [] {
                    if level.to == "step-owner" {
                        if step.owner == nil {
                            reader.report(at: fields?["escalation"] ?? node, "escalation to step-owner, but step '\(step.key)' has no owner")
                        }
                    } else {
                        checkRole(level.to, at: fields?["escalation"] ?? node, "escalation role")
                    }
                }
                if task.legalOnly && !task.refs.contains(where: { $0.hasPrefix("ai-act:") }) {
                    reader.report(at: fields?["legal_only"], "task '\(task.key)' is marked legal_only but has no ai-act ref naming the obligation")
                }
            }
        }
        for cycle in dependencyCycles(workflow) {
            reader.report(at: taskNodes[cycle[0]], "dependency cycle: \(cycle.joined(separator: " -> ")) -> \(cycle[0])")
        }
    }

    /// The cycle's review must be a roadmap task signed off by leadership, or no cycle could ever close.
    private func checkCycle(_ workflow: Workflow, node: Node?) {
        guard let cycle = workflow.cycle else { return }
        let reviewNode = node?.mapping?["review"] ?? node
        guard let review = workflow.task(cycle.review) else {
            let hint = closest(to: cycle.review, among: workflow.steps.flatMap(\.tasks).map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
            reader.report(at: reviewNode, "cycle review '\(cycle.review)' is not a task of the workflow\(hint)")
            return
        }
        if review.trigger != nil || review.isPerSystem {
            reader.report(at: reviewNode, "cycle review '\(cycle.review)' must be a task that applies once to the program, without a trigger")
        }
        let leadership = Set(workflow.roles.filter(\.leadership).map(\.key))
        if !(review.approval?.signers.contains { leadership.contains($0.role) } ?? false) {
            reader.report(
                at: reviewNode,
                "cycle review '\(cycle.review)' needs an approval signed by a leadership role; a cycle closes on that sign-off"
            )
        }
    }
}

/// Each dependency cycle once, starting at its first task in file order.
func dependencyCycles(_ workflow: Workflow) -> [[String]] {
    let tasks = workflow.steps.flatMap(\.tasks)
    let order = Dictionary(uniqueKeysWithValues: tasks.enumerated().map { ($1.key, $0) })
    let edges = Dictionary(uniqueKeysWithValues: tasks.map { ($0.key, $0.dependsOn.filter { order[$0] != nil && $0 != "" }) })
    var state: [String: Int] = [:]  // 1 visiting, 2 done
    var stack: [String] = []
    var cycles: [[String]] = []
    var seen: Set<String> = []
    func visit(_ key: String) {
        state[key] = 1
        stack.append(key)
        for next in edges[key] ?? [] where next != key {
            if state[next] == 1, let start = stack.firstIndex(of: next) {
                var cycle = Array(stack[start...])
                let first = cycle.indices.min { order[cycle[$0]]! < order[cycle[$1]]! }!
                cycle = Array(cycle[first...] + cycle[..<first])
                if seen.insert(cycle.joined(separator: ">")).inserted { cycles.append(cycle) }
            } else if state[next] == nil {
                visit(next)
            }
        }
        stack.removeLast()
        state[key] = 2
    }
    for task in tasks where state[task.key] == nil { visit(task.key) }
    return cycles
}
