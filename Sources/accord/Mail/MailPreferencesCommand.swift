import AccordStore
import ArgumentParser
import Foundation

/// `accord mail preferences [--set KIND=MODE]… [--time-zone ZONE] [--digest-hour H]`.
struct MailPreferencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preferences",
        abstract: "Show or change what you receive by mail: per kind at once (now), in the daily digest, or off.",
        discussion:
            "Kinds: \(MailKind.choosable.map(\.rawValue).joined(separator: ", ")). Escalations and incidents may move to the digest but cannot be switched off."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(name: .customLong("set"), help: ArgumentHelp("KIND=MODE, MODE one of now, digest, off (repeatable).", valueName: "kind=mode"))
    var changes: [String] = []
    @Option(help: ArgumentHelp("Your IANA time zone, e.g. Europe/Paris.", valueName: "zone")) var timeZone: String?
    @Option(help: ArgumentHelp("The hour (0-23, your time) from which your digest is sent.", valueName: "hour")) var digestHour: Int?
    @OptionGroup var output: JSONOption

    func run() async throws {
        var modes: [MailKind: MailMode] = [:]
        for change in changes {
            let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = MailKind(rawValue: parts[0]), MailKind.choosable.contains(kind) else {
                throw CommandFailure("'\(change)' is not KIND=MODE; kinds are \(MailKind.choosable.map(\.rawValue).joined(separator: ", "))")
            }
            guard let mode = MailMode(rawValue: parts[1]) else { throw CommandFailure("'\(parts[1])' is not a mode: now, digest or off") }
            modes[kind] = mode
        }
        let preferences = try await withStore(database) { store in
            if modes.isEmpty && timeZone == nil && digestHour == nil { return try await store.mailPreferences(actor: acting.actor) }
            return try await store.setMailPreferences(modes, timeZone: timeZone, digestHour: digestHour, actor: acting.actor)
        }
        if output.json { return try printJSON(preferences) }
        print(
            "mail to \(preferences.email ?? "(no address: nothing is sent)"), times in \(preferences.timeZone), digest from \(preferences.digestHour):00"
        )
        for kind in MailKind.choosable {
            let mode = preferences.mode(kind)
            print(
                "  \(kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(mode.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(kind.label)\(kind.canBeSwitchedOff ? "" : " (cannot be switched off)")"
            )
        }
    }
}
