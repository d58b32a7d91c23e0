import Glibc

/// The mount options LXC turns into mount(2) flags (its conf.c mount_opt and
/// propagation_opt tables), plus nosymfollow which the kernel has since 5.10.
public enum MountOptions {
    /// MS_RDONLY, for the modules that test a set of flags for it.
    public static let readOnly = UInt(MS_RDONLY)

    struct Flag {
        /// Set the bits, or clear them ("rw" clears MS_RDONLY).
        var clears: Bool
        var bits: UInt
    }

    static let flags: [String: Flag] = [
        "ro": Flag(clears: false, bits: UInt(MS_RDONLY)), "rw": Flag(clears: true, bits: UInt(MS_RDONLY)),
        "nosuid": Flag(clears: false, bits: UInt(MS_NOSUID)), "suid": Flag(clears: true, bits: UInt(MS_NOSUID)),
        "nodev": Flag(clears: false, bits: UInt(MS_NODEV)), "dev": Flag(clears: true, bits: UInt(MS_NODEV)),
        "noexec": Flag(clears: false, bits: UInt(MS_NOEXEC)), "exec": Flag(clears: true, bits: UInt(MS_NOEXEC)),
        "sync": Flag(clears: false, bits: UInt(MS_SYNCHRONOUS)), "async": Flag(clears: true, bits: UInt(MS_SYNCHRONOUS)),
        "remount": Flag(clears: false, bits: UInt(MS_REMOUNT)),
        "mand": Flag(clears: false, bits: UInt(MS_MANDLOCK)), "nomand": Flag(clears: true, bits: UInt(MS_MANDLOCK)),
        "dirsync": Flag(clears: false, bits: UInt(MS_DIRSYNC)),
        "noatime": Flag(clears: false, bits: UInt(MS_NOATIME)), "atime": Flag(clears: true, bits: UInt(MS_NOATIME)),
        "nodiratime": Flag(clears: false, bits: UInt(MS_NODIRATIME)), "diratime": Flag(clears: true, bits: UInt(MS_NODIRATIME)),
        "relatime": Flag(clears: false, bits: UInt(MS_RELATIME)), "norelatime": Flag(clears: true, bits: UInt(MS_RELATIME)),
        "strictatime": Flag(clears: false, bits: UInt(MS_STRICTATIME)),
        "nostrictatime": Flag(clears: true, bits: UInt(MS_STRICTATIME)),
        "lazytime": Flag(clears: false, bits: UInt(MS_LAZYTIME)),
        "nosymfollow": Flag(clears: false, bits: UInt(MS_NOSYMFOLLOW)),
        "bind": Flag(clears: false, bits: UInt(MS_BIND)),
        "rbind": Flag(clears: false, bits: UInt(MS_BIND) | UInt(MS_REC)),
        "defaults": Flag(clears: false, bits: 0),
    ]

    /// Propagation changes need their own mount(2) call, so they are kept apart.
    public static let propagation: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE) | UInt(MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE) | UInt(MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED) | UInt(MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE) | UInt(MS_REC),
    ]

    /// lxc.rootfs.options: the flags to set and to clear on the rootfs. Only flags: the rootfs
    /// is a directory or an already mounted filesystem by the time it becomes /.
    static func rootfsFlags(_ text: String) throws(ValueError) -> (set: UInt, clear: UInt) {
        var (set, clear): (UInt, UInt) = (0, 0)
        for option in text.split(separator: ",").map({ String($0.trimmingBlanks()) }) where !option.isEmpty {
            guard let flag = flags[option], option != "bind", option != "rbind", option != "remount" else {
                throw ValueError("'\(option)' is not a mount flag swrun can give the rootfs",
                                 hint: "use flags such as ro, nosuid, nodev, noexec, noatime; filesystem options belong to the filesystem's own mount")
            }
            if flag.clears { clear |= flag.bits; set &= ~flag.bits } else { set |= flag.bits; clear &= ~flag.bits }
        }
        return (set, clear)
    }
}
