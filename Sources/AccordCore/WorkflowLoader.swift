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
        guard
            let root = reader.root(
                of: yaml,
                empty: "the file is empty; a workflow needs id, version, title, roles and steps",
                tooLarge: "; a workflow is far smaller"
            )
        else { return .failure(WorkflowInvalid(diagnostics: reader.diagnostics)) }
        return reader.result(WorkflowBuilder(reader: reader, catalogue: catalogue).build(root))
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

    /// The document's root node, or `nil` with the problem reported: YAML syntax, an empty file, or more
    /// nodes than `limit` (`tooLarge` ends that message).
    func root(of yaml: String, empty: String, tooLarge: String, limit: Int = WorkflowLoader.maximumNodes) -> Node? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            yamlError(error)
            return nil
        } catch {
            report(at: nil, "cannot read the YAML: \(error)")
            return nil
        }
        guard let root else {
            report(at: nil, empty)
            return nil
        }
        guard countNodes(root, limit: limit) <= limit else {
            report(at: root, "the document expands to more than \(limit) nodes (are aliases nesting?)\(tooLarge)")
            return nil
        }
        return root
    }

    /// What was built, when nothing was reported; else every problem, in file order.
    func result<T>(_ built: T?) -> Result<T, WorkflowInvalid> {
        if let built, diagnostics.isEmpty { return .success(built) }
        return .failure(WorkflowInvalid(diagnostics: diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }))
    }

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
    func countNodes(_ node: Node, limit: Int = WorkflowLoader.maximumNodes) -> Int {
        var count = 0
        var stack = [node]
        while let next = stack.popLast() {
            count += 1
            if count > limit { return count }
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
