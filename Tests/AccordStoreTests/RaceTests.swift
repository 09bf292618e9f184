import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// Races the sign-off tests do not already cover, each with a checker over the final state.
@Suite("Races: exactly one outcome, checked on the final state")
struct RaceTests {
    @Test("ten concurrent submits of one task: one goes through, the rest are refused, one audit entry")
    func doubleSubmitOfTask() async throws {
        try await TestDatabase.with(maxConnections: 8) { db in
            let store = db.store
            try await seededForSigning(store)
            let outcomes = await withTaskGroup(of: Result<TaskSummary, any Error>.self) { group in
                for _ in 1...10 { group.addTask { await Result(catching: { try await store.submitTask("sig/pair", actor: "otto") }) } }
                var all: [Result<TaskSummary, any Error>] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.compactMap { try? $0.get() }.count == 1)
            for case .failure(let error) in outcomes { #expect((error as? AccordError)?.code == .conflict, "\(error)") }
            let detail = try await store.task("sig/pair", actor: "ada")
            #expect(detail.task.state == .inReview)
            let log = try await store.auditLog(chain: "program:sig")
            #expect(log.filter { $0.action == "task.submit" && $0.objectID == "sig/pair" }.count == 1)
            #expect(try await store.verifyChain("program:sig").problem == nil)
        }
    }

    @Test("signatures racing a new evidence upload: each binds the version it saw, and only current ones count")
    func signWhileEvidenceArrives() async throws {
        try await TestDatabase.with(maxConnections: 8) { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.addEvidence(to: "sig/three", fileName: "plan.txt", bytes: Array("v1".utf8), title: "Plan", actor: "otto")
            _ = try await store.submitTask("sig/three", actor: "otto")
            let before = try await store.task("sig/three", actor: "ada")
            await withTaskGroup(of: Void.self) { group in
                for i in 1...6 { group.addTask { _ = try? await store.approve("sig/three", as: "b\(i)") } }
                group.addTask {
                    _ = try? await store.addEvidence(to: "sig/three", fileName: "plan.txt", bytes: Array("v2".utf8), title: "Plan", actor: "otto")
                }
            }
            let detail = try await store.task("sig/three", actor: "ada")
            let signatures = try await store.signatures(of: "sig/three", actor: "ada")
            // One signature per signer and evidence version; those counted now are of the current version.
            let keys = signatures.map { "\($0.signer)@\($0.evidenceVersion)/\($0.reviewRound)" }
            #expect(Set(keys).count == keys.count)
            let current = signatures.filter(\.current)
            #expect(current.allSatisfy { $0.evidenceVersion == detail.evidenceVersion })
            if detail.task.state == .done {
                // Completed before the upload landed (then the upload was taken as evidence of a done task)
                // or after it with three current approvals: never with fewer.
                let atCompletion = signatures.filter { $0.evidenceVersion == signatures.last!.evidenceVersion }
                #expect(atCompletion.count == 3)
            } else {
                #expect(current.count < 3)
                #expect(detail.evidenceVersion > before.evidenceVersion)
            }
            #expect(try await store.verifyChain("program:sig").problem == nil)
        }
    }
}
