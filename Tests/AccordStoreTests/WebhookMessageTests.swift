import AccordStore
import Crypto
import Foundation
import Testing

@Suite("Webhook message forms and the Standard Webhooks signature")
struct WebhookMessageTests {
    func delivery(_ format: WebhookFormat) -> WebhookDelivery {
        let event =
            #"{"id":"3f1c","topic":"task.escalation","created_at":"2026-12-02T10:00:00Z","data":{"program":"acme","task":"acme/context","level":2,"daysLate":9,"recipients":["grace","kat"]}}"#
        return WebhookDelivery(
            eventID: UUID(),
            webhookID: 1,
            attempt: 1,
            leaseToken: UUID(),
            url: "https://example.com",
            secret: standardWebhookSecret(),
            topic: "task.escalation",
            body: Array(event.utf8),
            format: format
        )
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("standard is the event itself; Slack gets a fallback and blocks; Teams an Adaptive Card with the facts")
    func forms() throws {
        let standard = delivery(.standard)
        #expect(standard.payload == standard.body)
        let slack = try json(delivery(.slack).payload)
        #expect(slack["text"] as? String == "Accord: A late task is escalated — acme/context")
        let blocks = try #require(slack["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["header", "section"])
        let section = try #require((blocks[1]["text"] as? [String: Any])?["text"] as? String)
        #expect(section.contains("*days late:* 9") && section.contains("*recipients:* grace, kat"))
        let teams = try json(delivery(.teams).payload)
        let attachment = try #require((teams["attachments"] as? [[String: Any]])?.first)
        #expect(teams["type"] as? String == "message" && attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard" && card["version"] as? String == "1.4")
        let facts = try #require((card["body"] as? [[String: Any]])?.last?["facts"] as? [[String: String]])
        #expect(facts.contains { $0["title"] == "level" && $0["value"] == "2" })
    }

    @Test("the signature is base64 HMAC-SHA256 over id.timestamp.body with the key the secret encodes")
    func signature() throws {
        let key = Array(repeating: UInt8(7), count: 32)
        let secret = "whsec_" + Data(key).base64EncodedString()
        let body = Array(#"{"a":1}"#.utf8)
        let expected = HMAC<SHA256>.authenticationCode(for: Array("msg_1.1700000000.".utf8) + body, using: SymmetricKey(data: key))
        #expect(
            standardWebhookSignature(secret: secret, id: "msg_1", timestamp: 1_700_000_000, body: body) == "v1,"
                + Data(expected).base64EncodedString()
        )
        #expect(standardWebhookSecret().hasPrefix("whsec_") && Data(base64Encoded: String(standardWebhookSecret().dropFirst(6)))?.count == 32)
    }
}
