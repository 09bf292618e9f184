import AccordMail
import ArgumentParser
import Foundation

/// `--smtp-url` and the rest of the mail settings, shared by `serve`, `worker`, `deadlines run-once`
/// and `mail test`. Each falls back to an environment variable; the password never comes from the command line.
struct MailOptions: ParsableArguments {
    @Option(
        name: .customLong("smtp-url"),
        help: ArgumentHelp(
            "The mail relay: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT]. Default: ACCORD_SMTP_URL; none: mail is off.",
            valueName: "url"
        )
    )
    var smtpURL: String?

    @Option(
        name: .customLong("mail-from"),
        help: ArgumentHelp("The From address, e.g. \"Accord <accord@example.com>\". Default: ACCORD_MAIL_FROM.", valueName: "address")
    )
    var mailFrom: String?

    @Option(
        name: .customLong("smtp-credentials-file"),
        help: ArgumentHelp(
            "A file holding 'user:password' (or the user and the password on two lines). Default: ACCORD_SMTP_CREDENTIALS_FILE, else ACCORD_SMTP_USER and ACCORD_SMTP_PASSWORD.",
            valueName: "file"
        )
    )
    var credentialsFile: String?

    @Option(
        name: .customLong("smtp-ca-file"),
        help: ArgumentHelp(
            "A PEM file of the authorities to trust for the relay's certificate. Default: ACCORD_SMTP_CA_FILE, else the system's.",
            valueName: "file"
        )
    )
    var caFile: String?

    @Option(
        name: .customLong("public-url"),
        help: ArgumentHelp(
            "The site as people reach it, for links in messages. Default: ACCORD_PUBLIC_URL, else http://127.0.0.1:8080.",
            valueName: "url"
        )
    )
    var publicURL: String?

    /// The settings, or `nil` when no relay is configured (mail is off). Bad settings stop the command.
    func settings(defaultPublicURL: String = "http://127.0.0.1:8080") throws -> MailSettings? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = smtpURL ?? environment["ACCORD_SMTP_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard let from = mailFrom ?? environment["ACCORD_MAIL_FROM"] else {
            throw CommandFailure("mail needs a From address: --mail-from or ACCORD_MAIL_FROM")
        }
        var credentials: MailSettings.Credentials?
        if let file = credentialsFile ?? environment["ACCORD_SMTP_CREDENTIALS_FILE"] {
            credentials = try MailSettings.credentials(file: file)
        } else if let user = environment["ACCORD_SMTP_USER"], let password = environment["ACCORD_SMTP_PASSWORD"] {
            credentials = MailSettings.Credentials(user: user, password: password)
        }
        do {
            return try MailSettings(
                url: url,
                from: from,
                credentials: credentials,
                caFile: caFile ?? environment["ACCORD_SMTP_CA_FILE"],
                publicURL: publicURL ?? environment["ACCORD_PUBLIC_URL"] ?? defaultPublicURL
            )
        } catch let error as MailError {
            throw CommandFailure(error.description)
        }
    }

    /// The renderer of the configured settings, or `nil` when mail is off.
    func renderer(defaultPublicURL: String = "http://127.0.0.1:8080") throws -> MailRenderer? {
        try settings(defaultPublicURL: defaultPublicURL).map { try MailRenderer(settings: $0) }
    }
}
