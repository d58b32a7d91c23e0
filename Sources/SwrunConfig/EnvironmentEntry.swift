/// One lxc.environment line: "NAME=VALUE", or "NAME" alone to pass the host's value on.
public struct EnvironmentEntry: Sendable, Equatable {
    public var name: String
    /// nil: take the value from the environment swrun runs in (LXC reads it when it
    /// reads the config, and fails when the variable is not set).
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    static func parse(_ text: String) throws(ValueError) -> EnvironmentEntry {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty else {
            throw ValueError("'\(text)' has no variable name", hint: "write NAME=VALUE, or NAME to pass the host's value on")
        }
        return EnvironmentEntry(name: name, value: parts.count == 2 ? String(parts[1]) : nil)
    }
}
