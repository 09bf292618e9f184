public import Foundation

/// A day in the proleptic Gregorian calendar, in UTC: what due dates and application dates are.
public struct CalendarDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The year, e.g. 2027.
    public let year: Int
    /// The month, 1 to 12.
    public let month: Int
    /// The day of the month, 1 to 31.
    public let day: Int

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Creates a date, or `nil` when it does not exist (2026-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = Self.calendar.date(from: components),
            Self.calendar.component(.day, from: date) == day, Self.calendar.component(.month, from: date) == month
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The UTC day that contains an instant.
    public init(_ date: Date) {
        let c = Self.calendar.dateComponents([.year, .month, .day], from: date)
        self.year = c.year!
        self.month = c.month!
        self.day = c.day!
    }

    /// Today in UTC.
    public static func today(now: Date = Date()) -> CalendarDate { CalendarDate(now) }

    /// Midnight UTC at the start of the day.
    public var startOfDay: Date {
        Self.calendar.date(from: DateComponents(year: year, month: month, day: day))!
    }

    /// Whole days from this date to another (negative when `other` is earlier).
    public func days(until other: CalendarDate) -> Int {
        Int(((other.startOfDay.timeIntervalSince(startOfDay)) / 86_400).rounded())
    }

    /// The date a number of days later (or earlier, when negative).
    public func adding(days: Int) -> CalendarDate {
        CalendarDate(Self.calendar.date(byAdding: .day, value: days, to: startOfDay)!)
    }

    /// The date as `YYYY-MM-DD`, e.g. `2027-08-02`: how it is stored, sent and shown.
    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    /// Whether `a` is an earlier day than `b`.
    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// Decodes a `YYYY-MM-DD` string; any other value, or a day that does not exist, is a decoding error.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = date
    }

    /// Encodes the date as a `YYYY-MM-DD` string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
