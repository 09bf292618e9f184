import AccordMCP
import AccordStore
import ArgumentParser
import Foundation
import MCP

/// `accord mcp`: Accord as an MCP server on stdin and stdout, for a desktop AI assistant.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve Accord to an AI assistant over MCP (stdio), as the person whose token it is given.",
        discussion: """
            The assistant's configuration runs 'accord mcp' with ACCORD_TOKEN set to one of your API tokens \
            (accord token create --read-only for one that cannot write). Every tool runs as that person, with \
            the API's authorisation; no tool signs, rejects, assigns authority or changes a role. The same tools are \
            served over streamable HTTP at /mcp under accord serve. Audit entries \
            written through it record their origin as MCP.
            """
    )
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let token = ProcessInfo.processInfo.environment["ACCORD_TOKEN"], !token.isEmpty else {
            throw CommandFailure("give the assistant one of your API tokens as ACCORD_TOKEN (accord token create --read-only)")
        }
        let store = try await database.openStore(migrate: false, maxConnections: 2, origin: "mcp stdio (\(cliOrigin()))")
        guard let holder = try await store.bearer(token) else {
            try? await store.close()
            throw CommandFailure("ACCORD_TOKEN is unknown, revoked or expired", exitCode: 5)
        }
        let server = await AccordTools(store: store, person: holder.person.handle, readOnly: holder.readOnly).server()
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
        try? await store.close()
    }
}
