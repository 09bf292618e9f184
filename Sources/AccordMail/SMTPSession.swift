public import AccordStore
import CCurl
public import Foundation

/// A message ready for SMTP: its headers' values and its two bodies.
public struct MailMessage: Sendable, Equatable {
    /// The `Message-ID`, without the angle brackets: the same on every attempt.
    public var id: String
    /// The `From` address and name.
    public var from: MailAddress
    /// The one recipient.
    public var to: MailAddress
    /// The subject, as people read it (encoded for the header when it is not ASCII).
    public var subject: String
    /// The `Date` header.
    public var date: Date
    /// The thread's `Message-ID` (`In-Reply-To` and `References`), when it belongs to one.
    public var thread: String?
    /// The `List-Unsubscribe` URL: the person's preferences.
    public var unsubscribe: String?
    /// The plain-text body.
    public var text: String
    /// The HTML body.
    public var html: String
}

/// A mailbox: an address and, optionally, the name shown with it.
public struct MailAddress: Sendable, Equatable {
    /// The display name.
    public var name: String?
    /// The address itself.
    public var address: String

    /// A mailbox from its parts.
    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// The RFC 5322 form: `"Ada Lovelace" <ada@example.com>`, the name encoded (RFC 2047) when not ASCII.
    public var header: String {
        guard let name = name.map(headerSafe), !name.isEmpty else { return "<\(headerSafe(address))>" }
        let shown =
            name.unicodeScalars.allSatisfy { $0.isASCII }
            ? "\"\(name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))\"" : encodedWord(name)
        return "\(shown) <\(headerSafe(address))>"
    }
}

/// What the SMTP server answered a send, and what that means for the message.
public struct SMTPReply: Sendable, Equatable {
    /// The server's last reply code (0: no answer, the server could not be reached).
    public var code: Int
    /// The server's last reply line, or libcurl's account of why there was none.
    public var text: String
    /// Sent, worth another try later, or refused for good.
    public var outcome: MailOutcome
}

/// One SMTP connection through libcurl, which does the protocol: implicit TLS (`smtps://`), STARTTLS,
/// AUTH, and reusing the connection for the next message. Blocking: used on one thread at a time.
final class SMTPSession {
    private let handle: UnsafeMutableRawPointer
    private let settings: MailSettings
    private let transcript = Transcript()

    /// The replies read from the server, for the last one (the debug callback writes into it).
    final class Transcript {
        var lines: [String] = []
    }

    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init(settings: MailSettings) throws {
        guard Self.initialised, let handle = curl_easy_init() else { throw MailError("libcurl could not be initialised") }
        self.handle = handle
        self.settings = settings
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends one message and says how the server answered. Never throws: every failure is a reply.
    func send(_ message: MailMessage) -> SMTPReply {
        curl_easy_reset(handle)
        transcript.lines.removeAll()
        var recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(headerSafe(message.to.address))>")
        var headers: UnsafeMutablePointer<curl_slist>?
        for line in headerLines(message) { headers = curl_slist_append(headers, line) }
        let mime = curl_mime_init(handle)
        defer {
            curl_mime_free(mime)
            curl_slist_free_all(headers)
            curl_slist_free_all(recipients)
            recipients = nil
        }
        // multipart/alternative inside the message, the plain text first and the HTML last (preferred).
        let alternative = curl_mime_init(handle)
        for (text, type) in [(message.text, "text/plain; charset=utf-8"), (message.html, "text/html; charset=utf-8")] {
            // Lines end in CRLF on the wire (RFC 5322), so the quoted-printable encoder keeps them as line breaks.
            let body = text.replacing("\r\n", with: "\n").replacing("\n", with: "\r\n")
            let part = curl_mime_addpart(alternative)
            _ = curl_mime_data(part, body, body.utf8.count)
            _ = curl_mime_type(part, type)
            _ = curl_mime_encoder(part, "quoted-printable")
        }
        let inline = curl_mime_addpart(mime)
        _ = curl_mime_subparts(inline, alternative)
        _ = curl_mime_type(inline, "multipart/alternative")
        _ = curl_mime_headers(inline, curl_slist_append(nil, "Content-Disposition: inline"), 1)

        setString(CURLOPT_URL, settings.url)
        setString(CURLOPT_MAIL_FROM, "<\(headerSafe(settings.from.address))>")
        _ = accord_curl_set_list(handle, CURLOPT_MAIL_RCPT, recipients)
        _ = accord_curl_set_list(handle, CURLOPT_HTTPHEADER, headers)
        _ = accord_curl_set_mime(handle, mime)
        setLong(CURLOPT_NOSIGNAL, 1)
        setLong(CURLOPT_CONNECTTIMEOUT, 10)
        setLong(CURLOPT_TIMEOUT, 60)
        // A password never crosses the network in clear: with credentials, smtp:// must upgrade with STARTTLS.
        setLong(CURLOPT_USE_SSL, Int(settings.credentials == nil ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        if let ca = settings.caFile { setString(CURLOPT_CAINFO, ca) }
        if let credentials = settings.credentials {
            setString(CURLOPT_USERNAME, credentials.user)
            setString(CURLOPT_PASSWORD, credentials.password)
        }
        // Only what the server says is kept (never what is sent, which carries the AUTH exchange).
        _ = accord_curl_set_debug_function(handle) { _, type, data, size, context in
            guard type == CURLINFO_HEADER_IN, let data, let context else { return 0 }
            let transcript = Unmanaged<Transcript>.fromOpaque(context).takeUnretainedValue()
            let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
            transcript.lines += text.split(whereSeparator: \.isNewline).map(String.init)
            return 0
        }
        _ = accord_curl_set_pointer(handle, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(transcript).toOpaque())
        setLong(CURLOPT_VERBOSE, 1)

        let result = curl_easy_perform(handle)
        var code = 0
        _ = accord_curl_response_code(handle, &code)
        // The reply that decided (the one libcurl reports), not the QUIT's "221 Bye" after it.
        let last = transcript.lines.last { code > 0 && $0.hasPrefix(String(code)) } ?? transcript.lines.last { $0.first?.isNumber == true } ?? ""
        if result == CURLE_OK { return SMTPReply(code: code, text: last, outcome: .sent(last)) }
        let reason = String(cString: curl_easy_strerror(result))
        let said = last.isEmpty ? reason : "\(last) (\(reason))"
        // 5xx refuses this message for good; a refused login is the configuration's fault, not the
        // message's, so it waits to be retried once the administrator fixes it.
        if (500..<600).contains(code), result != CURLE_LOGIN_DENIED { return SMTPReply(code: code, text: said, outcome: .permanent(said)) }
        return SMTPReply(code: code, text: said, outcome: .temporary(said))
    }

    private func setString(_ option: CURLoption, _ value: String) { _ = accord_curl_set_string(handle, option, value) }
    private func setLong(_ option: CURLoption, _ value: Int) { _ = accord_curl_set_long(handle, option, value) }

    /// The message's own headers; libcurl adds `MIME-Version` and the multipart `Content-Type`.
    private func headerLines(_ message: MailMessage) -> [String] {
        let host = messageIDHost(settings)
        var lines = [
            "From: \(settings.from.header)",
            "To: \(message.to.header)",
            "Subject: \(encodedWord(headerSafe(message.subject)))",
            "Date: \(rfc5322Date(message.date))",
            "Message-ID: <\(message.id)@\(host)>",
            "Auto-Submitted: auto-generated",
        ]
        if let thread = message.thread {
            lines += ["In-Reply-To: <\(thread)@\(host)>", "References: <\(thread)@\(host)>"]
        }
        if let unsubscribe = message.unsubscribe { lines.append("List-Unsubscribe: <\(headerSafe(unsubscribe))>") }
        return lines
    }
}

/// The host part of Message-IDs: the site's host, else the From address's domain.
func messageIDHost(_ settings: MailSettings) -> String {
    URL(string: settings.publicURL)?.host ?? String(settings.from.address.split(separator: "@").last ?? "accord.invalid")
}

/// A header value without line breaks (no header injection from a task's title).
func headerSafe(_ value: String) -> String {
    String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }.map(Character.init))
}

/// The text itself when it is printable ASCII, else RFC 2047 encoded words (UTF-8, base64), each under
/// 76 characters and split between characters, never inside one.
func encodedWord(_ text: String) -> String {
    guard !text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) else { return text }
    var words: [String] = []
    var chunk = ""
    for character in text {
        if (chunk + String(character)).utf8.count > 45 {
            words.append(chunk)
            chunk = ""
        }
        chunk.append(character)
    }
    if !chunk.isEmpty { words.append(chunk) }
    return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: " ")
}

/// `Wed, 02 Dec 2026 21:00:00 +0000`.
func rfc5322Date(_ date: Date) -> String {
    let format = DateFormatter()
    format.locale = Locale(identifier: "en_US_POSIX")
    format.timeZone = TimeZone(identifier: "UTC")
    format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
    return format.string(from: date)
}

/// A mail configuration or sending problem, worded for the operator.
public struct MailError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}
