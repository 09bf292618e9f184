import Foundation

/// A file compiled into the binary from the package's `sql/` or `workflows/` folder.
public struct EmbeddedFile: Sendable, Hashable {
    /// The path relative to the package root, e.g. `sql/0001_core.sql`.
    public let path: String
    /// The file's exact bytes.
    public let bytes: [UInt8]

    /// The file name without its folder, e.g. `0001_core.sql`.
    public var name: String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// Whether it is a questionnaire: a line of it starts with the top-level key `questionnaire:`.
    public var isQuestionnaire: Bool { text.split(separator: "\n").contains { $0.hasPrefix("questionnaire:") } }

    /// The bytes as UTF-8 text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// The schema migrations and workflow definitions the binary was built with.
public enum Resources {
    /// Every embedded file, sorted by path.
    public static let files: [EmbeddedFile] = EmbeddedFiles.all.map { entry in
        EmbeddedFile(path: entry.path, bytes: Array(Data(base64Encoded: entry.base64) ?? Data()))
    }.sorted { $0.path < $1.path }

    /// The SQL migrations of `sql/`, in file-name order.
    public static var migrations: [EmbeddedFile] {
        files.filter { $0.path.hasPrefix("sql/") && $0.path.hasSuffix(".sql") }
    }

    /// The regulatory reference catalogue (`reference/regulation.yaml`).
    public static var regulation: EmbeddedFile? {
        files.first { $0.path == "reference/regulation.yaml" }
    }

    /// The web front's templates and stylesheet (`Sources/AccordServer/Templates`), by file name.
    public static var templates: [EmbeddedFile] {
        files.filter { $0.path.hasPrefix("Templates/") }
    }

    /// The workflow definitions of `workflows/`, in file-name order (the questionnaires beside them excluded).
    public static var workflows: [EmbeddedFile] {
        yamlFiles.filter { !$0.isQuestionnaire }
    }

    /// The classification questionnaires of `workflows/` (files with a top-level `questionnaire:` key).
    public static var questionnaires: [EmbeddedFile] {
        yamlFiles.filter(\.isQuestionnaire)
    }

    private static var yamlFiles: [EmbeddedFile] {
        files.filter { $0.path.hasPrefix("workflows/") && ($0.path.hasSuffix(".yaml") || $0.path.hasSuffix(".yml")) }
    }
}
