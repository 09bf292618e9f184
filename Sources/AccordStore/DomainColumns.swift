public import AccordCore
public import Postgres

// The domain's enums as the columns store them (their raw text), so rows decode into them directly
// and a value the code does not know is a decoding error naming the column, never a crash.
extension TaskState: PostgresTextEnum {}
extension SigningDecision: PostgresTextEnum {}
extension SignatureMeaning: PostgresTextEnum {}

extension TaskState {
    /// The one SQL spelling of `isOutstanding`: `COLUMN IN ('blocked', …)`, for a state column or parameter.
    public static func outstandingSQL(_ column: String) -> String {
        "\(column) IN (\(allCases.filter(\.isOutstanding).map { "'\($0.rawValue)'" }.joined(separator: ", ")))"
    }
}
