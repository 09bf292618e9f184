import AccordCore
import Foundation
import Testing

/// A small framework library in CISO Assistant's format, written for these tests (no shipped content).
let exampleFrameworkLibrary = catalogueFixture("acme-sec-2025.yaml")

/// A mapping library from the example framework to the built-in ISO/IEC 42001 (by CISO Assistant's URNs).
let exampleMappingLibrary = catalogueFixture("mapping-acme-sec-2025-to-iso42001-2023.yaml")

/// A library file of `Tests/fixtures/catalogues`, written for Accord's tests in CISO Assistant's format.
func catalogueFixture(_ name: String) -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/catalogues/\(name)")
    return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}

@Suite("Framework libraries (CISO Assistant's YAML format)")
struct FrameworkLibraryTests {
    @Test("a framework library's nodes become citable refs under the URN's last segment, with parents and titles")
    func framework() throws {
        let library = try FrameworkLibraryLoader.load(yaml: exampleFrameworkLibrary, file: "acme.yaml").get()
        let framework = try #require(library.framework)
        #expect(library.version == 1 && library.copyright == "Written for Accord's tests")
        #expect(framework.id == "acme-sec-2025")
        #expect(framework.requirements.map(\.id) == ["acme-sec-2025:A", "acme-sec-2025:A.1", "acme-sec-2025:A-2", "acme-sec-2025:node9"])
        #expect(framework.requirements[1].parent == "acme-sec-2025:A" && framework.requirements[1].assessable)
        #expect(framework.requirements[2].title.hasSuffix("…") && framework.requirements[2].title.count == FrameworkLibraryLoader.titleLength)
        // The catalogue with them lets a workflow cite them, and still knows the built-in refs.
        let catalogue = ReferenceCatalogue.builtIn.including(frameworks: [], references: library.references, mappings: [])
        #expect(catalogue["acme-sec-2025:A.1"]?.title == "Policies for security" && catalogue["iso42001:A.2.2"] != nil)
        let chosen = try FrameworkLibraryLoader.load(yaml: exampleFrameworkLibrary, file: "acme.yaml", id: "acme").get()
        #expect(chosen.framework?.requirements.first?.id == "acme:A")
    }

    @Test(
        "bad libraries are refused with FILE:LINE:COLUMN errors",
        arguments: [
            ("version: 1\nname: x\nobjects: {}\n", "acme.yaml:1:1: error: a library needs 'urn'"),
            (
                exampleFrameworkLibrary.replacingOccurrences(of: "ref_id: A 2", with: "ref_id: A.1"),
                "acme.yaml:31:15: error: two nodes would be cited as 'acme-sec-2025:A.1'"
            ),
            (
                exampleFrameworkLibrary.replacingOccurrences(
                    of: "parent_urn: urn:intuitem:risk:req_node:acme-sec-2025:a\n      ref_id: A.1",
                    with: "parent_urn: urn:intuitem:risk:req_node:acme-sec-2025:zz\n      ref_id: A.1"
                ), "acme.yaml:23:19: error: parent_urn 'urn:intuitem:risk:req_node:acme-sec-2025:zz' is the urn of no node"
            ),
            (
                exampleFrameworkLibrary.replacingOccurrences(of: "framework:acme-sec-2025", with: "framework:iso42001"),
                "acme.yaml:10:10: error: 'iso42001' is the id of a built-in framework"
            ),
            (
                exampleFrameworkLibrary.replacingOccurrences(of: "version: 1", with: "version: one"),
                "acme.yaml:5:10: error: version must be a whole number"
            ),
            (
                exampleMappingLibrary.replacingOccurrences(of: "relationship: equal", with: "relationship: equals"),
                "m.yaml:19:21: error: unknown relationship 'equals'; did you mean 'equal'?"
            ),
            (
                "urn: urn:x:y\nname: x\nversion: 1\nobjects:\n  risk_matrix: []\n",
                "acme.yaml:5:3: error: the library holds no framework and no requirement mapping set (it has: risk_matrix)"
            ),
            ("urn: [\n", "acme.yaml:2:1: error: YAML syntax"),
        ]
    )
    func refusals(yaml: String, expected: String) {
        let file = yaml.contains("requirement_mappings") ? "m.yaml" : "acme.yaml"
        guard case .failure(let invalid) = FrameworkLibraryLoader.load(yaml: yaml, file: file) else {
            Issue.record("loaded a bad library")
            return
        }
        #expect(invalid.description.contains(expected), "\(invalid.description)")
    }

    @Test("mappings resolve to imported and built-in refs; an unknown framework is an error, an unknown requirement a warning")
    func mappings() throws {
        let framework = try FrameworkLibraryLoader.load(yaml: exampleFrameworkLibrary, file: "acme.yaml").get()
        let urns = Dictionary(uniqueKeysWithValues: (framework.framework?.requirements ?? []).map { ($0.urn, $0.id) })
        let library = try FrameworkLibraryLoader.load(yaml: exampleMappingLibrary, file: "m.yaml").get()
        let resolved = try library.resolvedMappings(file: "m.yaml", catalogue: .builtIn, urns: urns).get()
        #expect(
            resolved.mappings.map { "\($0.source) \($0.relationship.rawValue) \($0.target)" } == [
                "acme-sec-2025:A.1 subset iso42001:A.2.2", "acme-sec-2025:A-2 equal iso42001:A.3.2",
            ]
        )
        #expect(resolved.unrelated == 1)
        #expect(
            resolved.skipped.map(\.description) == [
                "m.yaml:21:31: error: 'urn:intuitem:risk:req_node:iso42001-2023:a.9.9' is not a requirement of 'iso42001-2023'; skipped"
            ]
        )
        guard case .failure(let invalid) = library.resolvedMappings(file: "m.yaml", catalogue: .builtIn, urns: [:]) else {
            Issue.record("resolved mappings of a framework nobody imported")
            return
        }
        #expect(invalid.diagnostics.count == 1)
        #expect(
            invalid.description.contains(
                "m.yaml:13:31: error: 'urn:intuitem:risk:req_node:acme-sec-2025:a.1' belongs to framework 'acme-sec-2025', which is not imported"
            )
        )
    }
}
