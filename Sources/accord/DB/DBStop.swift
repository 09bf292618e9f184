import AccordStore
import ArgumentParser
import NIOPosix
import Postgres
import PostgresCluster

/// `accord db stop`: stop the embedded cluster.
struct DBStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the embedded PostgreSQL (committed work is kept)."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        guard case .embedded(let home) = options.location else {
            throw CommandFailure("'accord db stop' manages the embedded cluster, but the database is \(options.location.summary)")
        }
        let cluster = LocalCluster(home: home)
        let stopped = try await NIOThreadPool.singleton.runIfActive { try cluster.stop() }
        print(stopped ? "embedded PostgreSQL stopped" : "embedded PostgreSQL was not running")
    }
}
