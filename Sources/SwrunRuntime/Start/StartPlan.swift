import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunNetlink
import SwrunSystem

/// Every step of a container's start, decided and allocated in the parent
/// before the fork. The container's init and payload only walk these lists,
/// making raw system calls, so they never allocate between fork and execve.
/// Tests read the same lists to check what a config leads to, without root.
public final class StartPlan {
    let arena: CStringArena
    let request: LaunchRequest
    let rootfs: String
    private(set) var setup: [SetupStep] = []
    /// Whether init's wait for swrun's part (maps, cgroup, links) is in `setup` yet.
    var parentWaitPlanned = false
    private(set) var payload: [PayloadStep] = []
    /// The executables the payload tries, in order (the PATH search), for error messages.
    var execCandidates: [String] = []
    /// Config settings that are not applied, to tell the user about.
    public internal(set) var warnings: [String] = []

    /// Read in the parent: a lazy global would be initialised (allocating) in the child.
    let lastCapability = Capabilities.lastCapability
    /// The name init gives itself (prctl PR_SET_NAME), as a C string.
    let initName: UnsafeRawBufferPointer
    /// swrun's own command line in memory: init blanks it, so that `ps` in the
    /// container shows "swrun-init" and not the host's paths and arguments.
    let hostArguments = StartPlan.argumentArea()
    /// How many ptys init opens: the console (when there is one), then lxc.tty.max ttys in boot mode.
    let terminalCount: Int
    /// Init's table of pty fds, two per terminal (see SetupExecutor.terminals).
    let terminalFDs: UnsafeMutableBufferPointer<Int32>
    /// Scratch buffers for init's setup: two /proc/self/fd paths and a netlink reply.
    let initScratch: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer)
    /// What the command's process runs with: from the config, or for attach the container's record.
    let profile: ProcessProfile
    /// request.replacedStandardFDs, where the child reads them without allocating.
    let stdioFDs: UnsafeBufferPointer<Int32>
    /// The state for OCI hooks inside the container, where one reads it (the pipe is made by the launcher).
    let hookState: HookStateInput
    let hooksReadState: Bool

    public var useTerminal: Bool { request.useTerminal }
    /// Whether init waits, once set up, for swrun to finish its side before forking the
    /// command: the terminal must be raw and sized before the command's first output, and
    /// lxc.hook.start-host must have run.
    var waitsForGoAhead: Bool { request.useTerminal || (request.mode != .attach && !spec.hooks.runtimeCreated.isEmpty) }
    /// Whether init waits for swrun's work from outside (id maps, cgroup, network links).
    var waitsForParent: Bool { usesUserNamespace || cgroupEntry == .movedBySwrun || !networkLinks.isEmpty }
    /// The lxc.net.N links swrun puts in the container: veth, phys, macvlan, ipvlan, vlan.
    private(set) var networkLinks: [NetworkLink] = []
    /// Where published ports lead: the container's first IPv4 address, once settled.
    private(set) var publishedAddress: [UInt8]?
    /// The bridge of that address: the host's connections to 127.0.0.1 leave by it.
    private(set) var publishedBridge: String?
    var publishedPorts: [PortPublication] { request.mode == .attach ? [] : request.publishedPorts }
    var natKey: String { NATTable.key(containerDirectory: request.containerDirectory) }
    /// Resource limits from lxc.cgroup2.* and lxc.cgroup.* (and the flags that set them).
    public private(set) var cgroupLimits = CgroupLimits()
    /// The devices the container may use (lxc.cgroup.devices.* and lxc.cgroup2.devices.*
    /// over the standard nodes), enforced by its cgroup.
    public private(set) var devicePolicy = DevicePolicy()
    /// What the plan takes of the host (its cgroup layout, kernel, sysfs), read once.
    let host: HostFacts
    var cgroupMode: CgroupMode? { host.cgroupMode }
    var cgroupHierarchies: [CgroupHierarchy] { host.cgroupHierarchies }
    /// Whether the container gets a cgroup of its own: every container does (attach joins
    /// the one it has), in each hierarchy the host has writable, as LXC makes them.
    var ownsCgroup: Bool { request.mode != .attach && cgroupMode != nil && !cgroupHierarchies.isEmpty }

    /// How init gets into the container's own cgroup. Moving a process costs an RCU grace
    /// period (the kernel's cgroup_threadgroup_rwsem, up to milliseconds), so init is born in
    /// it (clone3 CLONE_INTO_CGROUP, v2, Linux 5.7), or moves its single thread itself (writing
    /// 0 to each v1 hierarchy's tasks file through fds swrun opened, which recent kernels do
    /// without that lock). Only a v2 kernel without CLONE_INTO_CGROUP has swrun move it.
    /// On a hybrid host init does both: born in its v2 cgroup, it moves itself in v1.
    enum CgroupEntry { case bornInside, movesItself, movedBySwrun }
    var cgroupEntry: CgroupEntry? {
        guard ownsCgroup else { return nil }
        if cgroupMode == .unified { return canCloneIntoCgroup ? .bornInside : .movedBySwrun }
        return .movesItself
    }
    var canCloneIntoCgroup: Bool { host.kernel >= (5, 7) }
    /// The tasks files (v1) and, on a hybrid host whose kernel cannot clone into a cgroup, the
    /// v2 cgroup.procs, that init writes itself into (.movesItself), opened by swrun before
    /// the clone; -1 where unused.
    let cgroupTaskFDs: UnsafeMutableBufferPointer<Int32>
    /// The v2 cgroup directory fd of CLONE_INTO_CGROUP, or -1: init closes its copy first of
    /// all, so nothing in the container ever reaches the host's cgroup tree through it.
    let cloneIntoFD: UnsafeMutablePointer<Int32>
    /// The fds init keeps of all swrun had open at the clone (its sync socket, the tasks
    /// files, other containers' namespaces), sorted, -1 after the last: init closes every
    /// other one (swrun's lock, signalfd and sockets) before anything runs in the container.
    let initKeptFDs: UnsafeMutableBufferPointer<Int32>
    /// The hierarchies the container's cgroup spans: those the host has writable, and any
    /// read-only one that a limit needs (which then fails with a clear error).
    var containerHierarchies: [CgroupHierarchy] {
        cgroupHierarchies.filter { !$0.readOnly || cgroupLimits.controllers.contains(where: $0.controllers.contains) }
    }
    /// A user namespace, for a container with lxc.idmap lines (an unprivileged container).
    var usesUserNamespace: Bool { !spec.idMaps.isEmpty }
    /// lxc.net.N.type = none: the container shares the host's network stack.
    var sharesHostNetwork: Bool { spec.namespaces.hostNetwork }
    /// lxc.namespace.share.KIND: the other containers' namespaces it joins, open until the plan goes.
    let sharedNamespaces: SharedNamespaces
    /// The id-mapped binds, made on the host before the clone, open until init has them.
    let idMappedMounts = IDMappedMounts()
    var namespaces: Namespaces {
        // Joined namespaces and those kept from the host (an OCI bundle that lists no uts, say) are not made.
        let fromHost = spec.namespaces.fromHost.reduce(UInt64(0)) { flags, kind in
            flags | (["mnt": SWRUN_CLONE_NEWNS, "pid": SWRUN_CLONE_NEWPID, "uts": SWRUN_CLONE_NEWUTS, "ipc": SWRUN_CLONE_NEWIPC, "cgroup": SWRUN_CLONE_NEWCGROUP][kind] ?? 0)
        }
        return Namespaces(userNamespace: usesUserNamespace && sharedNamespaces.user == nil, cgroupLater: ownsCgroup, hostNetwork: sharesHostNetwork, shared: sharedNamespaces.flags | fromHost)
    }
    public var mode: LaunchMode { request.mode }
    public var explain: Bool { request.explain }
    public var setupSummaries: [String] { setup.map(\.summary) }
    public var payloadSummaries: [String] { payload.map(\.summary) }
    var spec: ContainerSpec { request.spec }

    public init(_ request: LaunchRequest) throws(SwrunError) {
        let arena = CStringArena()
        self.arena = arena
        initName = arena.bytes(Array("swrun-init".utf8) + [0])
        initScratch = (arena.scratch(64), arena.scratch(64), arena.scratch(4096))
        terminalCount = request.useTerminal ? 1 + (request.mode == .boot ? request.spec.devices.ttyCount : 0) : 0
        terminalFDs = arena.scratch(max(terminalCount, 1) * 2 * MemoryLayout<Int32>.size).bindMemory(to: Int32.self)
        terminalFDs.initialize(repeating: -1)
        cgroupTaskFDs = arena.scratch(16 * MemoryLayout<Int32>.size).bindMemory(to: Int32.self)
        cgroupTaskFDs.initialize(repeating: -1)
        cloneIntoFD = arena.scratch(MemoryLayout<Int32>.size).bindMemory(to: Int32.self).baseAddress!
        cloneIntoFD.pointee = -1
        initKeptFDs = arena.scratch(32 * MemoryLayout<Int32>.size).bindMemory(to: Int32.self)
        initKeptFDs.initialize(repeating: -1)
        let stdio = arena.scratch(3 * MemoryLayout<Int32>.size).bindMemory(to: Int32.self)
        for index in 0..<3 { stdio[index] = index < request.replacedStandardFDs.count ? request.replacedStandardFDs[index] : -1 }
        stdioFDs = UnsafeBufferPointer(stdio)
        let statePipe = arena.scratch(2 * MemoryLayout<Int32>.size).bindMemory(to: Int32.self).baseAddress!
        statePipe.initialize(repeating: -1, count: 2)
        hooksReadState = (request.spec.hooks.mount + request.spec.hooks.autodev + request.spec.hooks.start).contains(where: \.readsState)
        let stateBuffer = arena.scratch(hooksReadState ? 65536 + 8 : 8)
        stateBuffer.storeBytes(of: -1, as: Int.self)
        hookState = HookStateInput(pipe: statePipe, buffer: stateBuffer)
        self.request = request
        // attach reads nothing of the container's config: the running container is what counts.
        let spec = request.spec
        rootfs = request.mode == .attach ? "" : spec.rootfs
        if request.mode != .attach && !FileSystem.isDirectory(rootfs) {
            throw SwrunError(.notFound, "the rootfs of container '\(request.containerName)' is missing: \(rootfs) is not a directory",
                             hint: "check lxc.rootfs.path in \(request.containerDirectory)/config (root.path of an OCI bundle), or recreate the container")
        }
        profile = request.attachProfile ?? spec.process.profile
        cgroupLimits = spec.resources.limits
        devicePolicy = spec.resources.devicePolicy
        if request.mode == .attach {
            host = .none
        } else if let given = request.hostFacts {
            host = given
        } else {
            host = try HostFacts.current()
        }
        networkLinks = request.mode == .attach ? [] : spec.networks
        let lxcPath = FileSystem.parentPath(request.containerDirectory)
        sharedNamespaces = try SharedNamespaces(request.mode == .attach ? [:] : spec.namespaces.joined, lxcPath: lxcPath)
        try Self.validate(idMaps: spec.idMaps)
        try SubordinateIDs.checkDelegation(spec.idMaps)
        try planPublishedPorts()
        warnings = spec.warnings
        if request.mode != .attach {
            try planSharedNamespaces()
            try planMounts()
            try planIdentity()
        }
        try planPayload()
        if request.mode != .attach && !enforcesDevicePolicy {
            warnings.append("the device policy is not enforced: this host has no writable devices cgroup (v1) or cgroup v2 tree for the container; device nodes in its rootfs open whatever they name")
        }
    }

    /// Whether the container's cgroup will carry its device policy.
    var enforcesDevicePolicy: Bool {
        ownsCgroup && host.cgroupManager?.enforcesDevicePolicy == true
    }

    /// The contiguous memory that holds argv's strings (what /proc/PID/cmdline shows).
    private static func argumentArea() -> UnsafeMutableRawBufferPointer {
        let argv = CommandLine.unsafeArgv
        guard CommandLine.argc > 0, let first = argv[0], let last = argv[Int(CommandLine.argc) - 1] else {
            return UnsafeMutableRawBufferPointer(start: nil, count: 0)
        }
        let end = UnsafeMutableRawPointer(last) + strlen(last)
        return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(first), count: end - UnsafeMutableRawPointer(first))
    }

    /// An unprivileged container's maps must give root inside a host id, and ranges of one
    /// kind must not overlap, inside or on the host.
    static func validate(idMaps: [IDMap]) throws(SwrunError) {
        guard !idMaps.isEmpty else { return }
        for kind in [IDMap.Kind.uid, .gid] {
            let maps = idMaps.filter { $0.kind == kind }
            let name = kind.rawValue
            guard maps.contains(where: { $0.containerID == 0 }) else {
                throw SwrunError(.invalidConfig, "lxc.idmap has no '\(name) 0 ...' line: root inside the container would have no host id",
                                 hint: "add one, e.g. lxc.idmap = \(name) 0 100000 65536")
            }
            for map in maps where UInt64(map.hostID) + UInt64(map.count) > UInt64(UInt32.max) || UInt64(map.containerID) + UInt64(map.count) > UInt64(UInt32.max) {
                throw SwrunError(.invalidConfig, "lxc.idmap = \(name) \(map.containerID) \(map.hostID) \(map.count) runs past the last id",
                                 hint: "ids go up to \(UInt32.max - 1)")
            }
            for map in maps where map.hostID == 0 {
                throw SwrunError(.invalidConfig, "lxc.idmap = \(name) \(map.containerID) 0 \(map.count) maps to the host's root",
                                 hint: "an unprivileged container's ids must map to unprivileged host ids, e.g. \(name) 0 100000 65536")
            }
            func overlaps(_ a: UInt32, _ aCount: UInt32, _ b: UInt32, _ bCount: UInt32) -> Bool {
                UInt64(a) < UInt64(b) + UInt64(bCount) && UInt64(b) < UInt64(a) + UInt64(aCount)
            }
            for (index, map) in maps.enumerated() {
                for other in maps[(index + 1)...] {
                    let inside = overlaps(map.containerID, map.count, other.containerID, other.count)
                    let host = overlaps(map.hostID, map.count, other.hostID, other.count)
                    if inside || host {
                        throw SwrunError(.invalidConfig, "lxc.idmap ranges overlap: '\(name) \(map.containerID) \(map.hostID) \(map.count)' and '\(name) \(other.containerID) \(other.hostID) \(other.count)'",
                                         hint: "give each range its own ids inside and on the host")
                    }
                }
            }
        }
    }

    /// The container's own cgroup, made before init exists, and the files that take init in.
    final class PreparedCgroup {
        let cgroup: ContainerCgroup
        /// The v2 cgroup's directory, for clone3 CLONE_INTO_CGROUP; -1 on v1.
        let cloneInto: Int32
        private let taskFDs: [Int32]

        init(cgroup: ContainerCgroup, cloneInto: Int32, taskFDs: [Int32]) {
            self.cgroup = cgroup
            self.cloneInto = cloneInto
            self.taskFDs = taskFDs
        }

        /// Closes swrun's copies once init has been made (or not).
        func closeFiles() {
            if cloneInto >= 0 { close(cloneInto) }
            for fd in taskFDs { close(fd) }
        }
    }

    /// Makes the container's cgroup with its limits, before the clone, and opens what init
    /// enters it by (see CgroupEntry). nil when it has no cgroup of its own. Removed again on error.
    func makeCgroup() throws(SwrunError) -> PreparedCgroup? {
        guard let entry = cgroupEntry, let manager = host.cgroupManager else {
            if !cgroupLimits.isEmpty && request.mode != .attach {
                throw SwrunError(.missingDependency, "this host has no cgroup filesystem at /sys/fs/cgroup, so the container's limits cannot be set",
                                 hint: "mount cgroups, or remove the lxc.cgroup* limits")
            }
            return nil
        }
        let leaf = ContainerCgroup.leafName(container: request.containerName, lxcPath: FileSystem.parentPath(request.containerDirectory))
        let cgroup = try manager.create(CgroupRequest(leaf: leaf, directory: spec.resources.cgroupDirectory, relative: spec.resources.cgroupRelative,
                                                      limits: cgroupLimits, devices: devicePolicy, delegate: request.mode == .boot))
        var opened: [Int32] = []
        do throws(SwrunError) {
            func openFile(_ path: String, _ flags: Int32) throws(SwrunError) -> Int32 {
                let fd = open(path, flags | O_CLOEXEC)
                if fd < 0 { throw SwrunError.system("cannot open \(path)", Errno.current) }
                opened.append(fd)
                return fd
            }
            if usesUserNamespace, let root = idMapRoot {
                try cgroup.delegate(to: root.uid, root.gid)
            }
            let unified = cgroup.unifiedDirectory
            var cloneInto: Int32 = -1
            if let unified, entry != .movedBySwrun, canCloneIntoCgroup {
                cloneInto = try openFile(unified, O_RDONLY | O_DIRECTORY)
            }
            if entry == .movesItself {
                let files = cgroup.directories.compactMap { directory -> String? in
                    if directory != unified { return FileSystem.join(directory, "tasks") }
                    return cloneInto >= 0 ? nil : FileSystem.join(directory, "cgroup.procs")
                }
                guard files.count <= cgroupTaskFDs.count else {
                    throw SwrunError(.system, "the container's cgroup spans \(files.count) hierarchies; swrun enters at most \(cgroupTaskFDs.count)")
                }
                for (index, file) in files.enumerated() { cgroupTaskFDs[index] = try openFile(file, O_WRONLY) }
            }
            let explainer = Explainer(enabled: request.explain)
            for directory in cgroup.directories {
                explainer.say("mkdir(\"\(directory)\")", "the container's own cgroup, below swrun's, with its limits written before init exists")
            }
            for write in (try? cgroupLimits.writes(for: manager.mode)) ?? [] {
                explainer.say("write(\"\(write.file)\", \"\(write.value)\")", "a limit of the container's \(write.controller) controller")
            }
            cloneIntoFD.pointee = cloneInto
            return PreparedCgroup(cgroup: cgroup, cloneInto: cloneInto, taskFDs: opened.filter { $0 != cloneInto })
        } catch {
            for fd in opened { close(fd) }
            cgroup.remove()
            throw error
        }
    }

    /// Records the fds init keeps (see initKeptFDs): `sync`, and those the plan hands it.
    func keepInInit(sync: Int32) {
        let preserved = (0..<Int32(spec.process.preservedFDs)).map { 3 + $0 }
        let kept = ([sync] + preserved + (request.startGate >= 0 ? [request.startGate] : []) + (hookState.isUsed ? [hookState.pipe[0]] : []) + cgroupTaskFDs.filter { $0 >= 0 } + sharedNamespaces.all.map(\.fd) + idMappedMounts.fds + stdioFDs.filter { $0 >= 0 }).sorted()
        for (index, fd) in kept.prefix(initKeptFDs.count).enumerated() { initKeptFDs[index] = fd }
    }

    /// The host ids of the container's root (its lxc.idmap lines for id 0), if it has a user namespace.
    var idMapRoot: (uid: uid_t, gid: gid_t)? { spec.rootOnHost }

    /// Where the kernel has no CLONE_INTO_CGROUP (cgroup v2 before Linux 5.7), swrun moves
    /// init into its cgroup (and pays the grace period) while init waits.
    func moveIntoCgroup(_ pid: pid_t, _ cgroup: ContainerCgroup) throws(SwrunError) {
        guard cgroupEntry == .movedBySwrun else { return }
        Explainer(enabled: request.explain).say("write(cgroup.procs, \(pid))", "this kernel cannot clone into a cgroup: swrun moves init there")
        try cgroup.add(pid)
    }

    // MARK: recording steps

    // The explanation is only rendered for --explain: a plain start should not pay for the prose.
    func addSetup(_ action: SetupAction, _ summary: String, call: @autoclosure () -> String, why: @autoclosure () -> String) {
        setup.append(SetupStep(action: action, summary: summary, explanation: explanation("init", call, why)))
    }

    func addPayload(_ action: PayloadAction, _ summary: String, call: @autoclosure () -> String, why: @autoclosure () -> String) {
        payload.append(PayloadStep(action: action, summary: summary, explanation: explanation("cmd", call, why)))
    }

    private func explanation(_ actor: String, _ call: () -> String, _ why: () -> String) -> UnsafeRawBufferPointer {
        guard request.explain else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return arena.bytes(Array(Explainer.line(actor: actor, call: call(), why: why()).utf8))
    }

    func c(_ string: String) -> UnsafeMutablePointer<CChar> { arena.cString(string) }

    // MARK: hooks

    /// Hooks run by init in the container's mount namespace (the tree and /dev built, before
    /// pivot_root: lxc.hook.mount and autodev, OCI createContainer, the host's programs), or by
    /// the payload in the container with its capabilities dropped and its seccomp filter on
    /// (lxc.hook.start, OCI startContainer). Each gets the environment the spec gives it and
    /// no fd but stdio.
    func planHooks(_ hooks: [Hook], inContainer: Bool) {
        for hook in hooks {
            let label = hook.label
            let (pathC, argvC, environmentC) = (c(hook.path), arena.cStringArray(hook.args), arena.cStringArray(hook.environment))
            let readsState = hook.readsState
            let call = "fork(); execve(\"\(hook.path)\", \(hook.args)); waitpid()"
            if inContainer {
                addPayload(.runHook(path: pathC, argv: argvC, environment: environmentC, readsState: readsState, timeout: Int32(clamping: hook.timeout ?? 0)), "run \(label)", call: call,
                           why: "\(label): in the container, its capabilities dropped and its seccomp filter loaded, before its command")
            } else {
                addSetup(.runHook(path: pathC, argv: argvC, environment: environmentC, readsState: readsState, timeout: Int32(clamping: hook.timeout ?? 0)), "run \(label)", call: call,
                         why: "\(label): the container's mounts are made, the host's tree is still there")
            }
        }
    }

    // MARK: shared namespaces, hostname and network

    /// Init joins the shared namespaces first of all. A shared network brings its links: the
    /// container may add none (an `empty` network, what swrun create writes, asks for nothing)
    /// and publish no port of its own.
    private func planSharedNamespaces() throws(SwrunError) {
        guard !sharedNamespaces.all.isEmpty else { return }
        if usesUserNamespace && sharedNamespaces.user == nil {
            // Init would be in a user namespace of its own, which owns none of the other's.
            throw SwrunError(.invalidConfig, "lxc.namespace.share.* cannot join another container's namespaces from an unprivileged container (lxc.idmap)",
                             hint: "swrun does not share user namespaces: drop the lxc.namespace.share lines, or the lxc.idmap lines")
        }
        if sharedNamespaces.shares("net") && !publishedPorts.isEmpty {
            throw SwrunError(.invalidConfig, "lxc.namespace.share.net: a container in another's network publishes no ports of its own",
                             hint: "publish the ports on the container whose network it shares")
        }
        if sharedNamespaces.shares("uts") && spec.hostname != nil {
            warnings.append("lxc.uts.name is not applied: lxc.namespace.share.uts keeps the other container's hostname")
        }
        if sharedNamespaces.shares("net"),
           let index = spec.networks.first?.index {
            throw SwrunError(.invalidConfig, "lxc.namespace.share.net joins another network namespace, which has its own links: lxc.net.\(index) has no place there",
                             hint: "drop the lxc.net.N lines, or the lxc.namespace.share.net line")
        }
        for namespace in sharedNamespaces.all where namespace.kind != "pid" && namespace.kind != "user" {
            let name = Namespaces.all.first { $0.flag == namespace.flag }?.name ?? namespace.kind
            addSetup(.joinNamespace(fd: namespace.fd, type: Int32(truncatingIfNeeded: namespace.flag)), "join the \(namespace.kind) namespace of \(namespace.path)",
                     call: "setns(open(\"\(namespace.path)\"), \(name))",
                     why: "the container shares this namespace instead of having its own (lxc.namespace.share, an OCI namespace path)")
        }
    }

    private func planIdentity() throws(SwrunError) {
        // A shared UTS namespace keeps the hostname its owner gave it (the host's above all).
        if !sharedNamespaces.shares("uts") && !spec.namespaces.fromHost.contains("uts"),
           let hostname = spec.hostname.flatMap({ $0.isEmpty ? nil : $0 }) ?? (spec.hostnameIsName ? request.containerName : nil) {
            addSetup(.setHostname(c(hostname), length: hostname.utf8.count), "set the hostname to \(hostname)",
                     call: "sethostname(\"\(hostname)\", \(hostname.utf8.count))",
                     why: "the UTS namespace has its own hostname (lxc.uts.name)")
        }
        if !sharedNamespaces.shares("uts") && !spec.namespaces.fromHost.contains("uts"), let domain = spec.domainname {
            addSetup(.setDomainName(c(domain), length: domain.utf8.count), "set the domain name to \(domain)",
                     call: "setdomainname(\"\(domain)\", \(domain.utf8.count))", why: "domainname: the UTS namespace's NIS domain name")
        }
        if sharedNamespaces.shares("net") { return }
        if sharesHostNetwork { return }
        let request = LinkRequest.setUp(index: 1, sequence: 1)
        addSetup(.netlinkRequest(arena.bytes(request.bytes)), "bring up the loopback interface",
                 call: "sendto(NETLINK_ROUTE, RTM_NEWLINK ifindex=1 flags=IFF_UP, \(request.bytes.count) bytes)",
                 why: "a new network namespace has only lo, and it starts down")
        for network in networkLinks { try planLinkConfiguration(network) }
    }

    /// The container's end of a veth pair: up, its address, its default route. The index is
    /// known only inside, so the child writes it into the prepared requests.
    private func planLinkConfiguration(_ network: NetworkLink) throws(SwrunError) {
        var requests: [(NetlinkMessage, Int, String)] = []
        // Addresses before the link comes up, with arp_notify on: its coming up announces them.
        if network.address != nil || !network.extraAddresses.isEmpty {
            requests.append((LinkRequest.notifyNeighbours(index: 0, sequence: 7), 20, "announce its addresses when it comes up (arp_notify)"))
        }
        if let address = network.address {
            requests.append((AddressRequest.add(address, index: 0, sequence: 3), 20, "add \(address) to \(network.containerName)"))
        }
        if let address = network.ipv6Address {
            requests.append((AddressRequest.add(address, index: 0, sequence: 5), 20, "add \(address) to \(network.containerName)"))
        }
        for (number, address) in network.extraAddresses.enumerated() {
            requests.append((AddressRequest.add(address, index: 0, sequence: UInt32(100 + number)), 20, "add \(address) to \(network.containerName)"))
        }
        for (number, address) in network.extraIPv6Addresses.enumerated() {
            requests.append((AddressRequest.add(address, index: 0, sequence: UInt32(200 + number)), 20, "add \(address) to \(network.containerName)"))
        }
        if network.up || network.address != nil || network.ipv6Address != nil {
            requests.append((LinkRequest.setUp(index: 0, sequence: 2), 20, "set \(network.containerName) up"))
        }
        for (gateway, sequence) in [(network.gateway, UInt32(4)), (network.ipv6Gateway, 6)] {
            guard case .address(let address)? = gateway else { continue }
            let message = RouteRequest.addDefault(via: address, index: 0, sequence: sequence)
            let shown = address.count == 16 ? IPv6Network(address: address).addressText : address.map(String.init).joined(separator: ".")
            requests.append((message, message.bytes.count - 4, "route via \(shown)"))
        }
        guard !requests.isEmpty else { return }
        let buffers = UnsafeMutablePointer<UnsafeMutableRawBufferPointer>.allocate(capacity: requests.count)
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: requests.count)
        for (position, (message, offset, _)) in requests.enumerated() {
            let buffer = arena.scratch(message.bytes.count)
            buffer.copyBytes(from: message.bytes)
            buffers[position] = buffer
            offsets[position] = offset
        }
        arena.adopt(UnsafeMutableRawPointer(buffers))
        arena.adopt(UnsafeMutableRawPointer(offsets))
        addSetup(.configureLink(name: c(network.containerName), requests: buffers, count: requests.count, indexOffsets: offsets),
                 "configure \(network.containerName): " + requests.map(\.2).joined(separator: ", "),
                 call: "if_nametoindex(\"\(network.containerName)\"); RTM_NEWLINK IFF_UP; RTM_NEWADDR; RTM_NEWROUTE",
                 why: "lxc.net.\(network.index): the container's end of its veth pair, set up from inside")
    }
}

extension StartPlan {
    /// Published ports need an address to lead to, and a host port nobody else publishes,
    /// on an address of the host, that no socket of the host holds. Ports left to the start
    /// are chosen as the container's entry of the NAT table is set.
    fileprivate func planPublishedPorts() throws(SwrunError) {
        guard !publishedPorts.isEmpty else { return }
        guard let link = networkLinks.first(where: { $0.address != nil }), let address = link.address?.address else {
            throw SwrunError(.invalidConfig, "container '\(request.containerName)' publishes ports (\(publishedPorts.map(\.description).joined(separator: ", "))) but has no IPv4 address",
                             hint: "give it a veth network on a bridge with an address: lxc.net.0.type = veth, lxc.net.0.link = lxcbr0, lxc.net.0.ipv4.address = auto")
        }
        if let (port, owner) = try NATTable().conflict(with: publishedPorts, except: natKey) {
            throw NATTable.published(port, by: owner)
        }
        for port in publishedPorts where port.hostPort != 0 || port.hostAddress != nil {
            if let problem = HostPorts.problem(port) { throw problem.error(port, container: request.containerName) }
        }
        publishedAddress = address
        publishedBridge = link.bridge
    }
}
