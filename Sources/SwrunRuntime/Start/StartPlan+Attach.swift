import CLinux
import SwrunSystem

/// What `swrun attach` needs of a running container, gathered on the host before the fork.
struct AttachTarget: Sendable {
    /// A pidfd on the container's init.
    var pidfd: Int32
    /// The namespaces of init that are not swrun's own (CLONE_NEW* flags), the user
    /// namespace among them where there is one.
    var namespaces: UInt64
    var namespaceNames: String
    /// tasks (v1) or cgroup.procs (v2) of the container's cgroups, opened on the host.
    var cgroupFDs: [Int32]
}

/// The payload of `swrun attach`. It runs in two processes. The first, forked on the host,
/// enters the container's namespaces (the user namespace first, where there is one: the
/// kernel installs it before the others) and its cgroup, and becomes what the container's
/// processes are (bounding set, ids, capabilities, seccomp filter) while nothing in the
/// container can see it: it is not in the container's pid namespace. Only then does it fork
/// the command's process into that namespace, as a child of swrun (CLONE_PARENT), which sets
/// up its terminal and directory and runs the command. So no process of the container ever
/// sees one of swrun's with more privileges than its own.
extension StartPlan {
    func planAttachPayload() throws(SwrunError) {
        guard let target = request.attachTarget else { return }
        if !request.replacedStandardFDs.allSatisfy({ $0 < 0 }) {
            addPayload(.replaceStandardFDs(stdioFDs), "give the command pipes in place of swrun's terminal", call: "dup2(pipe, 0/1/2)",
                       why: "the caller's terminal never enters a container: a process there could type into it (TIOCSTI)")
        }
        addPayload(.enterNamespaces(pidfd: target.pidfd, flags: Int32(truncatingIfNeeded: target.namespaces)),
                   "enter the namespaces of the container's init",
                   call: "prctl(PR_SET_DUMPABLE, 0); setns(pidfd, \(target.namespaceNames))",
                   why: "every namespace init has and swrun has not, in one call; the user namespace, where there is one, is entered first. "
                       + "Not dumpable: nothing in the container may read or trace swrun's memory")
        planCPUAffinity(final: false)
        if !target.cgroupFDs.isEmpty {
            var bytes: [UInt8] = []
            for fd in target.cgroupFDs { withUnsafeBytes(of: fd) { bytes.append(contentsOf: $0) } }
            addPayload(.joinCgroups(arena.bytes(bytes)), "join the container's cgroup", call: "write(tasks or cgroup.procs, \"0\")",
                       why: "the command, and not swrun, counts against the container's limits; its process is born there")
        }
        planCPUAffinity(final: true)
        addPayload(.resetInheritedState, "reset signal handling and the umask",
                   call: "sigprocmask(SIG_SETMASK, {}); signal(1..64, SIG_DFL); umask(022)",
                   why: "signals blocked or ignored by swrun must not stay that way in your command")
        planCloseInheritedDescriptors()
        planBoundingSet()
        try planScheduling(forksAfter: true)
        if filterNeedsCapabilities { planSeccomp(inInit: false) }
        planCredentials()
        if !filterNeedsCapabilities { planSeccomp(inInit: false) }
        addPayload(.spawnInPidNamespace, "fork the command into the container's pid namespace",
                   call: "clone(CLONE_PARENT|SIGCHLD)",
                   why: "the first process of swrun that the container can see already holds no more than the container's own")
        planResetOnFork()
        if request.useTerminal {
            planControllingTerminal()
        } else {
            addPayload(.newSession, "start a session of its own", call: "setsid()",
                       why: "without a controlling terminal, nothing in the container reaches the caller's")
        }
        try planDirectory()
        planExec(why: "the command replaces the forked process, a child of swrun, which relays signals and waits for it")
    }
}
