import AccordStore
import ArgumentParser

/// `accord db url`: the conninfo, for `psql "$(accord db url)"`.
struct DBURL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url",
        abstract: "Print the database's libpq connection string, e.g. for psql \"$(accord db url)\"."
    )

    @OptionGroup var options: DatabaseOptions

    func run() throws {
        let conninfo = options.location.conninfo
        guard !conninfo.isEmpty else {
            throw CommandFailure("the database is given by the PG* environment variables; psql reads them too, so run psql without arguments")
        }
        print(conninfo)
    }
}
