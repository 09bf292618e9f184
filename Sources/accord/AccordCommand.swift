import AccordCore
import AccordStore
import ArgumentParser
import Foundation
import Logging
import Postgres
import PostgresCluster

/// `accord`: the command-line front of the Accord engine.
struct AccordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord",
        abstract: "Run an AI-compliance roadmap: EU AI Act obligations through an ISO/IEC 42001 management system.",
        discussion: """
            With no --database, DATABASE_URL or PG* variables, accord runs its own PostgreSQL in ACCORD_HOME \
            (default ~/.accord; /var/lib/accord for root).
            """,
        version: Accord.version,
        subcommands: [
            DB.self, WorkflowCommand.self, UserCommand.self, ProgramCommand.self, RoleCommand.self, SystemCommand.self, TaskCommand.self,
            EvidenceCommand.self, DelegateCommand.self, AuditCommand.self, TokenCommand.self,
            InboxCommand.self, Export.self, VerifyPack.self, DeadlinesCommand.self, CycleCommand.self, FindingCommand.self, IncidentCommand.self,
            ReportCommand.self, WebhookCommand.self, MailCommand.self, SSOCommand.self, MCPCommand.self, CatalogueCommand.self,
            Serve.self, Worker.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["ACCORD_LOG_LEVEL"] ?? "") ?? .warning
            return handler
        }
        do {
            var command = try AccordCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            fail(error.message, code: error.exitCode)
        } catch let error as PostgresError {
            fail(error.description)
        } catch let error as ClusterError {
            fail(error.message)
        } catch let error as AccordError {
            fail(error.cliMessage, code: error.code == .notFound ? 4 : [.forbidden, .unauthenticated, .locked].contains(error.code) ? 5 : 1)
        } catch let error as WorkflowInvalid {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(1)
        } catch {
            AccordCommand.exit(withError: error)
        }
    }

    /// Prints one line to stderr and exits.
    static func fail(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(code)
    }
}

/// A command's refusal, printed as one `error:` line.
struct CommandFailure: Error {
    let message: String
    var exitCode: Int32 = 1
    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
}
