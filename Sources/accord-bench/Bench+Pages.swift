import AccordCore
import AccordStore
import Foundation

extension Bench {
    // MARK: - Pages

    /// The engine calls each page of the web front makes to render, as the persona (a board member of ten
    /// programs) or the administrator would open it; measured at every estate size (goal: p50 under 50 ms
    /// at 1M tasks).
    func pageReads(_ store: Store) -> [(String, () async throws -> Void)] {
        let program = Estate.listed
        return [
            (
                "program page, first 50 tasks",
                {
                    _ = try await store.program(program, actor: "persona")
                    _ = try await store.tasks(TaskFilter(program: program), paging: try Paging(), actor: "persona")
                }
            ),
            (
                "program page, filtered: step, owner role, overdue",
                {
                    var filter = TaskFilter(program: program, overdueOnly: true)
                    filter.step = "s2"
                    filter.ownerRole = "owner"
                    _ = try await store.tasks(filter, paging: try Paging(), actor: "persona")
                }
            ),
            (
                "program page, unassigned, page 2",
                {
                    var filter = TaskFilter(program: program)
                    filter.unassignedOnly = true
                    _ = try await store.tasks(filter, paging: try Paging(page: 2, perPage: 20), actor: "admin")
                }
            ),
            (
                "task page with its comments",
                {
                    let task = "\(program)/t2-2"
                    _ = try await store.task(task, actor: "persona")
                    _ = try await store.canSignNow(task, actor: "persona")
                    _ = try await store.comments(of: task, paging: try Paging(perPage: 100), actor: "persona")
                }
            ),
            (
                "sign-offs, first page",
                {
                    _ = try await store.signOffs(SignOffFilter(), paging: try Paging(), actor: "persona")
                    _ = try await store.signingRoles(actor: "persona")
                }
            ),
            (
                "sign-offs of one program, overdue",
                { _ = try await store.signOffs(SignOffFilter(program: program, overdueOnly: true), paging: try Paging(), actor: "persona") }
            ),
            ("people, searched", { _ = try await store.people(PersonFilter(search: "board-1"), paging: try Paging(), actor: "admin") }),
            ("workflows", { _ = try await store.workflows(paging: try Paging(), actor: "admin") }),
            (
                "roles of a program",
                {
                    _ = try await store.roleHolders(program: program, actor: "persona")
                    _ = try await store.canManage(program: program, actor: "persona")
                }
            ),
            ("AI systems of a program", { _ = try await store.systems(program: program, paging: try Paging(), actor: "persona") }),
            ("cycles of a program", { _ = try await store.cycles(program: program, actor: "persona") }),
            ("open findings", { _ = try await store.findings(program: program, state: .open, paging: try Paging(), actor: "persona") }),
            ("incidents", { _ = try await store.incidents(program: program, paging: try Paging(), actor: "persona") }),
            ("out of office", { _ = try await store.away(actor: "persona") }),
        ]
    }

    /// Each page's p50 at every estate size, against the same page at the smallest.
    func pageFigures(_ points: [ScalePoint]) -> [Figure] {
        guard let first = points.first else { return [] }
        var figures: [Figure] = []
        for name in first.pages.keys.sorted() {
            for point in points {
                guard let latency = point.pages[name], let base = first.pages[name] else { continue }
                figures.append(
                    Figure(
                        name: "page: \(name), p50 at \(point.tasks / 1000)k tasks",
                        value: latency.p50,
                        unit: "ms",
                        baseline: base.p50,
                        baselineName: "at \(first.tasks / 1000)k tasks",
                        note: "p99 \(String(format: "%.1f", latency.p99)) ms; goal p50 < 50 ms"
                    )
                )
            }
        }
        return figures
    }
}
