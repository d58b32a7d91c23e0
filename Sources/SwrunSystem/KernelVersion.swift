import Glibc

/// The running kernel's major and minor version, for features that a kernel either has or
/// lacks with no other way to ask (clone3 with CLONE_INTO_CGROUP, Linux 5.7).
public enum KernelVersion {
    /// (major, minor) of uname's release ("6.18.0-1-amd64" -> (6, 18)); (0, 0) when unreadable.
    public static let current: (Int, Int) = {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return parse(release)
    }()

    static func parse(_ release: String) -> (Int, Int) {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : (0, 0)
    }
}
