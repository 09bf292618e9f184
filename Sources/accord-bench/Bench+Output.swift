import Foundation

extension Bench {
    // MARK: - Output

    struct Figure: Codable {
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var baselineName: String?
        var note: String?
        var ratio: Double? { baseline.map { value / $0 } }
    }

    func printTable(_ figures: [Figure]) {
        func number(_ value: Double) -> String { value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value) }
        print("")
        print(
            "figure".padding(toLength: 48, withPad: " ", startingAt: 0) + "value".padding(toLength: 14, withPad: " ", startingAt: 0)
                + "baseline (same run)".padding(toLength: 52, withPad: " ", startingAt: 0) + "ratio"
        )
        for f in figures {
            let baseline = f.baseline.map { "\(number($0)) \(f.baselineName ?? "")" } ?? "-"
            print(
                f.name.padding(toLength: 48, withPad: " ", startingAt: 0) + number(f.value).padding(toLength: 14, withPad: " ", startingAt: 0)
                    + baseline.padding(toLength: 52, withPad: " ", startingAt: 0) + (f.ratio.map { String(format: "%.1f%%", $0 * 100) } ?? "-")
                    + (f.note.map { "  (\($0))" } ?? "")
            )
        }
    }

    func write(_ figures: [Figure]) throws {
        struct Results: Codable {
            var at: Date
            var cores: Int
            var figures: [Figure]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(Results(at: Date(), cores: ProcessInfo.processInfo.activeProcessorCount, figures: figures)).write(to: url)
        print("\nwrote \(output)")
    }
}

/// A progress line, shown at once even when stdout is a file.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
