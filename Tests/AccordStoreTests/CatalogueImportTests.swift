import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// The engine roadmap under another id, one task citing the imported framework's requirement.
let catalogueWorkflow = engineWorkflow.replacingOccurrences(of: "id: engine-test", with: "id: catalogue-test")
    .replacingOccurrences(of: "        due: P10D\n", with: "        due: P10D\n        refs: [\"acme-sec-2025:A.1\", \"iso42001:A.2.2\"]\n")

/// The test libraries of `Tests/fixtures/catalogues` (written for Accord's tests in CISO Assistant's format).
let exampleFrameworkLibrary = storeCatalogueFixture("acme-sec-2025.yaml")
let exampleMappingLibrary = storeCatalogueFixture("mapping-acme-sec-2025-to-iso42001-2023.yaml")

func storeCatalogueFixture(_ name: String) -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/catalogues/\(name)")
    return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}

@Suite("Catalogue import (framework libraries beside the built-in catalogue)")
struct CatalogueImportTests {
    @Test("an imported framework's requirements can be cited, and the crosswalk shows them with their mappings")
    func importAndCite() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            // Before the import the ref is unknown, with the workflow loader's line and column.
            await #expect(throws: WorkflowInvalid.self) { try await store.loadWorkflow(yaml: catalogueWorkflow, file: "c.yaml", actor: "ada") }
            // A mapping library before the framework it maps: refused at the URN's line.
            do {
                _ = try await store.importLibrary(yaml: exampleMappingLibrary, file: "m.yaml", actor: "ada")
                Issue.record("imported mappings of a framework nobody imported")
            } catch let invalid as WorkflowInvalid {
                #expect(invalid.description.contains("m.yaml:13:31: error:") && invalid.description.contains("import its library first"))
            }
            await expectRefusal(.forbidden, containing: "only an administrator imports catalogues") {
                _ = try await store.importLibrary(yaml: exampleFrameworkLibrary, file: "acme.yaml", actor: "mia")
            }
            let framework = try await store.importLibrary(yaml: exampleFrameworkLibrary, file: "acme.yaml", actor: "ada")
            #expect(framework.stored && framework.library.frameworkID == "acme-sec-2025" && framework.library.requirements == 4)
            let again = try await store.importLibrary(yaml: exampleFrameworkLibrary, file: "acme.yaml", actor: "ada")
            #expect(!again.stored)
            await expectRefusal(.conflict, containing: "versions are immutable") {
                _ = try await store.importLibrary(
                    yaml: exampleFrameworkLibrary.replacingOccurrences(of: "Policies for security", with: "Policy"),
                    file: "acme.yaml",
                    actor: "ada"
                )
            }
            let mapping = try await store.importLibrary(yaml: exampleMappingLibrary, file: "m.yaml", actor: "ada")
            #expect(mapping.stored && mapping.library.mappings == 2 && mapping.skipped.count == 1 && mapping.unrelated == 1)

            _ = try await store.loadWorkflow(yaml: catalogueWorkflow, file: "c.yaml", actor: "ada")
            _ = try await store.startProgram(
                workflow: "catalogue-test",
                version: nil,
                title: "Catalogue",
                slug: "cat",
                startsOn: CalendarDate("2026-01-01")!,
                actor: "ada"
            )
            _ = try await store.bindRole(program: "cat", role: "manager", handles: ["mia"], actor: "ada")
            let task = try await store.task("cat/inventory", actor: "mia")
            #expect(task.refs.map(\.title) == ["Policies for security", "AI policy"])

            let crosswalk = try await store.crosswalkReport(program: "cat", actor: "mia")
            let imported = try #require(crosswalk.frameworks.first)
            #expect(imported.id == "acme-sec-2025" && imported.version == 1)
            // A.1 is cited; A-2 is in play through its mapping to a built-in control; the headings are not.
            #expect(imported.requirements.map(\.id) == ["acme-sec-2025:A.1", "acme-sec-2025:A-2"])
            let policy = imported.requirements[0]
            #expect(policy.progress.tasks == 1)
            #expect(policy.mappings.map { "\($0.relationship) \($0.ref)" } == ["subset iso42001:A.2.2"])
            #expect(policy.mappings[0].progress.tasks == 1 && policy.mappings[0].library == "ACME security baseline <-> ISO/IEC 42001")

            // A new version may not drop a requirement a stored workflow cites.
            let dropped = exampleFrameworkLibrary.replacingOccurrences(of: "version: 1", with: "version: 2")
                .replacingOccurrences(of: "ref_id: A.1\n", with: "ref_id: A.10\n")
            await expectRefusal(.conflict, containing: "catalogue-test@1 cites acme-sec-2025:A.1") {
                _ = try await store.importLibrary(yaml: dropped, file: "acme-2.yaml", actor: "ada")
            }
            // Another library may not take the framework's id.
            let other = exampleFrameworkLibrary.replacingOccurrences(of: "library:acme-sec-2025", with: "library:someone-else")
            await expectRefusal(.conflict, containing: "framework id 'acme-sec-2025' is taken") {
                _ = try await store.importLibrary(yaml: other, file: "other.yaml", actor: "ada")
            }
            let libraries = try await store.catalogueLibraries()
            #expect(
                libraries.map(\.urn) == [
                    "urn:intuitem:risk:library:acme-sec-2025", "urn:intuitem:risk:library:mapping-acme-sec-2025-to-iso42001-2023",
                ]
            )
            #expect(try await store.catalogueRequirements(framework: "acme-sec-2025").count == 4)
            // Each import is in the organisation's audit chain, with the file's digest.
            let audit = try await store.auditLog(chain: "org").filter { $0.action == "catalogue.import" }
            #expect(
                audit.map(\.objectID) == [
                    "urn:intuitem:risk:library:acme-sec-2025@1", "urn:intuitem:risk:library:mapping-acme-sec-2025-to-iso42001-2023@1",
                ]
            )
            #expect(audit.allSatisfy { $0.actor == "ada" })
        }
    }
}
