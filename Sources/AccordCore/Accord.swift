/// Facts about this build of Accord.
public enum Accord {
    /// The release version, printed by `accord --version`.
    public static let version = "0.1.0"
}
