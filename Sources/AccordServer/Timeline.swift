import AccordCore
import AccordStore
import Foundation

/// The program's due dates against today, drawn on the server: one row per step, a dot per dated
/// task (red when overdue, green when finished), a line for today.
func timelineSVG(detail: ProgramDetail, tasks: [TaskSummary], today: CalendarDate) -> String {
    let dated = tasks.compactMap { task in task.dueOn.flatMap(CalendarDate.init).map { (task, $0) } }
    let start = min(CalendarDate(detail.summary.startsOn) ?? today, dated.map(\.1).min() ?? today, today)
    let end = max(dated.map(\.1).max() ?? today.adding(days: 30), today.adding(days: 1))
    let span = Double(max(1, start.days(until: end)))
    let left = 230.0
    let width = 900.0
    let rowHeight = 28.0
    let height = Double(detail.steps.count) * rowHeight + 40
    func x(_ date: CalendarDate) -> Double { left + Double(start.days(until: date)) / span * (width - left - 10) }
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
    for (i, step) in detail.steps.enumerated() {
        let y = 20 + Double(i) * rowHeight
        svg += "<text x=\"6\" y=\"\(y + 4)\" fill=\"#1d2430\">\(escape(String(step.title.prefix(32))))</text>"
        svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - 10)\" y2=\"\(y)\" stroke=\"#d9dee7\"/>"
        for (task, due) in dated where task.step == step.key {
            let finished = task.state == .done || task.state == .notApplicable
            let color = finished ? "#1e7a3e" : (task.overdueDays != nil ? "#b3261e" : "#1f5fbf")
            svg +=
                "<circle cx=\"\(String(format: "%.1f", x(due)))\" cy=\"\(y)\" r=\"5\" fill=\"\(color)\"><title>\(escape(task.ref)) due \(due) (\(task.state))</title></circle>"
        }
    }
    let todayX = String(format: "%.1f", x(today))
    svg += "<line x1=\"\(todayX)\" y1=\"8\" x2=\"\(todayX)\" y2=\"\(Int(height) - 14)\" stroke=\"#b3261e\" stroke-dasharray=\"4 3\"/>"
    svg += "<text x=\"\(todayX)\" y=\"\(Int(height) - 2)\" text-anchor=\"middle\" fill=\"#b3261e\">today \(today)</text>"
    svg += "<text x=\"\(left)\" y=\"\(Int(height) - 2)\" fill=\"#5b6575\">\(start)</text>"
    svg += "<text x=\"\(Int(width) - 10)\" y=\"\(Int(height) - 2)\" text-anchor=\"end\" fill=\"#5b6575\">\(end)</text>"
    return svg + "</svg>"
}

/// Horizontal bars, one per label, for small counts.
func barChartSVG(_ bars: [(label: String, value: Int)]) -> String {
    let width = 900.0
    let left = 240.0
    let row = 26.0
    let top = max(1, bars.map(\.value).max() ?? 1)
    let height = Double(bars.count) * row + 12
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
    for (i, bar) in bars.enumerated() {
        let y = 6 + Double(i) * row
        let length = (width - left - 60) * Double(bar.value) / Double(top)
        svg += "<text x=\"6\" y=\"\(y + 15)\" fill=\"#1d2430\">\(escape(String(bar.label.prefix(36))))</text>"
        svg += "<rect x=\"\(left)\" y=\"\(y + 3)\" width=\"\(String(format: "%.1f", length))\" height=\"16\" fill=\"#b3261e\"/>"
        svg += "<text x=\"\(String(format: "%.1f", left + length + 6))\" y=\"\(y + 15)\" fill=\"#1d2430\">\(bar.value)</text>"
    }
    return svg + "</svg>"
}

/// Text made safe inside SVG elements and attributes.
private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
