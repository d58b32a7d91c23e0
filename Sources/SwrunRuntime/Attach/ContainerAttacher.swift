import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun attach` (lxc-attach): run a command inside a running container. Everything comes
/// from the running container, never from its config: the namespaces of its init (through a
/// pidfd), its cgroup and what its processes run with (the record written at start). A
/// first child enters all that and drops to the container's privileges unseen; only then
/// does it fork the command into the container's pid namespace (see StartPlan+Attach).
public struct ContainerAttacher {
    public let store: ContainerStore
    public let name: String
    public var command: [String] = []
    /// NAME=VALUE pairs (-v).
    public var environment: [String] = []
    public var keepHostEnvironment = false
    public var useTerminal = false
    public var explain = false
    /// docker exec -w: instead of the container's working directory.
    public var workingDirectory: String?
    /// docker exec -u USER[:GROUP]: names from the container's own /etc/passwd and /etc/group.
    public var user: String?

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    /// Runs the command and returns how it ended.
    public func run(warn: (String) -> Void) throws(SwrunError) -> ProcessStatus {
        let explainer = Explainer(enabled: explain)
        let source = try AttachSource(store: store, name: name, explainer: explainer)
        var profile = source.profile
        if let workingDirectory { profile.cwd = workingDirectory }
        if let user {
            let account = try ImageUser.resolve(user, passwd: RootfsFile.read("/etc/passwd", in: source.root),
                                                group: RootfsFile.read("/etc/group", in: source.root), image: "container '\(name)'")
            (profile.uid, profile.gid, profile.additionalGroups) = (account.uid, account.gid, account.groups)
            // Capabilities go with root, as they do at start: a user other than root gets none.
            profile.capabilitySets = nil
        }
        let argv = command.isEmpty ? [Self.loginShell(of: profile.uid, rootfs: source.root)] : command
        var (master, peer): (Int32, Int32) = (-1, -1)
        defer {
            if peer >= 0 { close(peer) }
            if master >= 0 { close(master) }  // until the relay takes it over
        }
        if useTerminal {
            (master, peer) = try ContainerPty.open(root: source.root, container: name)
            explainer.say("openat2(\"\(source.root)\", \"dev/pts/ptmx\", RESOLVE_IN_ROOT); ioctl(TIOCGPTPEER)", "a pty from the container's devpts for the command")
        }
        try source.requireStillRunning()
        let pipes = try StdioPipes(feedInput: master < 0)
        let plan = try makePlan(source.target, profile: profile, command: argv, pipes: pipes)
        // The terminal is raw and sized before the command's first output.
        var rawMode: RawTerminalMode?
        if master >= 0 && Terminal.isTerminal(0) {
            rawMode = try RawTerminalMode.enter(fd: 0)
            if let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: master) }
        }
        defer { withExtendedLifetime(rawMode) {} }
        let signals = try SignalFD(SignalFD.relayed)
        let (child, failure, listener) = try Self.spawn(plan, console: peer, pipes: pipes, container: name)
        if listener >= 0 { close(listener) }  // no LXC profile asks for one
        close(peer)  // the command has it: the pty ends when the command's side closes
        peer = -1
        guard let child else { throw failure ?? SwrunError(.system, "swrun could not start the command in container '\(name)'") }
        let relay = ForegroundRelay(child: child, console: master, pipes: pipes, signals: signals.fd, statusChannel: -1, explainer: explainer)
        master = -1
        if let failure {
            _ = try? relay.run()
            throw failure
        }
        return try relay.run()
    }

    /// Forks the first child and follows it: returns the command's pid (a child of this
    /// process) once it has exec'd, or the error of the step that failed; and the seccomp
    /// notify fd the first child sent where the profile names a listener (else -1; the
    /// caller closes it).
    static func spawn(_ plan: StartPlan, console: Int32, pipes: StdioPipes?, container name: String)
        throws(SwrunError) -> (pid_t?, SwrunError?, listener: Int32) {
        let (ours, theirs) = try makeSocketPair(SOCK_SEQPACKET)
        defer { close(ours) }
        fflush(nil)
        let first = swrun_raw_fork()
        if first == 0 {
            close(ours)
            AttachChild.run(plan, console: console, status: theirs)
        }
        let forkError = Errno.current
        close(theirs)
        pipes?.closeChildEnds()
        if first < 0 { throw SwrunError.system("cannot fork to enter container '\(name)'", forkError) }
        // The first child reports the command's pid and exits; the socket's end of file comes
        // when the command has exec'd (close-on-exec), or died.
        var child: pid_t?
        var failure: SwrunError?
        var listener: Int32 = -1
        while let (message, fd) = SyncMessage.receive(on: ours) {
            if message.kind == SyncMessage.Kind.seccompListener.rawValue && listener < 0 {
                listener = fd
            } else if fd >= 0 {
                close(fd)
            }
            switch SyncMessage.Kind(rawValue: message.kind) {
            case .running?: child = message.a
            case .payloadFailed?: failure = plan.payloadFailure(step: message.a, errno: message.b)
            default: break
            }
        }
        var status: Int32 = 0
        while waitpid(first, &status, 0) < 0 && errno == EINTR {}
        if child == nil && failure == nil {
            failure = SwrunError(.system, "swrun's process entering container '\(name)' ended early (\(ProcessStatus(waitStatus: status)))",
                                 hint: "run again with --explain to see each step")
        }
        return (child, failure, listener)
    }

    private func makePlan(_ target: AttachTarget, profile: ProcessProfile, command: [String], pipes: StdioPipes) throws(SwrunError) -> StartPlan {
        // attach reads nothing of the container's config: the running container is what counts.
        var process = ProcessSpec(args: command, profile: profile)
        process.terminal = useTerminal
        var request = LaunchRequest(containerName: name, containerDirectory: store.directory(of: name),
                                    spec: ContainerSpec(rootfs: "", process: process), mode: .attach, explain: explain,
                                    hostTerm: getenv("TERM").map { String(cString: $0) },
                                    hostEnvironment: HostEnvironment.current())
        request.environmentOverrides = environment
        request.keepHostEnvironment = keepHostEnvironment
        request.attachTarget = target
        request.attachProfile = profile
        request.replacedStandardFDs = pipes.childEnds
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
}
