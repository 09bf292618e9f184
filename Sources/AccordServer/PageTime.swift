import Foundation

/// Times on pages, in the viewer's time zone (their preference; UTC until they choose). The page
/// middleware sets `zone` for the request from the signed-in person, so every page model formats
/// with it without passing it around; the API, CSV and iCalendar keep UTC.
enum PageTime {
    /// The viewer's IANA time zone for the request being answered.
    @TaskLocal static var zone = "UTC"

    /// How the zone is named on the page ("UTC", "Europe/Paris").
    static var zoneName: String { zone }

    /// An ISO 8601 formatter in the viewer's zone: `2026-12-02T21:00:00Z` in UTC, `…+01:00` in Paris.
    static func isoFormatter() -> ISO8601DateFormatter {
        let format = ISO8601DateFormatter()
        format.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")
        return format
    }

    /// To the minute with the zone named: `2026-12-13 09:30 UTC`, `2026-12-13 18:30 Asia/Tokyo`.
    static func minute(_ date: Date) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd HH:mm"
        return "\(format.string(from: date)) \(zone)"
    }
}
