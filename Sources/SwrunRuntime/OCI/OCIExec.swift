import Glibc
import SwrunCgroups
import SwrunJSON
import SwrunSystem

/// `exec`: another process in a running OCI container, entered as `swrun attach` enters one
/// (a pidfd on init, its namespaces and cgroups, then a fork into its pid namespace). What it
/// runs as comes from a process.json (exec --process) or the container's own process with
/// the command line's changes; the container's seccomp filter and 32-bit personality stay.
public struct OCIExec {
    public enum Source {
        /// exec --process FILE: a runtime-spec process object.
        case processFile(String)
        /// exec ID COMMAND...: the container's process with these changes.
        case inline(args: [String], cwd: String?, environment: [String], user: (uid: uid_t, gid: gid_t)?,
                    additionalGroups: [gid_t], addedCapabilities: [String], noNewPrivileges: Bool, terminal: Bool)
    }

    public var source: Source
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    public var preservedFDs = 0

    public init(source: Source) {
        self.source = source
    }

    /// Runs the process; with `detach` returns once it has exec'd (0), else waits and returns
    /// its exit status as a shell code.
    public func run(in runtime: OCIRuntime, id: String) throws(SwrunError) -> Int32 {
        let container = try OCIContainer.load(root: runtime.root, id: id)
        guard container.status == .running || container.status == .created, let initProcess = container.initProcess else {
            throw SwrunError(.notFound, "cannot exec in a container that is \(container.status.rawValue)", hint: "start it first")
        }
        let explainer = Explainer(enabled: false)
        let attachSource = try AttachSource(initProcess: initProcess, directory: container.directory, cgroups: container.cgroups,
                                            taskFiles: try container.resctrlGroup()?.taskFiles ?? [], name: id, explainer: explainer)
        var process = try processSpec(base: attachSource.profile)
        process.preservedFDs = preservedFDs
        if process.terminal && consoleSocket == nil && detach {
            throw SwrunError(.invalidArgument, "a detached exec with a terminal needs --console-socket", hint: "pass --console-socket PATH")
        }
        var (master, peer): (Int32, Int32) = (-1, -1)
        defer {
            if peer >= 0 { close(peer) }
            if master >= 0 { close(master) }
        }
        if process.terminal {
            (master, peer) = try ContainerPty.open(root: attachSource.root, container: id)
            if let size = process.consoleSize {
                _ = Terminal.setWindowSize(winsize(ws_row: size.rows, ws_col: size.columns, ws_xpixel: 0, ws_ypixel: 0), on: master)
            }
            if let consoleSocket {
                try OCIRuntime.sendConsole(master, to: consoleSocket)
                close(master)
                master = -1
            }
        }
        var request = LaunchRequest(containerName: id, containerDirectory: container.directory,
                                    spec: ContainerSpec(rootfs: "", process: process), mode: .attach, explain: false)
        request.attachTarget = attachSource.target
        request.attachProfile = process.profile
        let plan = try StartPlan(request)
        let signals = try SignalFD(SignalFD.relayed)
        let (child, failure, received) = try ContainerAttacher.spawn(plan, console: peer, pipes: nil, container: id)
        var listener = received
        defer { if listener >= 0 { close(listener) } }
        close(peer)
        peer = -1
        if let failure { throw failure }
        guard let child else { throw SwrunError(.system, "swrun could not start the process in container \(id)") }
        if listener >= 0 {
            try Self.sendSeccompListener(listener, of: container, process: child)
            // Only the agent may hold it: while swrun does, the process's notified calls wait.
            close(listener)
            listener = -1
        }
        if let pidFile { try FileSystem.writeAtomically(FileSystem.absolutePath(pidFile), String(child), mode: 0o644) }
        if detach { return 0 }
        let relay = ForegroundRelay(child: child, console: master, pipes: nil, signals: signals.fd, statusChannel: -1, explainer: explainer)
        master = -1
        return try relay.run().shellExitCode
    }

    /// The process's notify fd goes to the container's agent, as init's did at start (crun
    /// does the same for exec); a process the agent never hears of is killed, not left waiting.
    private static func sendSeccompListener(_ fd: Int32, of container: OCIContainer, process: pid_t) throws(SwrunError) {
        do throws(SwrunError) { try OCIRuntime.sendSeccompListener(fd, of: container, pid: process) } catch {
            kill(process, SIGKILL)
            var status: Int32 = 0
            while waitpid(process, &status, 0) < 0 && errno == EINTR {}
            throw error
        }
    }

    /// The process to run: process.json over nothing but the container's seccomp filter and
    /// personality, or the container's own process with the inline changes.
    private func processSpec(base: ProcessProfile) throws(SwrunError) -> ProcessSpec {
        switch source {
        case .processFile(let path):
            let document = try OCIDocument.load(path == "-" ? "/dev/stdin" : path)
            var process = try OCIProcess(document.root, in: document, key: "process").spec()
            process.profile.seccompProgram = base.seccompProgram
            process.profile.seccompSource = base.seccompSource
            process.profile.seccompListener = base.seccompListener
            process.profile.linux32Architecture = base.linux32Architecture
            return process
        case let .inline(args, cwd, environment, user, additionalGroups, addedCapabilities, noNewPrivileges, terminal):
            guard !args.isEmpty else { throw SwrunError(.invalidArgument, "exec needs a command, or --process FILE", hint: "for example: exec ID /bin/sh") }
            var profile = base
            if let cwd { profile.cwd = cwd }
            for entry in environment {
                let name = entry.prefix { $0 != "=" }
                profile.environment.removeAll { $0.prefix { $0 != "=" } == name }
                profile.environment.append(entry)
            }
            if let user { (profile.uid, profile.gid) = user }
            if !additionalGroups.isEmpty { profile.additionalGroups = additionalGroups }
            for name in addedCapabilities {
                let short = name.lowercased().hasPrefix("cap_") ? String(name.lowercased().dropFirst(4)) : name.lowercased()
                guard let number = Capabilities.number(short) else {
                    throw SwrunError(.invalidArgument, "--cap \(name) is not a capability this kernel knows", hint: "for example CAP_NET_ADMIN")
                }
                let bit = UInt64(1) << UInt64(number)
                profile.keptCapabilities |= bit
                var sets = profile.capabilitySets ?? CapabilitySets(effective: profile.keptCapabilities, permitted: profile.keptCapabilities,
                                                                    inheritable: 0, ambient: 0)
                sets.effective |= bit
                sets.permitted |= bit
                sets.inheritable |= bit
                sets.ambient |= bit
                profile.capabilitySets = sets
            }
            if noNewPrivileges { profile.noNewPrivileges = true }
            var process = ProcessSpec(args: args, profile: profile)
            process.terminal = terminal
            process.terminalIsControlling = true
            process.usesDefaultEnvironment = false
            return process
        }
    }
}
