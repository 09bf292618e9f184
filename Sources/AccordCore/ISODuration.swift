public import Foundation

/// An ISO 8601 duration such as `P30D`, `P3M`, `P1Y2M`, `P2W` or `PT36H`, applied in calendar terms
/// (adding `P1M` to 31 January gives the last day of February).
public struct ISODuration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Each part's count as written (`P1Y2M` has years 1, months 2); parts are kept apart, never normalised.
    public var years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0

    /// Parses `PnYnMnWnDTnHnMnS`; every part is optional but at least one is needed.
    public init?(_ text: String) {
        var rest = Substring(text.uppercased())
        guard rest.first == "P" else { return nil }
        rest = rest.dropFirst()
        var inTime = false
        var sawPart = false
        var number = ""
        for character in rest {
            if character.isASCII && character.isNumber {
                number.append(character)
                continue
            }
            if character == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            guard let value = Int(number), number.count <= 6 else { return nil }
            number = ""
            sawPart = true
            switch (inTime, character) {
            case (false, "Y"): years = value
            case (false, "M"): months = value
            case (false, "W"): weeks = value
            case (false, "D"): days = value
            case (true, "H"): hours = value
            case (true, "M"): minutes = value
            case (true, "S"): seconds = value
            default: return nil
            }
        }
        guard number.isEmpty, sawPart else { return nil }
    }

    /// Creates a duration of whole days.
    public init(days: Int) { self.days = days }

    /// Whether the duration is zero.
    public var isZero: Bool { self == ISODuration(days: 0) }

    /// Whether the duration has a time part (hours, minutes, seconds), which day-based rules ignore.
    public var hasTimePart: Bool { hours != 0 || minutes != 0 || seconds != 0 }

    /// The date this long after `date` (days and longer; the time part is ignored).
    public func after(_ date: CalendarDate) -> CalendarDate {
        var c = DateComponents()
        c.year = years
        c.month = months
        c.day = weeks * 7 + days
        return CalendarDate(CalendarDate.calendar.date(byAdding: c, to: date.startOfDay)!)
    }

    /// The date this long before `date`.
    public func before(_ date: CalendarDate) -> CalendarDate {
        var c = DateComponents()
        c.year = -years
        c.month = -months
        c.day = -(weeks * 7 + days)
        return CalendarDate(CalendarDate.calendar.date(byAdding: c, to: date.startOfDay)!)
    }

    /// The instant this long after `date`, time part included.
    public func after(_ date: Date) -> Date {
        var c = DateComponents()
        c.year = years
        c.month = months
        c.day = weeks * 7 + days
        c.hour = hours
        c.minute = minutes
        c.second = seconds
        return CalendarDate.calendar.date(byAdding: c, to: date)!
    }

    /// The duration in ISO 8601 form with zero parts left out, e.g. `P1Y2M` or `PT36H`; `P0D` when zero.
    public var description: String {
        var text = "P"
        if years != 0 { text += "\(years)Y" }
        if months != 0 { text += "\(months)M" }
        if weeks != 0 { text += "\(weeks)W" }
        if days != 0 { text += "\(days)D" }
        if hasTimePart {
            text += "T"
            if hours != 0 { text += "\(hours)H" }
            if minutes != 0 { text += "\(minutes)M" }
            if seconds != 0 { text += "\(seconds)S" }
        }
        return text == "P" ? "P0D" : text
    }

    /// Decodes an ISO 8601 duration string such as `P30D`; anything else is a decoding error.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let duration = ISODuration(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 duration: \(text)"))
        }
        self = duration
    }

    /// Encodes the duration as its ISO 8601 string (`description`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
