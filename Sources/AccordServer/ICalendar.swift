import AccordCore
import AccordStore
import Foundation

/// RFC 5545 text: all-day events, escaped, folded at 75 octets, CRLF line ends.
func iCalendar(_ feed: CalendarFeed, now: Date) -> String {
    let name = "Accord: \(feed.personName)"
    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;").replacingOccurrences(of: ",", with: "\\,")
            .replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
    }
    func fold(_ line: String) -> String {
        var out = ""
        var current = 0
        for character in line {
            let size = String(character).utf8.count
            if current + size > 75 {
                out += "\r\n "
                current = 1
            }
            out.append(character)
            current += size
        }
        return out + "\r\n"
    }
    func day(_ date: CalendarDate) -> String { date.description.replacingOccurrences(of: "-", with: "") }
    let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    var lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Accord//Deadlines//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:\(escape(name))",
    ]
    for event in feed.events {
        let what = event.kind == .due ? "Due" : "Sign off"
        let late = event.task.overdueDays.map { " (\($0) days late)" } ?? ""
        lines += [
            "BEGIN:VEVENT",
            "UID:\(event.kind == .due ? "due" : "signoff")-\(event.task.id)@accord",
            "DTSTAMP:\(stamp)",
            "DTSTART;VALUE=DATE:\(day(event.due))",
            "DTEND;VALUE=DATE:\(day(event.due.adding(days: 1)))",
            "SUMMARY:\(escape("\(what): \(event.task.title)\(late)"))",
            "DESCRIPTION:\(escape("\(event.task.ref) · \(event.task.state) · owner \(event.task.ownerRole)"))",
            "CATEGORIES:\(escape(event.task.program))",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    }
    lines.append("END:VCALENDAR")
    return lines.map(fold).joined()
}
