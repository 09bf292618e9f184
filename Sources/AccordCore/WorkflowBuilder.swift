import Yams

/// Builds the model from nodes, then checks what spans the whole file (roles, dependencies, cycles).
struct WorkflowBuilder {
    let reader: NodeReader
    let catalogue: ReferenceCatalogue

    func build(_ root: Node) -> Workflow? {
        guard
            let top = reader.mapping(
                root,
                "the workflow",
                allowed: ["id", "version", "title", "description", "dates", "roles", "defaults", "cycle", "classification", "steps"],
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
        let classification = top["classification"].flatMap { node -> ClassificationPolicy? in
            guard let fields = reader.mapping(node, "classification", allowed: ["questionnaire", "task"], required: ["questionnaire", "task"]),
                let questionnaire = reader.identifier(fields["questionnaire"], "classification.questionnaire"),
                let task = reader.identifier(fields["task"], "classification.task")
            else { return nil }
            return ClassificationPolicy(questionnaire: questionnaire, task: task)
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
            cycle: cycle,
            classification: classification
        )
        check(workflow, roleNodes: roles.nodes, dateNodes: dates.nodes, taskNodes: taskNodes)
        checkCycle(workflow, node: top["cycle"])
        checkClassification(workflow, node: top["classification"])
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
                let framework = String(ref.prefix { $0 != ":" })
                let hint =
                    catalogue.frameworkIDs.contains(framework) || !ref.contains(":")
                    ? catalogue.suggestions(for: ref).first.map { "; did you mean '\($0)'?" } ?? ""
                    : "; '\(framework)' is no framework of the catalogue (import its library with `accord catalogue import`)"
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
            appliesTo: fields["applies_to"].flatMap { buildApplicability($0) },
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
        let before = fields["before"].flatMap { reader.duration($0, "due.before") }
        if let dateNode = fields["date"], case .sequence(let choices) = dateNode {
            // Per-system named dates: [{when: {applies_to conditions}, date: NAME}, …, {date: NAME}].
            let built: [DateChoice] = choices.compactMap { choice in
                guard let entry = reader.mapping(choice, "a date choice", allowed: ["when", "date"], required: ["date"]),
                    let name = reader.identifier(entry["date"], "date")
                else { return nil }
                return DateChoice(when: entry["when"].flatMap { buildApplicability($0, "when") }, date: name)
            }
            guard !built.isEmpty else {
                reader.report(at: dateNode, "due.date lists no choices")
                return nil
            }
            return .namedDateBySystem(built, before: before)
        }
        guard let dateNode = fields["date"], let text = reader.string(dateNode, "due.date") else {
            reader.report(at: node, "due needs 'after' (a task key) or 'date' (a named date or YYYY-MM-DD)")
            return nil
        }
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

    /// Reads `applies_to` (or a date choice's `when`): every key is a condition on the system's profile.
    func buildApplicability(_ node: Node, _ what: String = "applies_to") -> Applicability? {
        let keys = [
            "roles", "risk", "route", "annex_iii", "third_party_assessment", "transparency", "prohibited", "gpai_model",
            "built_on_gpai", "open_source", "public_service", "outside_union", "size", "legacy", "gpai", "any", "not",
        ]
        guard let fields = reader.mapping(node, what, allowed: keys) else { return nil }
        func values<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type, _ noun: String) -> [T]? where T.RawValue == String {
            guard let list = fields[key] else { return nil }
            return reader.list(list, "\(what).\(key)").compactMap { item in
                guard let text = reader.string(item, "a value") else { return nil }
                guard let value = T(rawValue: text) else {
                    let names = T.allCases.map(\.rawValue)
                    let hint = closest(to: text, among: names).first.map { "; did you mean '\($0)'?" } ?? "; one of \(names.joined(separator: ", "))"
                    reader.report(at: item, "unknown \(noun) '\(text)'\(hint)")
                    return nil
                }
                return value
            }
        }
        let points: [String]? = fields["annex_iii"].map { list in
            reader.list(list, "\(what).annex_iii").compactMap { item in
                guard let text = reader.string(item, "an Annex III point") else { return nil }
                guard AnnexIII.isPoint(text) else {
                    reader.report(at: item, "'\(text)' is not an Annex III point; write the area 1 to 8, or the area and sub-point as in \"5(b)\"")
                    return nil
                }
                return text
            }
        }
        return Applicability(
            operatorRoles: values("roles", OperatorRole.self, "operator role"),
            riskClasses: values("risk", RiskClass.self, "risk class"),
            routes: values("route", HighRiskRoute.self, "high-risk route"),
            annexIII: points,
            thirdPartyAssessment: reader.bool(fields["third_party_assessment"], "third_party_assessment"),
            transparency: values("transparency", TransparencyCase.self, "Art. 50 case"),
            prohibited: values("prohibited", ProhibitedPractice.self, "Art. 5 practice"),
            gpaiModel: values("gpai_model", GPAIModelRole.self, "GPAI model role"),
            builtOnGPAI: reader.bool(fields["built_on_gpai"], "built_on_gpai"),
            openSource: reader.bool(fields["open_source"], "open_source"),
            publicService: reader.bool(fields["public_service"], "public_service"),
            outsideUnion: reader.bool(fields["outside_union"], "outside_union"),
            size: values("size", OrganisationSize.self, "organisation size"),
            legacy: reader.bool(fields["legacy"], "legacy"),
            gpai: reader.bool(fields["gpai"], "gpai"),
            any: fields["any"].map { list in reader.list(list, "\(what).any").compactMap { buildApplicability($0, "\(what).any") } },
            not: fields["not"].flatMap { buildApplicability($0, "\(what).not") }
        )
    }
}
