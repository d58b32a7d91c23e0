import CLinux
import Glibc
import SwrunSystem

/// The namespaces a running container's init is in, read from /proc/PID/ns as LXC reads
/// them: whatever the config says now, these are the container's. A namespace that is also
/// swrun's own (the host's network for lxc.net.0.type = none, say) is not one to enter.
enum InitNamespaces {
    static let kinds: [(file: String, flag: UInt64, name: String)] = [
        ("user", SWRUN_CLONE_NEWUSER, "CLONE_NEWUSER"),  // first: the others are entered as its root
        ("mnt", SWRUN_CLONE_NEWNS, "CLONE_NEWNS"),
        ("uts", SWRUN_CLONE_NEWUTS, "CLONE_NEWUTS"),
        ("ipc", SWRUN_CLONE_NEWIPC, "CLONE_NEWIPC"),
        ("net", SWRUN_CLONE_NEWNET, "CLONE_NEWNET"),
        ("pid", SWRUN_CLONE_NEWPID, "CLONE_NEWPID"),
        ("cgroup", SWRUN_CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
        ("time", 0x80, "CLONE_NEWTIME"),
    ]

    /// The CLONE_NEW* flags and names of the namespaces of `pid` that differ from this
    /// process's. A kind the kernel lacks (no /proc/self/ns/time before 5.6) is skipped.
    static func differing(of pid: pid_t) throws(SwrunError) -> (flags: UInt64, names: [String]) {
        var flags: UInt64 = 0
        var names: [String] = []
        for kind in kinds {
            guard let own = identity("/proc/self/ns/" + kind.file) else { continue }
            guard let theirs = identity("/proc/\(pid)/ns/\(kind.file)") else {
                throw SwrunError.system("cannot read the \(kind.file) namespace of the container's init (/proc/\(pid)/ns/\(kind.file))", Errno.current)
            }
            if theirs != own {
                flags |= kind.flag
                names.append(kind.name)
            }
        }
        return (flags, names)
    }

    /// A namespace is its nsfs inode: device and inode number.
    private static func identity(_ path: String) -> [UInt64]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }
}
