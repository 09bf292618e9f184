/// What changes from one workflow version to another.
public struct WorkflowDiff: Codable, Sendable, Equatable {
    /// A task template present in both versions that differs.
    public struct Change: Codable, Sendable, Equatable {
        /// The task template's key.
        public var task: String
        /// Each difference in words, e.g. "due: P30D -> P45D".
        public var changes: [String]
        /// Creates the value from its fields.
        public init(task: String, changes: [String]) {
            self.task = task
            self.changes = changes
        }
    }
    /// The old version's number.
    public var from: Int
    /// The new version's number.
    public var to: Int
    /// Keys of task templates only the new version has, in its order.
    public var addedTasks: [String]
    /// Keys of task templates only the old version has, in its order.
    public var removedTasks: [String]
    /// Templates in both versions that differ, in the new version's order.
    public var changedTasks: [Change]
    /// Keys of roles only the new version has.
    public var addedRoles: [String]
    /// Keys of roles only the old version has.
    public var removedRoles: [String]
    /// Named dates added, removed or changed, as "NAME: OLD -> NEW" ("none" when absent), by name.
    public var changedDates: [String]

    /// Whether nothing differs.
    public var isEmpty: Bool {
        addedTasks.isEmpty && removedTasks.isEmpty && changedTasks.isEmpty && addedRoles.isEmpty && removedRoles.isEmpty && changedDates.isEmpty
    }

    /// Compares two versions of a workflow.
    public static func compare(_ old: Workflow, _ new: Workflow) -> WorkflowDiff {
        let oldTasks = Dictionary(uniqueKeysWithValues: old.tasks.map { ($0.task.key, $0) })
        let newTasks = Dictionary(uniqueKeysWithValues: new.tasks.map { ($0.task.key, $0) })
        var changed: [Change] = []
        for (step, task) in new.tasks {
            guard let (oldStep, previous) = oldTasks[task.key] else { continue }
            var changes: [String] = []
            func note<T: Equatable>(_ name: String, _ a: T, _ b: T, _ show: (T) -> String) {
                if a != b { changes.append("\(name): \(show(a)) -> \(show(b))") }
            }
            note("step", oldStep.key, step.key) { $0 }
            note("title", previous.title, task.title) { "'\($0)'" }
            note("owner", previous.owner, task.owner) { $0 }
            note("depends_on", previous.dependsOn, task.dependsOn) { $0.isEmpty ? "none" : $0.joined(separator: ", ") }
            note("due", previous.due, task.due) { describe($0) }
            note("refs", previous.refs, task.refs) { $0.joined(separator: ", ") }
            note("approval", previous.approval, task.approval) { describe($0) }
            note("applies_to", previous.appliesTo, task.appliesTo) { describe($0) }
            note("evidence", previous.evidence, task.evidence) { "\($0.count) item(s)" }
            note("escalation", previous.escalation, task.escalation) { $0 == nil ? "none" : "\($0!.chain.count) level(s)" }
            note("recurrence", previous.recurrence, task.recurrence) { $0?.description ?? "none" }
            note("description", previous.description, task.description) { $0 == nil ? "none" : "text" }
            note("legal_only", previous.legalOnly, task.legalOnly) { "\($0)" }
            if !changes.isEmpty { changed.append(Change(task: task.key, changes: changes)) }
        }
        let oldRoles = Set(old.roles.map(\.key))
        let newRoles = Set(new.roles.map(\.key))
        let dates = Set(old.dates.keys).union(new.dates.keys).filter { old.dates[$0] != new.dates[$0] }.sorted().map { name in
            "\(name): \(old.dates[name]?.date.description ?? "none") -> \(new.dates[name]?.date.description ?? "none")"
        }
        return WorkflowDiff(
            from: old.version,
            to: new.version,
            addedTasks: new.tasks.map(\.task.key).filter { oldTasks[$0] == nil },
            removedTasks: old.tasks.map(\.task.key).filter { newTasks[$0] == nil },
            changedTasks: changed,
            addedRoles: new.roles.map(\.key).filter { !oldRoles.contains($0) },
            removedRoles: old.roles.map(\.key).filter { !newRoles.contains($0) },
            changedDates: dates
        )
    }

    /// The diff as lines for people.
    public var lines: [String] {
        var out: [String] = []
        out += addedTasks.map { "+ task \($0)" }
        out += removedTasks.map { "- task \($0)" }
        for change in changedTasks { out += change.changes.map { "~ task \(change.task): \($0)" } }
        out += addedRoles.map { "+ role \($0)" }
        out += removedRoles.map { "- role \($0)" }
        out += changedDates.map { "~ date \($0)" }
        return out
    }
}

func describe(_ rule: DueRule?) -> String {
    switch rule {
    case nil: "none"
    case .afterStart(let d): "\(d) after start"
    case .afterTask(let task, let d): "\(d) after \(task)"
    case .namedDate(let name, let before): before.map { "\($0) before \(name)" } ?? name
    case .namedDateBySystem(let choices, let before):
        (before.map { "\($0) before " } ?? "")
            + choices.map { choice in choice.when.map { "\(choice.date) for \($0.summary)" } ?? choice.date }.joined(separator: ", else ")
    case .fixedDate(let date, let before): before.map { "\($0) before \(date)" } ?? date.description
    case .incidentClock: "when the incident's notification clock runs out"
    }
}

func describe(_ policy: ApprovalPolicy?) -> String {
    guard let policy else { return "none" }
    return policy.signers.map { "\($0.quorum) \($0.role)" }.joined(separator: " + ")
        + " (\(policy.order.rawValue)\(policy.separationOfDuties ? "" : ", no separation of duties"))"
}

func describe(_ applicability: Applicability?) -> String {
    applicability?.summary ?? "all (once)"
}
