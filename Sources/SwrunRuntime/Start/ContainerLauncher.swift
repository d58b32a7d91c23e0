import CLinux
import Glibc
import SwrunSystem

/// The parent's side of a foreground start: clone3 the container's init into
/// new namespaces, follow its setup over the sync socket, relay the terminal,
/// forward signals, and return how the command ended.
///
/// Must run in a single-threaded process: clone3 copies only the calling thread.
public struct ContainerLauncher {
    let plan: StartPlan
    let explainer: Explainer

    public init(plan: StartPlan) {
        self.plan = plan
        self.explainer = Explainer(enabled: plan.explain)
    }

    /// Starts the container and waits for its command. `started` runs once init exists (with its host pid).
    public func run(started: (pid_t) -> Void = { _ in }) throws(SwrunError) -> ProcessStatus {
        var pair: (Int32, Int32) = (-1, -1)
        let made = withUnsafeMutableBytes(of: &pair) {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        if made != 0 { throw SwrunError.system("cannot create the sync socket pair", Errno.current) }
        let (parentEnd, childEnd) = pair
        defer { close(parentEnd) }

        // Blocked before the clone so that no signal is lost or acted on too early; the child inherits the mask.
        let signals = try SignalFD([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD])
        explainer.say("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)",
                      "a channel to the container's init: it reports each step, or the step that failed with its errno")
        fflush(nil)  // the child must not inherit half-written stdio buffers
        let pid = swrun_clone3(Namespaces.flags, SIGCHLD, -1)
        if pid == 0 {
            close(parentEnd)
            ContainerInit.run(plan, sync: childEnd)
        }
        close(childEnd)
        if pid < 0 {
            throw SwrunError.system("clone3(\(Namespaces.names)) failed", Errno.current,
                                    hint: "swrun needs root and a kernel with these namespaces; see `swrun checkconfig`")
        }
        explainer.say("clone3(\(Namespaces.names)) = \(pid)",
                      "the child is PID 1 of new namespaces; it gets\n" + Namespaces.all.map { "  \($0.name): \($0.purpose)" }.joined(separator: "\n"))
        started(pid)

        var session = Session(plan: plan, initPID: pid, sync: parentEnd, signals: signals, explainer: explainer)
        do {
            return try session.follow()
        } catch {
            session.killInit()
            throw error
        }
    }
}

/// One running container as the parent sees it.
private struct Session: ~Copyable {
    let plan: StartPlan
    let initPID: pid_t
    let sync: Int32
    let signals: SignalFD
    let explainer: Explainer
    var console: Int32 = -1
    var initStatus: ProcessStatus?

    init(plan: StartPlan, initPID: pid_t, sync: Int32, signals: consuming SignalFD, explainer: Explainer) {
        self.plan = plan
        self.initPID = initPID
        self.sync = sync
        self.signals = signals
        self.explainer = explainer
    }

    deinit { if console >= 0 { close(console) } }

    mutating func follow() throws(SwrunError) -> ProcessStatus {
        try waitForSetup()
        let raw = plan.useTerminal && Terminal.isTerminal(0) ? try RawTerminalMode.enter(fd: 0) : nil
        if console >= 0, let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: console) }
        if plan.waitsForGoAhead, !SyncMessage(.go).send(on: sync) { throw initVanished("before the command started") }
        try waitForExec()
        let status = try relayUntilExit()
        _ = consume raw
        return status
    }

    func killInit() {
        kill(initPID, SIGKILL)
        var status: Int32 = 0
        while waitpid(initPID, &status, 0) < 0 && errno == EINTR {}
    }

    // MARK: setup and exec

    private mutating func waitForSetup() throws(SwrunError) {
        while true {
            guard let (message, fd) = SyncMessage.receive(on: sync) else { throw initVanished("during setup") }
            switch SyncMessage.Kind(rawValue: message.kind) {
            case .consoleReady?:
                console = fd
                explainer.say("recvmsg(SCM_RIGHTS) = pty master", "the console's master end, from the container's devpts, now held by swrun")
            case .ready?:
                explainer.say("container set up", plan.waitsForGoAhead ? "init waits for the go-ahead (the terminal is set up first), then forks your command"
                                                                        : "init forks your command")
                return
            case .setupFailed?:
                let step = plan.setup[Int(message.a)]
                throw SwrunError(.containerSetup, "container setup failed: cannot \(step.summary)", errno: Errno(rawValue: message.b),
                                 hint: Self.hint(forSetupErrno: message.b))
            default:
                if fd >= 0 { close(fd) }
                throw SwrunError(.system, "unexpected message \(message.kind) from the container's init")
            }
        }
    }

    private func waitForExec() throws(SwrunError) {
        guard let (message, _) = SyncMessage.receive(on: sync) else { throw initVanished("while starting the command") }
        switch SyncMessage.Kind(rawValue: message.kind) {
        case .running?:
            explainer.say("command running as PID \(message.a) in the container", "swrun now relays signals" + (console >= 0 ? " and the terminal" : "") + " until it exits")
        case .payloadFailed? where message.a >= 0:
            let step = plan.payload[Int(message.a)]
            let errno = Errno(rawValue: message.b)
            if case .exec = step.action { throw execFailure(errno) }
            throw SwrunError(.containerSetup, "cannot start the command: cannot \(step.summary)", errno: errno)
        default:
            throw SwrunError(.system, "the container's init could not fork the command", errno: Errno(rawValue: message.b))
        }
    }

    private func execFailure(_ errno: Errno) -> SwrunError {
        let command = plan.request.command[0]
        let searched = plan.execCandidates.count == 1 ? plan.execCandidates[0] : "PATH (\(plan.execCandidates.joined(separator: ", ")))"
        if errno == .noSuchFileOrDirectory {
            return SwrunError(.commandNotFound, "command not found in container '\(plan.request.containerName)': \(command) (looked for \(searched))",
                              hint: "check the name, or run `swrun execute -n \(plan.request.containerName) -- /bin/sh` and look around")
        }
        return SwrunError(errno == .permissionDenied ? .commandNotExecutable : .containerSetup,
                          "cannot execute \(command) in container '\(plan.request.containerName)' (looked for \(searched))", errno: errno,
                          hint: errno == .permissionDenied ? "make it executable (chmod +x) inside the rootfs" : nil)
    }

    private static func hint(forSetupErrno errno: Int32) -> String? {
        switch errno {
        case EPERM, EACCES: return "swrun must run as root (CAP_SYS_ADMIN) to build a container"
        case ENOENT: return "a path in the rootfs or the config does not exist; check lxc.mount.entry and lxc.rootfs.path"
        default: return "run again with --explain to see each step"
        }
    }

    private func initVanished(_ when: String) -> SwrunError {
        var status: Int32 = 0
        while waitpid(initPID, &status, 0) < 0 && errno == EINTR {}
        return SwrunError(.containerSetup, "the container's init ended \(when) (\(ProcessStatus(waitStatus: status)))",
                          hint: "run again with --explain to see each step")
    }

    // MARK: the running container

    /// Relays signals and the terminal until init has exited and the console is drained.
    private mutating func relayUntilExit() throws(SwrunError) -> ProcessStatus {
        var commandStatus: ProcessStatus?
        var relayInput = console >= 0
        var syncOpen = true
        var buffer = [UInt8](repeating: 0, count: 16384)
        while initStatus == nil || console >= 0 {
            var fds = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
            if syncOpen { fds.append(pollfd(fd: sync, events: Int16(POLLIN), revents: 0)) }
            if console >= 0 {
                fds.append(pollfd(fd: console, events: Int16(POLLIN), revents: 0))
                if relayInput { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                throw SwrunError.system("poll failed", Errno.current)
            }
            for entry in fds where entry.revents != 0 {
                switch entry.fd {
                case signals.fd:
                    handleSignals()
                case sync:
                    if let (message, _) = SyncMessage.receive(on: sync), message.kind == SyncMessage.Kind.exited.rawValue {
                        commandStatus = ProcessStatus(waitStatus: message.a)
                    } else {
                        syncOpen = false
                    }
                case console:
                    if !copy(from: console, to: 1, buffer: &buffer) {
                        close(console)
                        console = -1
                    }
                default:
                    if !copy(from: 0, to: console, buffer: &buffer) { relayInput = false }
                }
            }
        }
        guard let status = commandStatus ?? initStatus else {
            throw SwrunError(.system, "the container's init ended without reporting the command's status")
        }
        return status
    }

    private mutating func handleSignals() {
        while let signal = signals.next() {
            switch signal {
            case SIGCHLD:
                var status: Int32 = 0
                if initStatus == nil, waitpid(initPID, &status, WNOHANG) == initPID {
                    initStatus = ProcessStatus(waitStatus: status)
                }
            case SIGWINCH:
                if console >= 0, let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: console) }
            default:
                explainer.say("kill(\(initPID), \(Signals.name(signal)))", "forward the signal to the container's init, which passes it to your command")
                kill(initPID, signal)
            }
        }
    }

    /// One read and a full write; false at end of file or error (EIO once every pty user is gone).
    private func copy(from source: Int32, to destination: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        if count <= 0 { return false }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + offset, count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return true  // the reader went away; keep draining so the container is not blocked
            }
            offset += written
        }
        return true
    }
}
