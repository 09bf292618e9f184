import Foundation

/// Where and how Accord sends mail: `--smtp-url` (or `ACCORD_SMTP_URL`), the From address, the
/// credentials (from a file or the environment, never the command line or the URL), a CA file for a
/// private relay, and the site's public URL that links in messages point to.
public struct MailSettings: Sendable, Equatable {
    /// `smtp://host[:port]` (STARTTLS when offered; required when there are credentials) or `smtps://host[:port]`.
    public var url: String
    /// The From mailbox.
    public var from: MailAddress
    /// The AUTH user and password, if the relay wants them.
    public var credentials: Credentials?
    /// A PEM file of the certificate authorities to trust instead of the system's.
    public var caFile: String?
    /// The site as people reach it (`https://accord.example.com`), for the links in messages.
    public var publicURL: String

    /// A user and a password; `description` never shows the password.
    public struct Credentials: Sendable, Equatable, CustomStringConvertible {
        /// The user.
        public var user: String
        /// The password.
        public var password: String
        /// The user only.
        public var description: String { "\(user):••••" }

        /// Credentials from their parts.
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    /// Checked settings: the URL's scheme and host, no password inside it, an address for From.
    public init(url: String, from: String, credentials: Credentials? = nil, caFile: String? = nil, publicURL: String) throws {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
            let host = parsed.host, !host.isEmpty
        else {
            throw MailError("the SMTP URL '\(url)' is not smtp://HOST[:PORT] or smtps://HOST[:PORT]")
        }
        guard parsed.password == nil, parsed.user == nil else {
            throw MailError(
                "the SMTP URL carries credentials, which would show in process lists and logs; give them with --smtp-credentials-file or ACCORD_SMTP_USER and ACCORD_SMTP_PASSWORD"
            )
        }
        guard let address = Self.address(from) else {
            throw MailError("the From address '\(from)' is not an e-mail address (name@example.com, or \"Name <name@example.com>\")")
        }
        guard let site = URL(string: publicURL), ["http", "https"].contains(site.scheme?.lowercased() ?? ""), site.host != nil else {
            throw MailError("the public URL '\(publicURL)' is not http(s)://HOST[:PORT]")
        }
        self.url = url
        self.from = address
        self.credentials = credentials
        self.caFile = caFile
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The credentials of a file: its first line `user:password`, or a user on the first line and the
    /// password on the second. The file should be readable by Accord's user only.
    public static func credentials(file path: String) throws -> Credentials {
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw MailError("cannot read the SMTP credentials file \(path)")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        if lines.count >= 2 { return Credentials(user: lines[0], password: lines[1]) }
        if let line = lines.first, let colon = line.firstIndex(of: ":") {
            return Credentials(user: String(line[..<colon]), password: String(line[line.index(after: colon)...]))
        }
        throw MailError("the SMTP credentials file \(path) holds neither 'user:password' nor a user and a password on two lines")
    }

    /// `name@example.com` or `Name <name@example.com>`.
    static func address(_ text: String) -> MailAddress? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
            let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return isAddress(address) ? MailAddress(name: name.isEmpty ? nil : name, address: address) : nil
        }
        return isAddress(text) ? MailAddress(name: "Accord", address: text) : nil
    }

    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !text.contains { $0.isWhitespace || "<>\"(),;".contains($0) }
    }
}
