import Foundation

extension Bench {
    // MARK: - Scale

    /// Latency growth from the smallest estate to each larger one (goal: at most 2x).
    func scaleFigures(_ points: [ScalePoint]) -> [Figure] {
        guard let first = points.first else { return [] }
        let measures: [(String, KeyPath<ScalePoint, Latency>)] = [
            ("sign-off", \.signOff), ("inbox", \.inbox), ("leadership report", \.leadership), ("task list", \.taskList),
            ("status report", \.statusReport),
        ]
        var figures: [Figure] = []
        for (name, path) in measures {
            for point in points {
                figures.append(
                    Figure(
                        name: "\(name) p50 at \(point.tasks / 1000)k tasks",
                        value: point[keyPath: path].p50,
                        unit: "ms",
                        baseline: first[keyPath: path].p50,
                        baselineName: "at \(first.tasks / 1000)k tasks",
                        note: "p99 \(String(format: "%.1f", point[keyPath: path].p99)) ms"
                    )
                )
            }
        }
        return figures
    }
}
