import AccordCore

extension Store {
    /// The crosswalk's imported frameworks: each requirement the workflow cites, or that a mapping ties to
    /// a cited ref or a built-in one, with its progress and the mappings seen from it.
    /// - Parameter progress: the program's progress on tasks citing refs that match.
    static func importedFrameworks(
        workflow: Workflow,
        catalogue: ReferenceCatalogue,
        progress: ((String) -> Bool) -> CrosswalkReport.Progress
    ) -> [CrosswalkReport.Framework] {
        guard !catalogue.frameworks.isEmpty else { return [] }
        let cited = Set(workflow.tasks.flatMap(\.task.refs))
        let builtIn = ReferenceCatalogue.builtIn.frameworkIDs
        // Mappings by each side, seen from it (the target sees the inverse relationship).
        var seen: [String: [CrosswalkReport.Mapping]] = [:]
        for mapping in catalogue.mappings {
            for (from, to, relationship) in [
                (mapping.source, mapping.target, mapping.relationship), (mapping.target, mapping.source, mapping.relationship.inverse),
            ] {
                seen[from, default: []].append(
                    .init(
                        ref: to,
                        title: catalogue[to]?.title ?? to,
                        relationship: relationship.rawValue,
                        library: mapping.library,
                        progress: progress { $0 == to }
                    )
                )
            }
        }
        let inPlay = { (id: String) in
            cited.contains(id) || (seen[id] ?? []).contains { cited.contains($0.ref) || builtIn.contains(String($0.ref.prefix { $0 != ":" })) }
        }
        return catalogue.frameworks.compactMap { framework in
            let requirements = catalogue.references.filter { $0.framework == framework.id && inPlay($0.id) }.map { reference in
                CrosswalkReport.Requirement(
                    id: reference.id,
                    title: reference.title,
                    progress: progress { $0 == reference.id },
                    mappings: seen[reference.id] ?? []
                )
            }
            guard !requirements.isEmpty else { return nil }
            return .init(
                id: framework.id,
                name: framework.name,
                version: framework.version,
                copyright: framework.copyright,
                requirements: requirements
            )
        }
    }
}
