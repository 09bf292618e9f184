import Foundation
import PackagePlugin

/// Compiles the package's `sql/` and `workflows/` folders into a Swift source of the target it is applied to,
/// so the `accord` binary carries its schema and roadmaps wherever it is copied.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let folders = ["sql", "workflows", "reference"]
        var inputs: [URL] = []
        for folder in folders {
            let dir = root.appending(path: folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path())) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                inputs.append(dir.appending(path: name))
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding sql/ and workflows/ (\(inputs.count) files)",
                executable: try context.tool(named: "accord-embed").url,
                arguments: [output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
