/// One row of the key table: which keys it covers, how values combine, how they are
/// checked, and whether swrun applies them yet.
public struct ConfigKey: Sendable {
    public enum Pattern: Sendable, Equatable {
        /// Exactly this key.
        case exact(String)
        /// Any key that starts with this prefix and goes on; when `suffixes` is given,
        /// only those continuations ("lxc.hook." + "pre-start").
        case prefix(String, suffixes: [String]?)
        /// lxc.net.<index>.<subkey>.
        case network(String)
        /// lxc.net.<index> itself (only ever set empty, which removes that network).
        case networkDevice
    }

    public enum Kind: Sendable, Equatable {
        /// The last line wins.
        case single
        /// Every line adds an entry; an empty value clears the entries so far.
        case list
        /// Takes only an empty value, which clears every key below it (lxc.net, lxc.hook ...).
        case clearOnly
    }

    public enum Status: Sendable, Equatable {
        case applied
        case notApplied(String)
    }

    public let pattern: Pattern
    public let kind: Kind
    let rule: ValueRule
    public let status: Status
    /// Other keys that an empty value of this one clears too (LXC keeps cap.drop and
    /// cap.keep in one list, so clearing either clears both).
    public let alsoClears: [String]

    init(_ pattern: Pattern, _ kind: Kind, _ rule: ValueRule, _ status: Status, alsoClears: [String] = []) {
        self.pattern = pattern
        self.kind = kind
        self.rule = rule
        self.status = status
        self.alsoClears = alsoClears
    }

    /// Whether `key` is one this row covers.
    public func matches(_ key: String) -> Bool {
        switch pattern {
        case .exact(let name):
            return key == name
        case .prefix(let prefix, let suffixes):
            guard key.hasPrefix(prefix), key.count > prefix.count else { return false }
            guard let suffixes else { return true }
            return suffixes.contains(String(key.dropFirst(prefix.count)))
        case .network(let subkey):
            return ConfigKey.networkIndex(of: key).map { $0.subkey == subkey } ?? false
        case .networkDevice:
            return ConfigKey.networkIndex(of: key).map { $0.subkey.isEmpty } ?? false
        }
    }

    /// The reason a non-empty value is not applied, or nil when swrun applies it.
    public func notAppliedReason(for value: String) -> String? {
        switch status {
        case .applied: return nil
        case .notApplied(let reason): return reason
        }
    }

    /// "lxc.net.2.ipv4.address" -> (2, "ipv4.address"); "lxc.net.2" -> (2, "").
    static func networkIndex(of key: String) -> (index: Int, subkey: String)? {
        guard key.hasPrefix("lxc.net.") else { return nil }
        let rest = key.dropFirst("lxc.net.".count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let index = Int(digits) else { return nil }
        let after = rest.dropFirst(digits.count)
        if after.isEmpty { return (index, "") }
        guard after.first == ".", after.count > 1 else { return nil }
        return (index, String(after.dropFirst()))
    }
}
