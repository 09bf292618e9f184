import AccordSSO
import AccordStore
import ArgumentParser
import AsyncHTTPClient
import Foundation

/// `accord sso`: identity providers, linked identities, local passwords and group rules (administrators).
struct SSOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sso",
        abstract: "Log in and sign through OpenID Connect providers (administrators).",
        discussion: """
            Register Accord at the provider with the redirect URI PUBLIC_URL/sso/callback (serve --public-url), \
            then add the provider here. People are linked to their provider identity by an administrator \
            (sso link), or on their first login by a verified e-mail address when --link-by-email is given \
            (never an administrator). See docs/sso.md for Entra ID, Okta, Google and Keycloak.
            """,
        subcommands: [SSOAdd.self, SSOList.self, SSORemove.self, SSOLink.self, SSOUnlink.self, SSOPasswords.self, SSORuleCommand.self]
    )
}

/// `accord sso add ISSUER --client-id ID [--client-secret-file FILE] [--name NAME] [--link-by-email]`.
struct SSOAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an OpenID provider; its discovery document is fetched first to check the issuer."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The issuer URL, exactly as the provider's discovery document gives it.") var issuer: String
    @Option(help: "The client id Accord is registered under.") var clientID: String
    @Option(help: ArgumentHelp("A file holding the client secret (never on the command line).", valueName: "file")) var clientSecretFile: String?
    @Option(help: "The name on the login page's button (default: the issuer's host).") var name: String?
    @Flag(help: "Link a first login to the person with the same e-mail address, when the provider says it is verified.") var linkByEmail = false
    @Option(help: "The ID-token claim listing the person's groups, for the group rules.") var groupsClaim = "groups"
    @Flag(help: "Do not fetch the discovery document first (the provider is not reachable from here).") var noCheck = false

    func run() async throws {
        var secret: String?
        if let file = clientSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CommandFailure("cannot read --client-secret-file \(file)")
            }
            secret = text
        }
        if !noCheck {
            do {
                let metadata = try await OpenIDClient(http: OpenIDClient.providerHTTP).metadata(for: issuer)
                print("discovery: authorization at \(metadata.authorizationEndpoint), keys at \(metadata.jwksURI)")
            } catch let error as AccordError {
                throw CommandFailure("\(error.message) (give --no-check to add it anyway)")
            }
        }
        let added = try await withStore(database) {
            try await $0.addSSOIssuer(
                issuer,
                displayName: name ?? URL(string: issuer)?.host ?? issuer,
                clientID: clientID,
                clientSecret: secret,
                linkByEmail: linkByEmail,
                groupsClaim: groupsClaim,
                actor: acting.actor
            )
        }
        print(
            "identity provider \(added.id) added: \(added.displayName) (\(added.issuer))\(added.hasSecret ? ", client secret sealed" : ", public client")"
        )
    }
}

/// `accord sso list`.
struct SSOList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the identity providers and the password setting.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let (issuers, settings) = try await withStore(database) { (try await $0.ssoIssuers(), try await $0.ssoSettings()) }
        if output.json { return try printJSON(issuers) }
        for issuer in issuers {
            print(
                "\(issuer.id)  \(issuer.displayName)  \(issuer.issuer)  client \(issuer.clientID)\(issuer.linkByEmail ? "  links by verified e-mail" : "")"
            )
        }
        if issuers.isEmpty { print("no identity providers") }
        let glass = settings.breakGlass.isEmpty ? "" : " (break-glass: \(settings.breakGlass.joined(separator: ", ")))"
        print("local passwords: \(settings.localPasswords ? "on" : "off")\(glass)")
    }
}

/// `accord sso remove ID`.
struct SSORemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a provider; the sessions opened through it end.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The provider's id (sso list).") var id: Int64

    func run() async throws {
        try await withStore(database) { try await $0.removeSSOIssuer(id, actor: acting.actor) }
        print("identity provider \(id) removed")
    }
}

/// `accord sso link HANDLE --issuer ID --subject SUB`.
struct SSOLink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "link", abstract: "Link a person to their identity (sub) at a provider.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The person's handle.") var handle: String
    @Option(help: "The provider's id (sso list).") var issuer: Int64
    @Option(help: "The person's subject (sub) at the provider.") var subject: String

    func run() async throws {
        try await withStore(database) { try await $0.linkSSOIdentity(handle, issuer: issuer, subject: subject, actor: acting.actor) }
        print("\(handle) linked to provider \(issuer)")
    }
}

/// `accord sso unlink HANDLE --issuer ID`.
struct SSOUnlink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unlink", abstract: "Unlink a person from a provider.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The person's handle.") var handle: String
    @Option(help: "The provider's id (sso list).") var issuer: Int64

    func run() async throws {
        try await withStore(database) { try await $0.unlinkSSOIdentity(handle, issuer: issuer, actor: acting.actor) }
        print("\(handle) unlinked from provider \(issuer)")
    }
}

/// `accord sso passwords on|off [--break-glass HANDLE]`.
struct SSOPasswords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwords",
        abstract: "Turn local passwords off for everyone but break-glass administrators (or on again)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "on or off.") var state: String
    @Option(help: "An administrator who keeps a password when they are off (repeatable).") var breakGlass: [String] = []

    func run() async throws {
        guard state == "on" || state == "off" else { throw CommandFailure("say on or off") }
        try await withStore(database) { try await $0.setLocalPasswords(state == "on", breakGlass: breakGlass, actor: acting.actor) }
        print("local passwords \(state)")
    }
}
