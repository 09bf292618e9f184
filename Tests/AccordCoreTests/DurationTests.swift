import AccordCore
import Testing

@Suite("Dates and durations")
struct DurationTests {
    @Test("ISO 8601 durations parse and print", arguments: ["P30D", "P2W", "P3M", "P1Y", "P1Y2M3D", "PT36H", "P1DT2H"])
    func roundTrip(_ text: String) throws {
        let duration = try #require(ISODuration(text))
        #expect(duration.description == text)
    }

    @Test("malformed durations are refused", arguments: ["", "P", "30D", "P3X", "PT", "P1.5D", "P-1D", "P1D2", "P1234567D"])
    func refused(_ text: String) {
        #expect(ISODuration(text) == nil)
    }

    @Test("calendar arithmetic: month ends, leap years, weeks")
    func arithmetic() throws {
        let jan31 = try #require(CalendarDate("2027-01-31"))
        #expect(ISODuration("P1M")!.after(jan31).description == "2027-02-28")
        #expect(ISODuration("P1M")!.after(CalendarDate("2028-01-31")!).description == "2028-02-29")
        #expect(ISODuration("P2W")!.after(jan31).description == "2027-02-14")
        #expect(ISODuration("P1Y")!.after(CalendarDate("2028-02-29")!).description == "2029-02-28")
        #expect(ISODuration("P90D")!.before(CalendarDate("2027-12-02")!).description == "2027-09-03")
        #expect(CalendarDate("2026-08-02")!.days(until: CalendarDate("2027-12-02")!) == 487)
    }

    @Test("only real days are dates", arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "26-01-01", "2026-1-1", "2026-04-31"])
    func invalidDates(_ text: String) {
        #expect(CalendarDate(text) == nil)
    }
}
