/// One lxc.prlimit.NAME line: the soft and hard limit of a resource (setrlimit(2)), as LXC
/// reads them: "LIMIT" for both, or "SOFT:HARD", each a number or "unlimited".
public struct ResourceLimitSetting: Sendable, Equatable {
    /// The key's suffix: "nofile", "nproc" ...
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    /// RLIM_INFINITY.
    public static let unlimited = UInt64.max

    public init(name: String, soft: UInt64, hard: UInt64) {
        (self.name, self.soft, self.hard) = (name, soft, hard)
    }

    /// The value of lxc.prlimit.`name` (already checked by its value rule).
    static func parse(name: String, _ value: String) throws(ValueError) -> ResourceLimitSetting {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingBlanks() }
        func number(_ text: Substring) throws(ValueError) -> UInt64 {
            if text == "unlimited" { return unlimited }
            guard let value = Numbers.unsigned(text, max: UInt64.max) else {
                throw ValueError("'\(value)' is not a resource limit", hint: "write LIMIT or SOFT:HARD, each a number or 'unlimited'")
            }
            return value
        }
        guard (1...2).contains(parts.count) else {
            throw ValueError("'\(value)' is not a resource limit", hint: "write LIMIT or SOFT:HARD, each a number or 'unlimited'")
        }
        let soft = try number(parts[0])
        let hard = parts.count == 2 ? try number(parts[1]) : soft
        guard soft <= hard else {
            throw ValueError("the soft limit \(parts[0]) is above the hard limit \(parts[1])", hint: "write SOFT:HARD with SOFT <= HARD")
        }
        return ResourceLimitSetting(name: name, soft: soft, hard: hard)
    }
}
