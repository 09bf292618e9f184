public import AccordCore
import Foundation
import Postgres

/// What moving a program to a newer workflow version does.
public struct UpgradePlan: Codable, Sendable, Equatable {
    /// The program's slug.
    public var program: String
    /// What changed between the two versions.
    public var diff: WorkflowDiff
    /// New tasks, as refs.
    public var add: [String]
    /// Outstanding tasks removed from the workflow, retired with a reason.
    public var retire: [String]
    /// Tasks whose definition changed, updated in place (done work stays done).
    public var update: [String]
    /// Done tasks of removed templates: kept as they are, for history.
    public var keep: [String]
    /// Whether the plan was written.
    public var applied: Bool
    /// The same changes per AI system: what each system gains and loses.
    public var systems: [SystemChanges] = []

    /// One AI system's part of an upgrade.
    public struct SystemChanges: Codable, Sendable, Equatable {
        /// The system's slug.
        public var system: String
        /// Its new tasks' keys.
        public var added: [String]
        /// Its outstanding tasks retired, by key.
        public var retired: [String]
        /// Its done tasks kept though their template no longer applies, by key.
        public var kept: [String]
    }

    /// Groups the per-system refs of `add`, `retire` and `keep` by system.
    mutating func groupBySystem() {
        func split(_ ref: String) -> (system: String, key: String)? {
            guard let at = ref.firstIndex(of: "@") else { return nil }
            let key = ref[..<at].split(separator: "/").last.map(String.init) ?? ""
            let system = ref[ref.index(after: at)...].prefix { $0 != "+" }
            return (String(system), key)
        }
        var order: [String] = []
        var changes: [String: SystemChanges] = [:]
        func note(_ refs: [String], _ path: WritableKeyPath<SystemChanges, [String]>) {
            for ref in refs {
                guard let (system, key) = split(ref) else { continue }
                if changes[system] == nil {
                    order.append(system)
                    changes[system] = SystemChanges(system: system, added: [], retired: [], kept: [])
                }
                changes[system]?[keyPath: path].append(key)
            }
        }
        note(add, \.added)
        note(retire, \.retired)
        note(keep, \.kept)
        systems = order.sorted().compactMap { changes[$0] }
    }
}

enum UpgradeSQL {
    static let instances = PostgresQuery<Int64, UpgradeInstance>(
        "upgrade_instances",
        """
        SELECT t.id, t.template_key, t.state, t.system_id, s.slug AS system FROM accord.task t
        LEFT JOIN accord.ai_system s ON s.id = t.system_id WHERE t.program_id = $1 AND t.instance = '' ORDER BY t.position, s.slug
        """,
        row: UpgradeInstance.init(row:)
    )
    static let retire = PostgresCommand<Int64, String>(
        "upgrade_retire_task",
        """
        UPDATE accord.task SET state = 'retired', retired_reason = $2, updated_at = now() WHERE id = $1
        """
    )
    static let redefine = PostgresCommand<Int64, String, String, String, Int>(
        "upgrade_redefine_task",
        """
        UPDATE accord.task SET title = $2, owner_role = $3, step_key = $4, position = $5, updated_at = now() WHERE id = $1
        """
    )
    static let dropDependencies = PostgresCommand<Int64>(
        "upgrade_drop_dependencies",
        "DELETE FROM accord.task_dependency WHERE task_id = $1"
    )
    static let setVersion = PostgresCommand<Int64, Int>(
        "upgrade_set_workflow_version",
        "UPDATE accord.program SET workflow_version = $2 WHERE id = $1"
    )
    /// Sets the program's open and blocked tasks open or blocked again from their dependencies.
    static let resettle = PostgresCommand<Int64>(
        "upgrade_resettle",
        """
        UPDATE accord.task t SET state = CASE WHEN EXISTS (
            SELECT 1 FROM accord.task_dependency d JOIN accord.task u ON u.id = d.depends_on
            WHERE d.task_id = t.id AND u.state NOT IN ('done', 'not_applicable', 'retired')) THEN 'blocked' ELSE 'open' END,
            updated_at = now()
        WHERE t.program_id = $1 AND t.state IN ('blocked', 'open')
        RETURNING t.id
        """
    )

    static let catalogue: [any PostgresCheckable] = [instances, retire, redefine, dropDependencies, setVersion, resettle]
}

/// A roadmap task of a program, as an upgrade sorts it.
struct UpgradeInstance {
    var id: Int64
    var key: String
    var state: TaskState
    var systemID: Int64?
    var system: String?

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        key = try row.decode(String.self, "template_key")
        state = try row.decode(TaskState.self, "state")
        systemID = try row.decode(Int64?.self, "system_id")
        system = try row.decode(String?.self, "system")
    }
}

extension Store {
    /// The difference between two stored versions of a workflow.
    public func workflowDiff(_ id: String, from: Int, to: Int) async throws -> WorkflowDiff {
        try await pool.withConnection { connection in
            WorkflowDiff.compare(try await Self.workflow(id, version: from, on: connection), try await Self.workflow(id, version: to, on: connection))
        }
    }

    /// Moves a running program to another version of its workflow, keeping done work, evidence and
    /// signatures: new tasks are added, outstanding tasks of removed templates are retired with a
    /// recorded reason, changed ones are updated. With `dryRun` nothing is written. Managers.
    public func upgradeProgram(_ slug: String, to version: Int, dryRun: Bool, actor: String?) async throws -> UpgradePlan {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let old = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            try await Self.requireManager(acting, of: program, workflow: old, to: "upgrade the program", on: connection)
            guard version != program.workflowVersion else {
                throw AccordError(.conflict, "program '\(slug)' already runs \(old.id) version \(version)")
            }
            guard version > program.workflowVersion else {
                throw AccordError(.conflict, "program '\(slug)' runs version \(program.workflowVersion); upgrades only move forward")
            }
            let new = try await Self.workflow(program.workflowID, version: version, on: connection)
            // A manager does not give themselves authority by upgrade either: a role they hold that would
            // newly sign or lead is an administrator's to grant.
            if !acting.isAdmin {
                for role in try await Self.roles(of: acting, in: program, on: connection).sorted()
                where new.grantsAuthority(role: role) && !old.grantsAuthority(role: role) {
                    throw AccordError(
                        .forbidden,
                        "in \(new.id) version \(version) '\(role)' signs or leads, and \(acting.handle) holds it; an administrator upgrades '\(slug)'"
                    )
                }
            }
            let diff = WorkflowDiff.compare(old, new)
            let systems = try await connection.query(SystemSQL.rows, program.id)
            let instances = try await connection.query(UpgradeSQL.instances, program.id)
            var plan = UpgradePlan(program: slug, diff: diff, add: [], retire: [], update: [], keep: [], applied: !dryRun)
            let reason = "removed in \(new.id) version \(version)"
            let changedKeys = Set(diff.changedTasks.map(\.task))
            let positions = Dictionary(uniqueKeysWithValues: new.tasks.enumerated().map { ($1.task.key, $0) })
            var toRetire: [(Int64, String)] = []
            var toAdd: [(templates: [(step: Step, task: TaskTemplate)], system: SystemRow?)] = []
            // Removed templates, and per-system instances whose system no longer matches.
            for instance in instances where instance.state != .retired {
                let ref = taskRef(program: slug, key: instance.key, system: instance.system)
                let template = new.task(instance.key)
                let stillApplies: Bool = {
                    guard let template else { return false }
                    guard let systemID = instance.systemID else { return !template.isPerSystem }
                    guard let system = systems.first(where: { $0.id == systemID }) else { return false }
                    return template.appliesTo?.matches(system.profile) ?? false
                }()
                if !stillApplies {
                    if instance.state == .done {
                        plan.keep.append(ref)
                    } else {
                        plan.retire.append(ref)
                        toRetire.append((instance.id, ref))
                    }
                } else if changedKeys.contains(instance.key) {
                    plan.update.append(ref)
                }
            }
            // New templates, and existing per-system templates that now match more systems. A retired
            // instance counts as existing: one template has one task per system for the program's life.
            let existing = Set(instances.map { "\($0.key)@\($0.systemID.map(String.init) ?? "")" })
            let globals = new.roadmapTasks.filter { !$0.task.isPerSystem && !existing.contains("\($0.task.key)@") }
            if !globals.isEmpty { toAdd.append((globals, nil)) }
            for system in systems {
                let templates = new.roadmapTasks.filter {
                    $0.task.appliesTo?.matches(system.profile) == true && !existing.contains("\($0.task.key)@\(system.id)")
                }
                if !templates.isEmpty { toAdd.append((templates, system)) }
            }
            for batch in toAdd {
                plan.add += batch.templates.map { taskRef(program: slug, key: $0.task.key, system: batch.system?.slug) }
            }
            plan.groupBySystem()
            guard !dryRun else { return plan }

            try await connection.execute(UpgradeSQL.setVersion, program.id, version)
            var upgraded = program
            upgraded.workflowVersion = version
            for (id, ref) in toRetire {
                try await connection.execute(UpgradeSQL.retire, id, reason)
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(slug),
                        actor: acting.handle,
                        action: "task.retire",
                        objectType: "task",
                        objectID: ref,
                        after: auditJSON(["state": "retired"]),
                        reason: reason
                    )
                )
            }
            for instance in instances
            where changedKeys.contains(instance.key) && instance.state != .retired && !toRetire.contains(where: { $0.0 == instance.id }) {
                guard let (step, template) = new.tasks.first(where: { $0.task.key == instance.key }) else { continue }
                try await connection.execute(UpgradeSQL.redefine, instance.id, template.title, template.owner, step.key, positions[template.key] ?? 0)
                guard instance.state.isOutstanding else { continue }
                let system = systems.first { $0.id == instance.systemID }
                let due = DueDates.due(template.due, programStart: program.startsOn, systemAdded: system?.addedOn, dates: new.dates)
                if case .afterTask = template.due {} else { try await connection.execute(TaskSQL.setDue, instance.id, due?.description) }
                try await connection.execute(UpgradeSQL.dropDependencies, instance.id)
                for dependency in template.dependsOn {
                    guard let target = new.task(dependency) else { continue }
                    if let found = try await connection.queryFirst(
                        TaskSQL.instance,
                        program.id,
                        dependency,
                        target.isPerSystem ? instance.systemID : nil,
                        "",
                        nil
                    ) {
                        try await connection.execute(TaskSQL.addDependency, instance.id, found.id)
                    }
                }
            }
            for batch in toAdd {
                try await Self.instantiate(batch.templates, of: new, in: upgraded, system: batch.system, on: connection)
            }
            try await connection.execute(UpgradeSQL.resettle, program.id)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "program.upgrade",
                    objectType: "program",
                    objectID: slug,
                    before: auditJSON(["workflow": old.id, "version": String(old.version)]),
                    after: auditJSON(UpgradeRecord(version: version, added: plan.add, retired: plan.retire, updated: plan.update, kept: plan.keep))
                )
            )
            return plan
        }
    }
}

struct UpgradeRecord: Encodable {
    var version: Int
    var added: [String]
    var retired: [String]
    var updated: [String]
    var kept: [String]
}
