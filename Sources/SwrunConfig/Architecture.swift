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

    /// swrun does not switch personality yet, so only an architecture that is the host's
    /// own works: its uname name, an alias of it, or "linux64" on a 64-bit host.
    static func matchesHost(_ value: String, hostMachine: String = hostMachine) -> Bool {
        if value == "linux64" { return sixtyFourBit.contains(hostMachine) }
        return (aliases[value] ?? value) == (aliases[hostMachine] ?? hostMachine)
    }
}
