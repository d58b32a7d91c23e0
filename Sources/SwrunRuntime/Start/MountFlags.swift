/// mount(2) flags, with their C names for explanations.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)
    public static let noSetuid = MountFlags(rawValue: 2)
    public static let noDevices = MountFlags(rawValue: 4)
    public static let noExec = MountFlags(rawValue: 8)
    public static let remount = MountFlags(rawValue: 32)
    public static let bind = MountFlags(rawValue: 4096)
    public static let recursive = MountFlags(rawValue: 16384)
    public static let privatePropagation = MountFlags(rawValue: 1 << 18)
    public static let relatime = MountFlags(rawValue: 1 << 21)
    public static let strictatime = MountFlags(rawValue: 1 << 24)

    /// The flags a kernel filesystem mount gets in a container: no setuid, no devices, no exec.
    public static let restrictive: MountFlags = [.noSetuid, .noDevices, .noExec]

    private static let names: [(UInt, String)] = [
        (1, "MS_RDONLY"), (2, "MS_NOSUID"), (4, "MS_NODEV"), (8, "MS_NOEXEC"), (16, "MS_SYNCHRONOUS"),
        (32, "MS_REMOUNT"), (64, "MS_MANDLOCK"), (128, "MS_DIRSYNC"), (1024, "MS_NOATIME"),
        (2048, "MS_NODIRATIME"), (4096, "MS_BIND"), (8192, "MS_MOVE"), (16384, "MS_REC"),
        (1 << 17, "MS_UNBINDABLE"), (1 << 18, "MS_PRIVATE"), (1 << 19, "MS_SLAVE"), (1 << 20, "MS_SHARED"),
        (1 << 21, "MS_RELATIME"), (1 << 24, "MS_STRICTATIME"), (1 << 25, "MS_LAZYTIME"),
    ]

    /// "MS_BIND|MS_REC", or "0".
    public var cNames: String {
        var rest = rawValue
        var parts: [String] = []
        for (bit, name) in Self.names where rest & bit != 0 {
            parts.append(name)
            rest &= ~bit
        }
        if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}
