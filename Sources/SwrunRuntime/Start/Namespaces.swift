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

    /// The namespaces clone3 makes: with a user namespace when the container has id maps;
    /// without the cgroup namespace when init makes it itself once in its own cgroup.
    static func chosen(userNamespace: Bool, cgroupLater: Bool = false) -> [(flag: UInt64, name: String, purpose: String)] {
        (userNamespace ? [user] + all : all).filter { !cgroupLater || $0.flag != SWRUN_CLONE_NEWCGROUP }
    }
    static func flags(userNamespace: Bool, cgroupLater: Bool = false) -> UInt64 {
        chosen(userNamespace: userNamespace, cgroupLater: cgroupLater).reduce(0) { $0 | $1.flag }
    }
    static func names(userNamespace: Bool, cgroupLater: Bool = false) -> String {
        chosen(userNamespace: userNamespace, cgroupLater: cgroupLater).map(\.name).joined(separator: "|")
    }
}
