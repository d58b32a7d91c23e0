import CLinux

/// The namespaces a container gets, as clone3 flags.
struct Namespaces {
    static let all: [(flag: UInt64, name: String, purpose: String)] = [
        (SWRUN_CLONE_NEWNS, "CLONE_NEWNS", "its own mount table"),
        (SWRUN_CLONE_NEWUTS, "CLONE_NEWUTS", "its own hostname"),
        (SWRUN_CLONE_NEWIPC, "CLONE_NEWIPC", "its own System V IPC and POSIX message queues"),
        (SWRUN_CLONE_NEWPID, "CLONE_NEWPID", "its own process numbers, starting at PID 1"),
        (SWRUN_CLONE_NEWNET, "CLONE_NEWNET", "its own network stack, with only lo"),
        (SWRUN_CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "its own view of the cgroup tree, rooted at its cgroup"),
    ]

    static let user = (flag: SWRUN_CLONE_NEWUSER, name: "CLONE_NEWUSER",
                       purpose: "its own user and group ids: root inside is an unprivileged id on the host (lxc.idmap)")

    /// A user namespace, for a container with id maps.
    var userNamespace = false
    /// No cgroup namespace from clone3: init makes it itself once in its own cgroup.
    var cgroupLater = false
    /// The host's network stack (lxc.net.N.type = none), not a namespace of its own.
    var hostNetwork = false
    /// Namespaces joined from another container (lxc.namespace.share.KIND), not made.
    var shared: UInt64 = 0

    var chosen: [(flag: UInt64, name: String, purpose: String)] {
        (userNamespace ? [Self.user] + Self.all : Self.all).filter {
            !(cgroupLater && $0.flag == SWRUN_CLONE_NEWCGROUP) && !(hostNetwork && $0.flag == SWRUN_CLONE_NEWNET) && $0.flag & shared == 0
        }
    }
    var flags: UInt64 { chosen.reduce(0) { $0 | $1.flag } }
    var names: String { chosen.map(\.name).joined(separator: "|") }
}
