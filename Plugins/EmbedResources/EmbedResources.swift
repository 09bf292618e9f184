import Foundation
import PackagePlugin

/// Compiles the package's `sql/`, `workflows/` and `reference/` folders into a Swift source of the target it
/// is applied to, so the `accord` binary carries its schema, roadmaps and regulatory reference wherever it is copied.
///
/// The folders themselves are inputs as well as their files: adding a file changes its folder, which
/// reruns the tool, and the tool lists the folders when it runs rather than trusting a list made when
/// the build was planned.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let folders = ["sql", "workflows", "reference", "Sources/AccordServer/Templates"].map { root.appending(path: $0) }
        var inputs: [URL] = folders
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path())) ?? []
            inputs += names.sorted().filter { !$0.hasPrefix(".") }.map { folder.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding sql/, workflows/ and reference/",
                executable: try context.tool(named: "accord-embed").url,
                arguments: [output.path()] + folders.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
