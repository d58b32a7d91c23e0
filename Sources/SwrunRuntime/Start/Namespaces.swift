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

    static var flags: UInt64 { all.reduce(0) { $0 | $1.flag } }
    static var names: String { all.map(\.name).joined(separator: "|") }
}
