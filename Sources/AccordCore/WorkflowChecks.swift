import Yams

// MARK: - Whole-file checks

extension WorkflowBuilder {
    func check(_ workflow: Workflow, roleNodes: [String: Node], dateNodes: [String: Node], taskNodes: [String: Node]) {
        let roleKeys = workflow.roles.map(\.key)
        func checkRole(_ role: String, at node: Node?, _ what: String) {
            guard !role.isEmpty, workflow.role(role) == nil else { return }
            let hint = closest(to: role, among: roleKeys).first.map { "; did you mean '\($0)'?" } ?? ""
            reader.report(at: node, "\(what) '\(role)' is not defined under roles\(hint)")
        }
        func checkDate(_ name: String, at node: Node?) {
            guard workflow.dates[name] == nil else { return }
            let hint = closest(to: name, among: Array(workflow.dates.keys)).first.map { "; did you mean '\($0)'?" } ?? ""
            reader.report(at: node, "due on unknown date '\(name)'; name it under dates\(hint)")
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
                    // An incident always has a system, so its tasks may follow the path of the organisation's role
                    // for it (Art. 73 for providers, Art. 26(5) for deployers); a finding may have none.
                    if task.isPerSystem, trigger != .incident {
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
                    checkDate(name, at: fields?["due"])
                case .namedDateBySystem(let choices, _):
                    for choice in choices { checkDate(choice.date, at: fields?["due"]) }
                    if !task.isPerSystem { reader.report(at: fields?["due"], "a due date chosen per system needs applies_to") }
                    if choices.last?.when != nil {
                        reader.report(at: fields?["due"], "the last date choice needs no 'when', so every system gets a date")
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
    /// The task a top-level key names, or `nil` with "WHAT 'KEY' is not a task of the workflow" reported.
    private func template(_ key: String, of workflow: Workflow, at node: Node?, _ what: String) -> TaskTemplate? {
        if let task = workflow.task(key) { return task }
        let hint = closest(to: key, among: workflow.steps.flatMap(\.tasks).map(\.key)).first.map { "; did you mean '\($0)'?" } ?? ""
        reader.report(at: node, "\(what) '\(key)' is not a task of the workflow\(hint)")
        return nil
    }

    func checkClassification(_ workflow: Workflow, node: Node?) {
        guard let policy = workflow.classification else { return }
        let taskNode = node?.mapping?["task"] ?? node
        guard let task = template(policy.task, of: workflow, at: taskNode, "classification task") else { return }
        if task.trigger != nil || task.appliesTo != Applicability() {
            reader.report(at: taskNode, "classification task '\(policy.task)' must apply to every AI system (applies_to: {}) without a trigger")
        }
        if task.approval == nil {
            reader.report(at: taskNode, "classification task '\(policy.task)' needs an approval: the classification is signed")
        }
        if task.recurrence != nil {
            reader.report(at: taskNode, "classification task '\(policy.task)' cannot recur; a reclassification reopens it")
        }
    }

    func checkCycle(_ workflow: Workflow, node: Node?) {
        guard let cycle = workflow.cycle else { return }
        let reviewNode = node?.mapping?["review"] ?? node
        guard let review = template(cycle.review, of: workflow, at: reviewNode, "cycle review") else { return }
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
