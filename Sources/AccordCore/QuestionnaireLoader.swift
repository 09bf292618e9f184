import Yams

/// Reads a classification questionnaire (docs/classification.md), reporting every problem with its line
/// and column as workflows do: unknown keys, refs not in the catalogue, questions or outcomes citing
/// nothing, `next` pointing nowhere, questions no path reaches, cycles, unknown `set` attributes.
public enum QuestionnaireLoader {
    /// Loads and validates a questionnaire.
    public static func load(yaml: String, file: String, catalogue: ReferenceCatalogue = .builtIn) -> Result<Questionnaire, WorkflowInvalid> {
        let reader = NodeReader(file: file)
        guard
            let root = reader.root(
                of: yaml,
                empty: "the file is empty; a questionnaire needs questionnaire, version, law_version, start, questions and outcomes",
                tooLarge: ""
            )
        else { return .failure(WorkflowInvalid(diagnostics: reader.diagnostics)) }
        return reader.result(QuestionnaireBuilder(reader: reader, catalogue: catalogue).build(root))
    }

    /// Whether a file is a questionnaire rather than a workflow (it starts with the `questionnaire` key).
    public static func isQuestionnaire(yaml: String) -> Bool {
        guard let root = try? Yams.compose(yaml: yaml), case .mapping(let mapping) = root else { return false }
        return mapping.keys.contains { $0.scalar?.string == "questionnaire" }
    }

    /// A one-line summary of a valid questionnaire.
    public static func summary(_ questionnaire: Questionnaire, file: String) -> String {
        "\(file): ok: questionnaire \(questionnaire.id) version \(questionnaire.version) (law \(questionnaire.lawVersion)), \(questionnaire.questions.count) questions, \(questionnaire.outcomes.count) outcomes, \(questionnaire.pathCount) paths"
    }
}

extension Questionnaire {
    /// How many distinct paths lead from the start to the end (branching only at `one` questions).
    public var pathCount: Int {
        var memo: [String: Int] = [:]
        func paths(_ id: String?) -> Int {
            guard let id, let question = question(id) else { return 1 }
            if let known = memo[id] { return known }
            memo[id] = 0
            let targets: [String?] =
                question.kind == .one ? question.options.map { $0.ends ? nil : ($0.next ?? question.next) } : [question.next]
            let count = Set(targets.map { $0 ?? "" }).reduce(0) { $0 + paths($1.isEmpty ? nil : $1) }
            memo[id] = count
            return count
        }
        return paths(start)
    }
}

struct QuestionnaireBuilder {
    let reader: NodeReader
    let catalogue: ReferenceCatalogue

    func build(_ root: Node) -> Questionnaire? {
        let keys = ["questionnaire", "version", "law", "law_version", "title", "description", "start", "questions", "outcomes"]
        guard
            let fields = reader.mapping(
                root,
                "the questionnaire",
                allowed: keys,
                required: ["questionnaire", "version", "law_version", "start", "questions", "outcomes"]
            )
        else { return nil }
        let id = reader.identifier(fields["questionnaire"], "questionnaire")
        let version = reader.int(fields["version"], "version")
        if let version, version < 1 { reader.report(at: fields["version"], "version must be 1 or more") }
        let lawVersion = reader.string(fields["law_version"], "law_version")
        let start = reader.identifier(fields["start"], "start")
        var questionNodes: [String: Node] = [:]
        var questions: [Questionnaire.Question] = []
        for node in reader.list(fields["questions"], "questions") {
            guard let question = buildQuestion(node) else { continue }
            if questionNodes[question.id] != nil {
                reader.report(at: node, "question '\(question.id)' is defined twice")
                continue
            }
            questionNodes[question.id] = node
            questions.append(question)
        }
        var outcomeNodes: [String: Node] = [:]
        var outcomes: [Questionnaire.Outcome] = []
        for node in reader.list(fields["outcomes"], "outcomes") {
            guard let entry = reader.mapping(node, "an outcome", allowed: ["id", "text", "refs"], required: ["id", "text", "refs"]),
                let outcomeID = reader.identifier(entry["id"], "outcome id"), let text = reader.string(entry["text"], "text")
            else { continue }
            if outcomeNodes[outcomeID] != nil {
                reader.report(at: node, "'\(outcomeID)' is defined twice")
                continue
            }
            outcomeNodes[outcomeID] = node
            outcomes.append(.init(id: outcomeID, text: text, refs: refs(entry["refs"], of: "outcome '\(outcomeID)'")))
        }
        guard let id, let version, let lawVersion, let start else { return nil }
        let questionnaire = Questionnaire(
            id: id,
            version: version,
            law: reader.string(fields["law"], "law") ?? "",
            lawVersion: lawVersion,
            title: reader.string(fields["title"], "title") ?? id,
            description: reader.string(fields["description"], "description") ?? "",
            start: start,
            questions: questions,
            outcomes: outcomes
        )
        check(questionnaire, startNode: fields["start"], questionNodes: questionNodes, outcomeNodes: outcomeNodes)
        return questionnaire
    }

    private func refs(_ node: Node?, of what: String) -> [String] {
        let refs = reader.list(node, "refs").compactMap { refNode -> String? in
            guard let ref = reader.string(refNode, "a ref") else { return nil }
            guard catalogue[ref] != nil else {
                let hint = catalogue.suggestions(for: ref).first.map { "; did you mean '\($0)'?" } ?? ""
                reader.report(at: refNode, "ref '\(ref)' is not in the regulatory reference\(hint)")
                return nil
            }
            return ref
        }
        if node != nil, refs.isEmpty, reader.list(node, "refs").isEmpty {
            reader.report(at: node, "\(what) cites nothing; give the article, paragraph or annex point it rests on")
        }
        return refs
    }

    private func buildQuestion(_ node: Node) -> Questionnaire.Question? {
        let keys = ["id", "text", "help", "refs", "kind", "required", "field", "next", "options"]
        guard let fields = reader.mapping(node, "a question", allowed: keys, required: ["id", "text", "refs", "kind"]),
            let id = reader.identifier(fields["id"], "question id"), let text = reader.string(fields["text"], "text"),
            let kindText = reader.string(fields["kind"], "kind")
        else { return nil }
        guard let kind = Questionnaire.Kind(rawValue: kindText) else {
            reader.report(at: fields["kind"], "kind '\(kindText)' is not one of one, several, text")
            return nil
        }
        var field: Questionnaire.TextField?
        if let fieldNode = fields["field"], let name = reader.string(fieldNode, "field") {
            field = Questionnaire.TextField(rawValue: name)
            if field == nil {
                reader.report(
                    at: fieldNode,
                    "field '\(name)' is not one of \(Questionnaire.TextField.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }
        if kind == .text, fields["field"] == nil { reader.report(at: node, "text question '\(id)' needs 'field': the attribute its answer fills") }
        if kind != .text, fields["field"] != nil { reader.report(at: fields["field"], "only text questions take 'field'") }
        let next = nextTarget(fields["next"])
        var options: [Questionnaire.Option] = []
        var values: Set<String> = []
        for optionNode in reader.list(fields["options"], "options") {
            guard let option = buildOption(optionNode, kind: kind) else { continue }
            if !values.insert(option.value).inserted { reader.report(at: optionNode, "option '\(option.value)' appears twice in '\(id)'") }
            options.append(option)
        }
        switch kind {
        case .text:
            if fields["options"] != nil { reader.report(at: fields["options"], "text question '\(id)' takes no options") }
        case .one, .several:
            if options.count < (kind == .one ? 2 : 1) {
                reader.report(at: fields["options"] ?? node, "question '\(id)' needs \(kind == .one ? "two options or more" : "an option or more")")
            }
        }
        if kind != .one || options.contains(where: { $0.next == nil && !$0.ends }), fields["next"] == nil {
            reader.report(at: node, "question '\(id)' needs 'next' (a question id or end)\(kind == .one ? ", or every option its own" : "")")
        }
        return .init(
            id: id,
            text: text,
            help: reader.string(fields["help"], "help"),
            refs: refs(fields["refs"], of: "question '\(id)'"),
            kind: kind,
            required: reader.bool(fields["required"], "required") ?? false,
            field: field,
            next: next.target,
            options: options
        )
    }

    private func nextTarget(_ node: Node?) -> (target: String?, ends: Bool) {
        guard let node, let text = reader.identifier(node, "next") else { return (nil, false) }
        return text == "end" ? (nil, true) : (text, false)
    }

    private func buildOption(_ node: Node, kind: Questionnaire.Kind) -> Questionnaire.Option? {
        guard let fields = reader.mapping(node, "an option", allowed: ["value", "text", "set", "outcome", "next"], required: ["value", "text"]),
            let value = reader.identifier(fields["value"], "option value"), let text = reader.string(fields["text"], "text")
        else { return nil }
        var assignments: [Assignment] = []
        if let setNode = fields["set"] {
            if case .mapping(let mapping) = setNode {
                for (key, valueNode) in mapping {
                    guard let name = key.scalar?.string, let raw = valueNode.scalar?.string else {
                        reader.report(at: key, "set takes attribute: value pairs")
                        continue
                    }
                    switch Assignment.parse(key: name, value: raw) {
                    case .success(let assignment): assignments.append(assignment)
                    case .failure(let problem): reader.report(at: valueNode, problem.message)
                    }
                }
            } else {
                reader.report(at: setNode, "set must be a mapping (attribute: value)")
            }
        }
        if kind != .one, fields["next"] != nil { reader.report(at: fields["next"], "only options of a 'one' question take their own next") }
        let next = nextTarget(fields["next"])
        return .init(
            value: value,
            text: text,
            set: assignments,
            outcome: fields["outcome"].flatMap { reader.identifier($0, "outcome") },
            next: next.target,
            ends: next.ends
        )
    }

    /// Whole-tree checks: targets exist, every question is reachable, no cycle, every outcome defined and used.
    private func check(_ questionnaire: Questionnaire, startNode: Node?, questionNodes: [String: Node], outcomeNodes: [String: Node]) {
        let ids = questionnaire.questions.map(\.id)
        func checkTarget(_ target: String?, at node: Node?) {
            guard let target, questionnaire.question(target) == nil else { return }
            let hint = closest(to: target, among: ids).first.map { "; did you mean '\($0)'?" } ?? ""
            reader.report(at: node, "next '\(target)' is not a question (or end)\(hint)")
        }
        checkTarget(questionnaire.start, at: startNode)
        var usedOutcomes: Set<String> = []
        for question in questionnaire.questions {
            let node = questionNodes[question.id]?.mapping
            checkTarget(question.next, at: node?["next"])
            for (i, option) in question.options.enumerated() {
                let optionNode = node?["options"]?.sequence.flatMap { i < $0.count ? $0[i] : nil }
                checkTarget(option.next, at: optionNode?.mapping?["next"])
                if let outcome = option.outcome {
                    usedOutcomes.insert(outcome)
                    if questionnaire.outcome(outcome) == nil {
                        reader.report(at: optionNode?.mapping?["outcome"], "outcome '\(outcome)' is not defined under outcomes")
                    }
                }
            }
        }
        for outcome in questionnaire.outcomes where !usedOutcomes.contains(outcome.id) {
            reader.report(at: outcomeNodes[outcome.id], "outcome '\(outcome.id)' is recorded by no option; no walk can reach it")
        }
        // Reachability and cycles, by depth-first search from the start.
        func successors(_ question: Questionnaire.Question) -> [String] {
            var targets = [question.next].compactMap { $0 }
            if question.kind == .one { targets += question.options.compactMap(\.next) }
            return Array(Set(targets)).sorted().filter { questionnaire.question($0) != nil }
        }
        var state: [String: Int] = [:]  // 1 on the current path, 2 finished
        var reported = false
        func visit(_ id: String) {
            guard let question = questionnaire.question(id) else { return }
            state[id] = 1
            for next in successors(question) {
                if state[next] == 1, !reported {
                    reader.report(at: questionNodes[next], "question '\(next)' can be reached again from '\(id)': the questions form a cycle")
                    reported = true
                } else if state[next] == nil {
                    visit(next)
                }
            }
            state[id] = 2
        }
        visit(questionnaire.start)
        for question in questionnaire.questions where state[question.id] == nil {
            reader.report(at: questionNodes[question.id], "question '\(question.id)' is reached by no path from '\(questionnaire.start)'")
        }
    }
}
