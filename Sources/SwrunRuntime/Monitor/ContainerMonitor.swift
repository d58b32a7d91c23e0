import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// `swrun start`: boots a system container (the rootfs's init as PID 1) and stays its
/// parent as its monitor: reaps init, keeps the runtime record, reads and logs the
/// console, and serves `swrun console` on the container's socket. `start -d` runs
/// the monitor as its own detached process (`swrun monitor`, spawned afresh, so no
/// Swift code runs in a forked child); `start -F` is the monitor in the foreground.
public struct ContainerMonitor {
    public let store: ContainerStore
    public let name: String
    /// Overrides lxc.init.cmd.
    public var command: [String]?
    public var extraSettings: [ConfigSetting] = []
    public var explain = false
    /// Relay the console to this process's stdin and stdout (start -F).
    public var foreground = false

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    /// `start -d`: spawns `swrun monitor --request-fd 3` (this executable, afresh) in a session
    /// of its own, hands it the request over a socketpair, and waits there until the monitor
    /// says the container runs, or why it does not (the error as it was, code and all).
    /// The monitor runs from a protected view of the binary, as every process that enters
    /// containers must; the caller need not (it enters none), which spares `start -d` the
    /// re-exec of itself.
    public static func startDetached(_ request: MonitorRequest) throws(SwrunError) {
        let view = try SealedExecutable.protectedView()
        defer { if let view { close(view) } }
        let (ours, theirs) = try makeSocketPair(SOCK_SEQPACKET)
        defer { close(ours) }
        let log = FileSystem.join(ContainerStore(lxcPath: request.lxcPath).directory(of: request.name), "swrun.log")
        do {
            // The name and LXCPATH are there for ps (which container a monitor serves); the monitor
            // takes its request from the socket and checks that they agree.
            _ = try Subprocess.spawnDaemon(["swrun", "monitor", "--request-fd", "3", "-n", request.name, "-P", request.lxcPath],
                                           executable: Subprocess.currentExecutable, executableFD: view,
                                           passing: theirs, logPath: log)
        } catch {
            close(theirs)
            throw error
        }
        close(theirs)
        try request.send(on: ours)
        switch MonitorRequest.readAnswer(on: ours) {
        case .success?: return
        case .failure(let error)?: throw error
        case nil: throw SwrunError(.containerSetup, "the monitor of container '\(request.name)' ended before the container ran", hint: "see \(log)")
        }
    }

    /// How long init must live for a start to count as done: an init that dies sooner (a
    /// distribution's init refusing its environment) makes the start fail with its status and
    /// last console lines, and never shows as RUNNING.
    public var settleMilliseconds = ContainerMonitor.defaultSettleMilliseconds
    public static let defaultSettleMilliseconds = 100

    /// Starts the container and watches it until it stops, booting it again each time its
    /// init reboots (reboot(2) in a pid namespace ends its init with SIGHUP), as lxc-start
    /// does: same config, fresh namespaces and cgroups, hooks run again. `ready` hears "ok"
    /// once the container runs, or the error text; `log` gets each init's end. Returns the
    /// last init's exit status as a shell code.
    public func run(ready: (Result<Void, SwrunError>) -> Void, warn: (String) -> Void,
                    log: (String) -> Void = { _ in }) -> Int32 {
        let status = watch(ready: ready, warn: warn, log: log)
        if store.exists(name) { ExitRecord(code: status).write(to: store.directory(of: name)) }
        // lxc.ephemeral: the container goes with its last stop, once its run lock is let go.
        store.destroyIfEphemeral(name, warn: log)
        return status
    }

    private func watch(ready: (Result<Void, SwrunError>) -> Void, warn: (String) -> Void,
                       log: (String) -> Void) -> Int32 {
        var reported = false
        func report(_ result: Result<Void, SwrunError>) {
            guard !reported else {
                if case .failure(let error) = result { log("\(error)") }
                return
            }
            reported = true
            ready(result)
        }
        let lock: FileLock
        let listener: Int32
        do {
            try store.requireExisting(name)
            lock = try store.lockForStart(name)
            try LXCInstance.refuseIfRunning(name: name, lxcPath: store.lxcPath)
            // What can fail after init runs is made first: the socket (and then the console log).
            listener = try CommandSocket.listen(at: store.socketPath(of: name))
        } catch {
            report(.failure(error))
            return 1
        }
        defer { withExtendedLifetime(lock) {} }
        defer { store.clearRuntimeFiles(of: name) }
        defer { close(listener) }
        _ = store.takeStopRequest(name)
        var restarts = 0
        while true {
            let (status, started) = boot(listener: listener, report: report, warn: reported ? { _ in } : warn)
            guard let status else { return 1 }
            log("container '\(name)': init \(status)")
            let stopAsked = store.takeStopRequest(name)
            if started && status == .signaled(SIGHUP) {
                log("container '\(name)' is rebooting")
                continue
            }
            // --restart: an init that ended by itself starts again, after a pause that grows
            // with each restart (as Docker's), up to two seconds.
            guard started, !stopAsked, let policy = (try? ContainerSidecar.load(from: store.directory(of: name)))?.restart,
                  policy.restarts(after: status.shellExitCode, restarts: restarts) else { return started ? status.shellExitCode : 1 }
            restarts += 1
            log("container '\(name)' restarts (--restart \(policy), restart \(restarts))")
            usleep(useconds_t(min(100_000 << min(restarts - 1, 5), 2_000_000)))
            if store.takeStopRequest(name) { return status.shellExitCode }
        }
    }

    /// One life of the container: pre-start hook, start, watch until init ends, clean up,
    /// post-stop hook. Returns how init ended (nil when there was none), and whether the
    /// start succeeded (reported either way).
    private func boot(listener: Int32, report: (Result<Void, SwrunError>) -> Void,
                      warn: (String) -> Void) -> (status: ProcessStatus?, started: Bool) {
        // The command `swrun start` boots when none is given: lxc.init.cmd, else the image's
        // argv (swrun.json), else /sbin/init.
        let spec: ContainerSpec
        let sequence: LaunchSequence
        do {
            let sidecar: ContainerSidecar
            (spec, sidecar, _) = try store.spec(of: name, adding: extraSettings, command: command, mode: .boot, terminal: true)
            var request = LaunchRequest(containerName: name, containerDirectory: store.directory(of: name), spec: spec, mode: .boot,
                                        explain: explain, hostTerm: nil, hostEnvironment: [:])
            request.publishedPorts = sidecar.ports
            sequence = LaunchSequence(request)
        } catch {
            report(.failure(error))
            return (nil, false)
        }
        defer { sequence.finish(warn: warn) }  // declared before the rest, so it runs after it
        let monitor = ProcessIdentity.current
        let signals = spec.signals
        var rawMode: RawTerminalMode?
        defer { withExtendedLifetime(rawMode) {} }
        let container: LaunchedContainer
        let hub: ConsoleHub
        do {
            try store.writeRecord(RuntimeRecord(state: .starting, mode: .boot, initProcess: nil, monitor: monitor, signals: signals), of: name)
            container = try sequence.launch(warn: warn,
                started: { (pid, made) throws(SwrunError) in
                    try store.recordStarted(name, initPID: pid, mode: .boot, monitor: monitor, cgroup: made, signals: signals)
                },
                beforeCommand: { (_) throws(SwrunError) in
                    if foreground && Terminal.isTerminal(0) { rawMode = try RawTerminalMode.enter(fd: 0) }
                })
        } catch {
            report(.failure(error))
            return (nil, false)
        }
        do {
            hub = try ConsoleHub(masters: container.terminals, logPath: consoleLog(spec.consoleLogFile))
        } catch {
            container.killInit()  // no container runs without its monitor's knowledge
            report(.failure(error))
            return (nil, false)
        }
        if foreground { hub.attach(.init(terminal: 0, input: 0, output: 1, owned: false)) }
        // The start is done once init has lived a moment: until then it is STARTING.
        if settleMilliseconds > 0 && watch(container, hub: hub, listener: listener, signals: signals,
                                           until: monotonicMilliseconds() + settleMilliseconds) {
            report(.failure(diedStarting(container, command: spec.process.args, hub: hub)))
            return (container.initStatus, false)
        }
        do {
            try store.recordRunning(name, initPID: container.initPID, mode: .boot, monitor: monitor, cgroup: sequence.cgroup, signals: signals)
        } catch {
            container.killInit()
            report(.failure(error))
            return (nil, false)
        }
        report(.success(()))
        // What starting it took is not needed to watch it: only the loop's pages stay resident.
        ResidentMemory.releaseFilePages()
        container.announceAddresses()  // again, now that every bridge port forwards
        watch(container, hub: hub, listener: listener, signals: signals)
        return (container.initStatus ?? .exited(0), true)
    }

    /// The error for an init that ended while the container started: its status, and what
    /// it last wrote to the console.
    private func diedStarting(_ container: LaunchedContainer, command: [String], hub: ConsoleHub) -> SwrunError {
        let status = container.initStatus.map { "\($0)" } ?? "ended"
        let lines = hub.recentConsoleLines(8)
        let console = lines.isEmpty ? "; it wrote nothing to the console" : "; its console's last lines:\n" + lines.map { "    " + $0 }.joined(separator: "\n")
        return SwrunError(.containerSetup, "container '\(name)' stopped as it started: its init (\(command.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))) \(status)\(console)",
                          hint: "watch the whole boot with `swrun start -F -n \(name) -P \(store.lxcPath)`; check lxc.init.cmd and lxc.mount.auto (a systemd init needs cgroup:mixed)")
    }

    /// lxc.console.logfile, a relative path taken from the container's directory.
    private func consoleLog(_ path: String?) -> String? {
        guard let path else { return nil }
        return path.hasPrefix("/") ? path : FileSystem.join(store.directory(of: name), path)
    }

    /// The monitor's loop: until init is reaped (true), or `deadline` passes (false), relay
    /// the ptys, answer the socket, and turn any other signal the monitor gets (SIGTERM,
    /// SIGINT, SIGHUP...) into the container's halt signal.
    @discardableResult
    private func watch(_ container: LaunchedContainer, hub: ConsoleHub, listener: Int32, signals: ShutdownSignalSpec,
                       until deadline: Int? = nil) -> Bool {
        while !container.reapInit() {
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - monotonicMilliseconds()
                if left <= 0 { return false }
                timeout = Int32(clamping: left)
            }
            var fds = [pollfd(fd: container.signals.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)] + hub.pollSet
            if poll(&fds, nfds_t(fds.count), timeout) < 0 { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == container.signals.fd {
                    while let signal = container.signals.next() {
                        switch signal {
                        case SIGCHLD: container.reapInit()
                        case SIGWINCH: if foreground { hub.resize(from: 0, terminal: 0) }
                        default: kill(container.initPID, ShutdownSignals.halt(signals, initPID: container.initPID))
                        }
                    }
                } else if entry.fd == listener {
                    serveRequest(listener: listener, hub: hub)
                } else {
                    _ = hub.handle(entry.fd)
                }
            }
        }
        drainConsole(hub)
        return true
    }

    /// Reads what init's last processes wrote to the ptys before they closed.
    private func drainConsole(_ hub: ConsoleHub) {
        var fds = hub.pollSet
        while poll(&fds, nfds_t(fds.count), 0) > 0 {
            let ready = fds.filter { $0.revents & Int16(POLLIN) != 0 }
            if ready.isEmpty { return }
            for entry in ready { _ = hub.handle(entry.fd) }
            fds = hub.pollSet
        }
    }

    /// Answers one request on the command socket (see CommandSocket).
    private func serveRequest(listener: Int32, hub: ConsoleHub) {
        let connection = swrun_accept_cloexec(listener)
        guard connection >= 0 else { return }
        defer { close(connection) }
        // A client that connects and says nothing must not stall the monitor.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let (request, passed) = CommandSocket.receive(on: connection) else { return }
        if passed >= 0 { close(passed) }
        // "console N [ROWS COLUMNS]" or "resize N ROWS COLUMNS".
        let words = request.split(separator: " ")
        guard words.count >= 2, words[0] == "console" || words[0] == "resize", let terminal = Int(words[1]) else {
            _ = CommandSocket.send("error: unknown request '\(request)'", on: connection)
            return
        }
        let size = words.count == 4 ? UInt16(words[2]).flatMap { rows in UInt16(words[3]).map { (rows, $0) } } : nil
        guard terminal >= 0 && terminal < hub.terminalCount else {
            _ = CommandSocket.send("error: container '\(name)' has no tty \(terminal) (its lxc.tty.max is \(hub.terminalCount - 1))", on: connection)
            return
        }
        if let (rows, columns) = size { hub.resize(terminal: terminal, rows: rows, columns: columns) }
        if words[0] == "resize" {
            _ = CommandSocket.send("ok", on: connection)
            return
        }
        guard let (ours, theirs) = try? CommandSocket.pair() else {
            _ = CommandSocket.send("error: cannot create a socket pair", on: connection)
            return
        }
        _ = CommandSocket.send("ok", on: connection, passing: theirs)
        close(theirs)
        _ = fcntl(ours, F_SETFL, O_NONBLOCK)  // a stopped or slow client loses output rather than stalling the monitor
        hub.attach(.init(terminal: terminal, input: ours, output: ours, owned: true))
    }
}
