import Glibc

/// lxc.arch: the personality a container runs with.
public enum Architecture {
    /// LXC's names (lxc_config_parse_arch): these need the 32-bit personality.
    static let thirtyTwoBit = ["arm", "armel", "armhf", "armv7l", "athlon", "i386", "i486", "i586", "i686",
                               "linux32", "mips", "mipsel", "ppc", "powerpc", "x86"]
    /// ... and these the normal 64-bit one.
    static let sixtyFourBit = ["aarch64", "amd64", "arm64", "linux64", "mips64", "mips64el", "ppc64", "ppc64el",
                               "ppc64le", "powerpc64", "riscv64", "s390x", "x86_64"]

    /// Other spellings of uname's machine names.
    static let aliases = ["amd64": "x86_64", "arm64": "aarch64", "ppc64el": "ppc64le", "powerpc64": "ppc64"]

    static func parse(_ value: String) throws(ValueError) -> String {
        guard thirtyTwoBit.contains(value) || sixtyFourBit.contains(value) else {
            throw ValueError("'\(value)' is not an architecture LXC knows",
                             hint: Suggestions.closest(to: value, among: thirtyTwoBit + sixtyFourBit).map { "did you mean '\($0)'?" }
                                ?? "use the host's, e.g. x86_64 or aarch64")
        }
        return value
    }

    /// uname's machine: "x86_64", "aarch64" ...
    public static var hostMachine: String {
        var names = utsname()
        guard uname(&names) == 0 else { return "" }
        return withUnsafeBytes(of: names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// How a container of lxc.arch `value` runs on this host.
    public enum Personality: Sendable, Equatable {
        /// The host's own architecture.
        case native
        /// A 32-bit counterpart of the host's: the kernel's PER_LINUX32 personality, so that
        /// uname reports the 32-bit machine (i686 on x86_64), as LXC does for 32-bit images.
        case linux32
    }

    /// The 32-bit architectures each 64-bit machine runs under PER_LINUX32.
    static let thirtyTwoBitOf: [String: [String]] = [
        "x86_64": ["i386", "i486", "i586", "i686", "athlon", "x86"],
        "aarch64": ["arm", "armel", "armhf", "armv7l"],
        "ppc64": ["ppc", "powerpc"], "ppc64le": ["ppc", "powerpc"],
        "mips64": ["mips", "mipsel"],
    ]

    /// How this host runs lxc.arch `value`, or nil when it cannot (another machine's
    /// architecture: swrun emulates nothing).
    public static func personality(for value: String, hostMachine: String = hostMachine) -> Personality? {
        let host = aliases[hostMachine] ?? hostMachine
        if (aliases[value] ?? value) == host { return .native }
        let isSixtyFourBitHost = sixtyFourBit.contains(host)
        if value == "linux64" { return isSixtyFourBitHost ? .native : nil }
        if value == "linux32" { return isSixtyFourBitHost ? .linux32 : .native }
        return thirtyTwoBitOf[host]?.contains(value) == true ? .linux32 : nil
    }
}
