import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// `swrun attach` (lxc-attach): run a command inside a running container. swrun opens a
/// pidfd on the container's init, enters all its namespaces at once with setns(2) on it,
/// takes a pty from the container's own devpts when stdin is a terminal, and forks the
/// command, which drops to the container's capabilities and identity before execve.
public struct ContainerAttacher {
    public let store: ContainerStore
    public let name: String
    public var command: [String] = []
    /// NAME=VALUE pairs (-v).
    public var environment: [String] = []
    public var keepHostEnvironment = false
    public var useTerminal = false
    public var explain = false

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    /// The namespaces attach enters: all those the container has.
    static let namespaces = Int32(truncatingIfNeeded: SWRUN_CLONE_NEWNS | SWRUN_CLONE_NEWUTS | SWRUN_CLONE_NEWIPC
                                  | SWRUN_CLONE_NEWNET | SWRUN_CLONE_NEWPID | SWRUN_CLONE_NEWCGROUP)

    /// Runs the command and returns how it ended. This process stays in the container's
    /// namespaces afterwards: run it last.
    public func run(warn: (String) -> Void) throws(SwrunError) -> ProcessStatus {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state == .running, let initProcess = status.record?.initProcess else {
            throw SwrunError(.notFound, "container '\(name)' is not running",
                             hint: "start it with `swrun start -n \(name) -P \(store.lxcPath)`, or use `swrun execute` for a one-off command")
        }
        // The container's cgroup files, opened while host paths still resolve: the command
        // joins them itself as its first step; swrun stays outside its limits. On v1, the tasks
        // file: a single thread moving itself costs no RCU grace period (see StartPlan.CgroupEntry).
        var cgroupFDs: [Int32] = []
        defer { for fd in cgroupFDs { close(fd) } }
        for directory in status.record.map({ store.ownCgroups(of: name, in: $0) }) ?? [] {
            let fd = open(try ContainerCgroup.joinFile(of: directory), O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw SwrunError.system("cannot open the cgroup \(directory) of container '\(name)'", Errno.current) }
            cgroupFDs.append(fd)
        }
        let plan = try makePlan(cgroupProcsFDs: cgroupFDs)
        let explainer = Explainer(enabled: explain)
        // Everything read from the host is read by now: after setns, paths resolve in the container.
        let pidfd = try initProcess.openPidFD()
        defer { close(pidfd) }
        explainer.say("pidfd_open(\(initProcess.pid)); setns(pidfd, CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWCGROUP)",
                      "join every namespace of the container's init in one call; the new pid namespace applies to the next child")
        let namespaces = plan.usesUserNamespace ? Self.namespaces | Int32(truncatingIfNeeded: SWRUN_CLONE_NEWUSER) : Self.namespaces
        if swrun_setns(pidfd, namespaces) != 0 {
            throw SwrunError.system("cannot enter the namespaces of container '\(name)'", Errno.current)
        }
        // Not dumpable: the forked child, until its execve, cannot be ptraced or read through /proc.
        _ = swrun_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        var master: Int32 = -1, peer: Int32 = -1
        defer { if peer >= 0 { close(peer) } }
        if plan.useTerminal {
            (master, peer) = try Self.openTerminal()
            explainer.say("open(\"/dev/pts/ptmx\"); ioctl(TIOCGPTPEER)", "a pty from the container's devpts for the command")
        }
        var masterOwned = master >= 0  // until the relay takes it over
        defer { if masterOwned { close(master) } }
        // The terminal is raw and sized before the command's first output.
        var rawMode: RawTerminalMode?
        if master >= 0 && Terminal.isTerminal(0) {
            rawMode = try RawTerminalMode.enter(fd: 0)
            if let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: master) }
        }
        defer { withExtendedLifetime(rawMode) {} }
        let signals = try SignalFD(SignalFD.relayed)
        fflush(nil)
        var failure: (Int32, Int32) = (-1, -1)
        let child = ContainerInit.startPayload(plan, console: peer, report: &failure)
        if child < 0 { throw SwrunError.system("cannot fork the command", Errno.current) }
        close(peer)
        peer = -1
        masterOwned = false
        let relay = ForegroundRelay(child: child, console: master, signals: signals.fd, statusChannel: -1, explainer: explainer)
        if failure.0 >= 0 {
            _ = try? relay.run()
            throw plan.payloadFailure(step: failure.0, errno: failure.1)
        }
        return try relay.run()
    }

    private func makePlan(cgroupProcsFDs: [Int32]) throws(SwrunError) -> StartPlan {
        let config = try store.config(of: name)
        let uid = config.initUid ?? 0
        var request = LaunchRequest(containerName: name, containerDirectory: store.directory(of: name), config: config,
                                    command: [], useTerminal: useTerminal, explain: explain,
                                    hostTerm: getenv("TERM").map { String(cString: $0) },
                                    hostEnvironment: HostEnvironment.current())
        request.mode = .attach
        request.environmentOverrides = environment
        request.keepHostEnvironment = keepHostEnvironment
        request.cgroupProcsFDs = cgroupProcsFDs
        let rootfs = try StartPlan.rootfsPath(of: request)
        request.command = command.isEmpty ? [Self.loginShell(of: uid, rootfs: rootfs)] : command
        return try StartPlan(request)
    }

    /// The shell /etc/passwd of the rootfs gives `uid`; /bin/sh when it names none. The file is
    /// the container's: read through RootfsFile, never through its links to the host.
    static func loginShell(of uid: UInt32, rootfs: String) -> String {
        let passwd = RootfsFile.read("/etc/passwd", in: rootfs) ?? ""
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 7, UInt32(fields[2]) == uid, !fields[6].isEmpty { return String(fields[6]) }
        }
        return "/bin/sh"
    }

    /// A pty from the devpts mounted in the container (this process is in its mount namespace).
    private static func openTerminal() throws(SwrunError) -> (Int32, Int32) {
        let master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        if master < 0 { throw SwrunError.system("cannot open /dev/pts/ptmx in the container", Errno.current, hint: "run without a terminal: swrun attach -T") }
        let peer = swrun_open_pty_peer(master)
        if peer < 0 {
            let errno = Errno.current
            close(master)
            throw SwrunError.system("cannot open a pty in the container", errno)
        }
        return (master, peer)
    }
}
