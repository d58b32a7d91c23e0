import CLinux
import Glibc
import SwrunCgroups
import SwrunJSON
import SwrunSystem

/// The OCI runtime's operations, as runc's command line names them, over the state
/// directory `root`. create and run make the container through the same launch as `swrun
/// start` (a spec, a plan, ContainerLauncher); the others read the state it left.
public struct OCIRuntime {
    public let root: String
    /// Where warnings go (the --log file, or stderr).
    public var warn: (String) -> Void

    public init(root: String, warn: @escaping (String) -> Void) {
        self.root = root
        self.warn = warn
    }

    public struct CreateOptions {
        public var bundle: String
        public var pidFile: String?
        public var consoleSocket: String?
        /// Fds 3 to 3+N-1 pass to the container's process.
        public var preservedFDs = 0
        public init(bundle: String) { self.bundle = bundle }
    }

    // MARK: create, start, run

    /// Sets the container up to the point of running its process, which then waits for
    /// `start`. Nothing is left behind on failure.
    public func create(id: String, _ options: CreateOptions) throws(SwrunError) {
        let container = try makeContainer(id: id, options)
        withExtendedLifetime(container) {}
    }

    /// create, start, then (unless `detach`) wait for the process and delete the container;
    /// the process's exit status as a shell code.
    public func run(id: String, _ options: CreateOptions, detach: Bool) throws(SwrunError) -> Int32 {
        let launched = try makeContainer(id: id, options, keepConsole: options.consoleSocket == nil)
        do {
            try start(id: id)
        } catch {
            launched.killInit()
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }
        let status: ProcessStatus
        do { status = try launched.runInForeground() } catch {
            launched.killInit()
            try? delete(id: id, force: true)
            throw error
        }
        try delete(id: id, force: true)
        return status.shellExitCode
    }

    /// Makes the container of `id` from its bundle and leaves its init at the start gate.
    private func makeContainer(id: String, _ options: CreateOptions, keepConsole: Bool = false) throws(SwrunError) -> LaunchedContainer {
        try OCIContainer.checkID(id)
        let bundle = FileSystem.absolutePath(options.bundle)
        // config.json is read once: for the spec, the annotations, and the copy kept beside the state.
        let configPath = FileSystem.join(bundle, "config.json")
        let configBytes = try OCIDocument.bytes(of: configPath)
        let document = try OCIDocument(path: configPath, bytes: configBytes)
        var spec = try ContainerSpec(oci: document, bundle: bundle)
        spec.warnings.forEach(warn)
        guard FileSystem.isDirectory(spec.rootfs) else {
            throw SwrunError(.notFound, "the bundle's rootfs \(spec.rootfs) is not a directory", hint: "check root.path in \(bundle)/config.json")
        }
        if spec.process.terminal && options.consoleSocket == nil && !keepConsole {
            throw SwrunError(.invalidArgument, "process.terminal is true, so create needs --console-socket to hand the terminal to",
                             hint: "pass --console-socket PATH, or set process.terminal to false")
        }
        if !spec.process.terminal && options.consoleSocket != nil {
            throw SwrunError(.invalidArgument, "--console-socket was given, but process.terminal is false", hint: "drop --console-socket, or set process.terminal")
        }
        if options.preservedFDs > 0 { spec.process.preservedFDs = options.preservedFDs }
        try FileSystem.makeDirectories(root, mode: 0o700)
        var container = OCIContainer(root: root, id: id, bundle: bundle, rootfs: spec.rootfs)
        guard mkdir(container.directory, 0o700) == 0 else {
            if errno == EEXIST { throw SwrunError(.alreadyExists, "container with id exists: \(id)", hint: "delete it first, or choose another id") }
            throw SwrunError.system("cannot make the state directory \(container.directory)", Errno.current)
        }
        var sequence: LaunchSequence?
        do throws(SwrunError) {
            container.annotations = try document.stringMap("annotations")
            try FileSystem.writeAtomically(FileSystem.join(container.directory, OCIContainer.configName), configBytes, mode: 0o600)
            try container.save()
            let gate = try UnixSocket.listen(container.gatePath, type: SOCK_SEQPACKET, backlog: 1)
            defer { close(gate) }
            var request = LaunchRequest(containerName: id, containerDirectory: container.directory, spec: spec, mode: .boot, explain: false)
            request.startGate = gate
            let snapshot = container
            request.stateDocument = { pid in
                var state = snapshot
                state.initProcess = ProcessIdentity.of(pid)
                // runtime-tools checks that prestart hooks read "created" (runc's word there too).
                return state.stateDocument(status: .created).serialized
            }
            // The sequence's cgroup and poststop hooks are delete's from here on, unless create fails.
            let launch = LaunchSequence(request)
            sequence = launch
            let launched = try launch.launch(warn: warn,
                started: { (pid, cgroup) throws(SwrunError) in
                    container.payloadSteps = launch.plan?.payloadSummaries ?? []
                    container.initProcess = ProcessIdentity.of(pid)
                    container.cgroups = cgroup?.directories ?? []
                    try container.save()
                },
                beforeCommand: { (launched) throws(SwrunError) in
                    if let adjustment = spec.process.oomScoreAdjustment {
                        try FileSystem.writeExisting("/proc/\(launched.initPID)/oom_score_adj", String(adjustment))
                    }
                    guard launched.console >= 0 else { return }
                    if let size = spec.process.consoleSize {
                        _ = Terminal.setWindowSize(winsize(ws_row: size.rows, ws_col: size.columns, ws_xpixel: 0, ws_ypixel: 0), on: launched.console)
                    }
                    if let socket = options.consoleSocket { try Self.sendConsole(launched.console, to: socket) }
                })
            if let pidFile = options.pidFile {
                try FileSystem.writeAtomically(FileSystem.absolutePath(pidFile), String(launched.initPID), mode: 0o644)
            }
            return launched
        } catch {
            // As the runtime-spec has it: a failed create goes on to delete (poststop hooks included).
            sequence?.finish(state: container.stateDocument(status: .stopped).serialized, warn: warn)
            try? FileSystem.removeTree(container.directory)
            throw error
        }
    }

    /// Hands the pty's master to the engine over its console socket, as runc does: one
    /// message carrying the fd (SCM_RIGHTS).
    static func sendConsole(_ master: Int32, to path: String) throws(SwrunError) {
        let socket = try UnixSocket.connect(FileSystem.absolutePath(path), type: SOCK_STREAM)
        defer { close(socket) }
        let name = Array("/dev/ptmx".utf8)
        guard name.withUnsafeBytes({ swrun_send_with_fd(socket, $0.baseAddress, $0.count, master) }) == name.count else {
            throw SwrunError.system("cannot send the terminal to the console socket \(path)", Errno.current)
        }
    }

    /// Lets the created container's process run: its init, waiting at the gate, goes on to
    /// exec it. Then the poststart hooks.
    public func start(id: String) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        let status = container.status
        guard status == .created else {
            throw SwrunError(.invalidArgument, "cannot start a container that is \(status.rawValue)", hint: status == .stopped ? "delete it and create it again" : "it runs already")
        }
        let connection = try UnixSocket.connect(container.gatePath, type: SOCK_SEQPACKET)
        defer { close(connection) }
        unlink(container.gatePath)  // from now on the container counts as running
        guard SyncMessage(.go).send(on: connection) else {
            throw SwrunError(.containerSetup, "the container's init is gone: it cannot start", hint: "delete it and create it again")
        }
        var received = SyncMessage.receive(on: connection)
        while let (message, fd) = received, message.kind == SyncMessage.Kind.seccompListener.rawValue {
            do throws(SwrunError) { try Self.sendSeccompListener(fd, of: container) } catch {
                if fd >= 0 { close(fd) }
                if let pidfd = try? container.initProcess?.openPidFD() {
                    _ = swrun_pidfd_send_signal(pidfd, SIGKILL)
                    close(pidfd)
                }
                throw error
            }
            if fd >= 0 { close(fd) }
            received = SyncMessage.receive(on: connection)
        }
        if let (message, fd) = received {
            if fd >= 0 { close(fd) }
            let step = Int(message.a)
            let what = step >= 0 && step < container.payloadSteps.count ? container.payloadSteps[step] : "start the process"
            let errno = Errno(rawValue: message.b)
            if step == container.payloadSteps.count - 1 && (errno == .noSuchFileOrDirectory || errno == .permissionDenied) {
                throw SwrunError(errno == .noSuchFileOrDirectory ? .commandNotFound : .commandNotExecutable,
                                 "cannot start container \(id): exec: \(what.dropFirst("run ".count))", errno: errno,
                                 hint: "check process.args in the bundle's config.json: the program must be in the rootfs, executable")
            }
            throw SwrunError(.containerSetup, "cannot start container \(id): cannot \(what)", errno: errno)
        }
        // The end of file: the exec closed init's end (init reports any failure before it). The
        // process may already have ended: `true` does at once, and that is no failed start.
        let hooks = container.savedConfig().flatMap { try? $0.hooks() } ?? HookSet()
        for hook in hooks.started {
            do { try ContainerHooks.run([hook], state: container.stateDocument(status: .running).serialized) } catch { warn("\(error)") }
        }
    }

    /// Hands the seccomp notify fd of the container's process to the agent at
    /// linux.seccomp.listenerPath, as runc does: one message on a stream socket, the process
    /// state as JSON (runtime-spec's ContainerProcessState: "fds": ["seccompFd"]) with the fd.
    /// `pid` is the process under the filter: init's, or an exec'd process's.
    static func sendSeccompListener(_ fd: Int32, of container: OCIContainer, pid: pid_t? = nil) throws(SwrunError) {
        let config = container.savedConfig()
        guard fd >= 0, let path = config?["linux.seccomp.listenerPath"]?.string, !path.isEmpty else {
            throw SwrunError(.containerSetup, "the container's process sent a seccomp notify fd, but its config names no listener",
                             hint: "set linux.seccomp.listenerPath")
        }
        let process: JSONValue = [
            "ociVersion": .string(OCIContainer.specVersion), "fds": ["seccompFd"],
            "pid": .number(String(pid ?? container.initProcess?.pid ?? 0)),
            "metadata": .string(config?["linux.seccomp.listenerMetadata"]?.string ?? ""),
            "state": container.stateDocument(status: .running),
        ]
        let socket = try UnixSocket.connect(path, type: SOCK_STREAM)
        defer { close(socket) }
        let bytes = Array(process.serialized.utf8)
        guard bytes.withUnsafeBytes({ swrun_send_with_fd(socket, $0.baseAddress, $0.count, fd) }) == bytes.count else {
            throw SwrunError.system("cannot send the seccomp notify fd to the listener \(path)", Errno.current, hint: "the agent must accept on \(path)")
        }
    }

    // MARK: state, kill, delete, list

    public func state(id: String) throws(SwrunError) -> JSONValue {
        try OCIContainer.load(root: root, id: id).stateDocument()
    }

    public func list() -> [OCIContainer] {
        (FileSystem.subdirectories(of: root) ?? []).sorted().compactMap { try? OCIContainer.load(root: root, id: $0) }
    }

    /// Sends `signal` to the container's process, or with `all` to every process in its cgroup.
    public func kill(id: String, signal: Int32, all: Bool) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        let status = container.status
        guard let initProcess = container.initProcess, status != .stopped, status != .creating else {
            throw SwrunError(.notFound, "container not running: \(id)", hint: "its process has ended; `delete` it")
        }
        if all {
            for directory in container.cgroups {
                for pid in ContainerCgroup.processes(below: directory) { Glibc.kill(pid, signal) }
            }
            return
        }
        let pidfd = try initProcess.openPidFD()
        defer { close(pidfd) }
        guard swrun_pidfd_send_signal(pidfd, signal) == 0 else {
            throw SwrunError.system("cannot send \(Signals.name(signal)) to container \(id)", Errno.current)
        }
    }

    /// Removes a stopped container (with `force`, kills it first): its cgroups, its state, then
    /// the poststop hooks.
    public func delete(id: String, force: Bool) throws(SwrunError) {
        let container: OCIContainer
        do { container = try OCIContainer.load(root: root, id: id) } catch {
            // `delete --force` of a container that is not there succeeds, as runc's does.
            if force && error.code == .notFound { return }
            throw error
        }
        let status = container.status
        if status != .stopped && status != .creating {
            guard force else {
                throw SwrunError(.busy, "cannot delete container \(id) that is not stopped: \(status.rawValue)", hint: "stop it (kill), or pass --force")
            }
            if let initProcess = container.initProcess, let pidfd = try? initProcess.openPidFD() {
                _ = swrun_pidfd_send_signal(pidfd, SIGKILL)
                close(pidfd)
            }
        }
        // What create changed on the host, from its journal: create's process is long gone.
        if !HostEffects.undoJournal(in: container.directory) {
            throw SwrunError(.busy, "the cgroup of container \(id) still holds processes", hint: "try again; see \(container.cgroups.joined(separator: ", "))")
        }
        let hooks = container.savedConfig().flatMap { try? $0.hooks() } ?? HookSet()
        let state = container.stateDocument(status: .stopped).serialized
        try FileSystem.removeTree(container.directory)
        for hook in hooks.stopped {
            do { try ContainerHooks.run([hook], state: state) } catch { warn("\(error)") }
        }
    }

    // MARK: ps, pause, resume, update

    public func processes(id: String) throws(SwrunError) -> [pid_t] {
        let container = try OCIContainer.load(root: root, id: id)
        var pids: [pid_t] = []
        for directory in container.cgroups {
            for pid in ContainerCgroup.processes(below: directory) where !pids.contains(pid) { pids.append(pid) }
        }
        if pids.isEmpty, let initProcess = container.initProcess, initProcess.isAlive { pids = [initProcess.pid] }
        return pids.sorted()
    }

    public func setPaused(id: String, _ paused: Bool) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        let status = container.status
        guard status == (paused ? .running : .paused) else {
            throw SwrunError(.invalidArgument, "container \(id) is \(status.rawValue), not \(paused ? "running" : "paused")",
                             hint: paused ? "only a running container can be paused" : "only a paused container can be resumed")
        }
        guard let freezer = CgroupFreezer(directories: container.cgroups) else {
            throw SwrunError(.notFound, "container \(id) has no freezer cgroup", hint: "the host needs the v1 freezer controller or cgroup v2")
        }
        try freezer.set(frozen: paused)
    }

    /// Writes new limits (`update --resources`, linux.resources' form) into the container's cgroup.
    public func update(id: String, resources bytes: [UInt8], source: String) throws(SwrunError) {
        let value: JSONValue
        do { value = try JSONValue(parsing: bytes) } catch {
            throw SwrunError(.invalidConfig, "\(source) is not valid JSON: \(error)", hint: "give linux.resources as a JSON object")
        }
        try update(id: id, resources: value, source: source)
    }

    /// Writes new limits, linux.resources as a value (`update`'s single flags make one).
    public func update(id: String, resources value: JSONValue, source: String) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        guard container.status != .stopped else { throw SwrunError(.notFound, "container not running: \(id)", hint: "its process has ended") }
        let unapplied = OCIResources.unapplied(value)
        if !unapplied.isEmpty { warn("not applied: resources." + unapplied.joined(separator: ", resources.")) }
        let document = OCIDocument(path: source, root: .object(["resources": value]))
        let resources = try OCIResources.read(value, in: document, key: "resources")
        try CgroupManagers.current().apply(resources.limits, to: ContainerCgroup(directories: container.cgroups))
    }

    /// update --l3-cache-schema / --mem-bw-schema: new schemata for the container's resctrl
    /// group (shared by every container of its closID), the others kept.
    public func updateSchemata(id: String, l3CacheSchema: String?, memBwSchema: String?) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        guard container.status != .stopped else { throw SwrunError(.notFound, "container not running: \(id)", hint: "its process has ended") }
        guard var rdt = try container.resctrlGroup()?.rdt else {
            throw SwrunError(.invalidArgument, "container \(id) has no linux.intelRdt, so no resctrl group to update",
                             hint: "give linux.intelRdt in config.json when the container is created")
        }
        if let l3CacheSchema { rdt.l3CacheSchema = l3CacheSchema }
        if let memBwSchema { rdt.memBwSchema = memBwSchema }
        try ResctrlGroup(rdt, containerID: id).writeSchemata()
    }
}
