import Foundation

/// The chat forms of an event: a Slack incoming-webhook message (a `text` fallback and Block Kit blocks) and
/// a Microsoft Teams workflow message (an Adaptive Card 1.4 attachment). Both say what happened in one line
/// and list the event's facts; the JSON event itself is the `standard` form.
extension WebhookDelivery {
    /// The request body in the webhook's form.
    public var payload: [UInt8] {
        guard format != .standard, let event = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return body }
        let message = EventMessage(event: event)
        let object: [String: Any] =
            switch format {
            case .standard: event
            case .slack: message.slack
            case .teams: message.teams
            }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(body))
    }
}

/// An event as a headline and facts.
struct EventMessage {
    var headline: String
    var facts: [(name: String, value: String)]

    static let headlines: [String: String] = [
        "task.reminder": "Reminder: a task is due soon", "task.overdue": "A task is overdue", "task.escalation": "A late task is escalated",
        "cycle.opened": "An improvement cycle opened", "cycle.closed": "An improvement cycle closed",
        "finding.opened": "A finding was raised", "finding.closed": "A finding was closed",
        "incident.reported": "A serious incident was reported",
    ]

    init(event: [String: Any]) {
        let topic = event["topic"] as? String ?? "event"
        let data = event["data"] as? [String: Any] ?? [:]
        let subject = ["task", "title", "program"].lazy.compactMap { data[$0] as? String }.first
        headline = "Accord: " + (Self.headlines[topic] ?? topic) + (subject.map { " — \($0)" } ?? "")
        facts = data.keys.sorted().compactMap { key in
            let value = data[key]
            let text: String? =
                switch value {
                case let string as String: string
                case let number as NSNumber: number.stringValue
                case let list as [Any]: list.map { "\($0)" }.joined(separator: ", ")
                default: nil
                }
            return text.map { (Self.label(key), String($0.prefix(300))) }
        }
        facts = Array(facts.prefix(12))
    }

    /// `daysLate` → "days late", `due_at` → "due at".
    static func label(_ key: String) -> String {
        var words = ""
        for character in key {
            if character == "_" {
                words.append(" ")
            } else if character.isUppercase {
                words.append(" " + character.lowercased())
            } else {
                words.append(character)
            }
        }
        return words
    }

    var slack: [String: Any] {
        let lines = facts.map { "*\($0.name):* \($0.value)" }.joined(separator: "\n")
        return [
            "text": headline,
            "blocks": [
                ["type": "header", "text": ["type": "plain_text", "text": String(headline.prefix(150))]],
                ["type": "section", "text": ["type": "mrkdwn", "text": lines.isEmpty ? " " : lines]],
            ],
        ]
    }

    var teams: [String: Any] {
        [
            "type": "message",
            "attachments": [
                [
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": NSNull(),
                    "content": [
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            ["type": "TextBlock", "text": headline, "weight": "Bolder", "size": "Medium", "wrap": true],
                            ["type": "FactSet", "facts": facts.map { ["title": $0.name, "value": $0.value] }],
                        ],
                    ] as [String: Any],
                ] as [String: Any]
            ],
        ]
    }
}
