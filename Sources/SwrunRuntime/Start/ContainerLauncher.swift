import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunNetlink
import SwrunSystem

/// The parent's side of a start: clone3 the container's init into new namespaces
/// and follow its setup over the sync socket until the command runs.
///
/// Must run in a single-threaded process: clone3 copies only the calling thread.
public struct ContainerLauncher {
    let plan: StartPlan
    let explainer: Explainer

    public init(plan: StartPlan) {
        self.plan = plan
        self.explainer = Explainer(enabled: plan.explain)
    }

    /// Starts the container and waits for its command to run. What it changes on the host
    /// (the cgroup, links, published ports) goes into `effects` as it is made: undoing it, on
    /// success or failure, is the caller's. `started` is told init's host pid as soon as it
    /// exists, and the container's own cgroup, made before. `beforeCommand` runs once the
    /// container is set up and its ptys are known, before the command starts (to set up the
    /// user's terminal).
    func start(effects: HostEffects,
               started: (pid_t, ContainerCgroup?) throws(SwrunError) -> Void = { _, _ in },
               beforeCommand: (LaunchedContainer) throws(SwrunError) -> Void = { _ in }) throws(SwrunError) -> LaunchedContainer {
        let prepared = try plan.makeCgroup()
        do throws(SwrunError) {
            try effects.record((prepared?.cgroup.directories ?? []).map(HostEffect.cgroup))
        } catch {
            prepared?.closeFiles()
            throw error
        }
        let (parentEnd, childEnd): (Int32, Int32)
        // Blocked before the clone so that no signal is lost or acted on too early; the child inherits the mask.
        let signals: SignalFD
        do throws(SwrunError) {
            (parentEnd, childEnd) = try makeSocketPair(SOCK_SEQPACKET)
            do throws(SwrunError) {
                signals = try SignalFD(SignalFD.relayed)
            } catch {
                close(parentEnd)
                close(childEnd)
                throw error
            }
        } catch {
            prepared?.closeFiles()
            throw error
        }
        explainer.say("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)",
                      "a channel to the container's init: it reports each step, or the step that failed with its errno")
        // OCI hooks inside the container read its state, pid and all: a pipe swrun fills once init exists.
        if plan.hooksReadState && swrun_pipe_cloexec(plan.hookState.pipe) != 0 {
            let error = Errno.current
            close(parentEnd)
            close(childEnd)
            prepared?.closeFiles()
            throw SwrunError.system("cannot make a pipe for the hooks' state", error)
        }
        fflush(nil)  // the child must not inherit half-written stdio buffers
        plan.keepInInit(sync: childEnd)
        let namespaces = plan.namespaces
        // A pid namespace to join holds for children only: swrun enters it for the clone, then goes back.
        let ownPidNamespace = plan.sharedNamespaces.pid.map { _ in open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC) } ?? -1
        if let joined = plan.sharedNamespaces.pid, swrun_setns(joined.fd, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWPID)) != 0 {
            let error = Errno.current
            close(parentEnd)
            close(childEnd)
            if ownPidNamespace >= 0 { close(ownPidNamespace) }
            prepared?.closeFiles()
            throw SwrunError.system("cannot join the pid namespace \(joined.path)", error)
        }
        let pid: pid_t
        if let user = plan.sharedNamespaces.user {
            pid = Self.cloneInUserNamespace(user.fd, plan, flags: namespaces.flags, cloneInto: prepared?.cloneInto ?? -1, parentEnd: parentEnd, childEnd: childEnd)
        } else {
            pid = swrun_clone3(namespaces.flags, SIGCHLD, prepared?.cloneInto ?? -1)
            if pid == 0 {
                close(parentEnd)
                ContainerInit.run(plan, sync: childEnd)
            }
        }
        let cloneError = Errno.current
        if ownPidNamespace >= 0 {
            _ = swrun_setns(ownPidNamespace, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWPID))
            close(ownPidNamespace)
        }
        plan.sharedNamespaces.close()  // init has its own copies
        plan.idMappedMounts.close()
        if plan.hookState.isUsed {
            close(plan.hookState.pipe[0])
            if pid > 0, let state = plan.request.stateDocument?(pid) {
                // At most what a pipe holds (and init's buffer takes): the write never waits for init.
                let bytes = Array(state.utf8.prefix(65536))
                _ = bytes.withUnsafeBytes { write(plan.hookState.pipe[1], $0.baseAddress, $0.count) }
            }
            close(plan.hookState.pipe[1])
        }
        prepared?.closeFiles()
        close(childEnd)
        if pid < 0 {
            close(parentEnd)
            throw SwrunError.system("clone3(\(namespaces.names)\(prepared?.cloneInto ?? -1 >= 0 ? "|CLONE_INTO_CGROUP" : "")) failed", cloneError,
                                    hint: "swrun needs root and a kernel with these namespaces")
        }
        explainer.say("clone3(\(namespaces.names)\(prepared?.cloneInto ?? -1 >= 0 ? "|CLONE_INTO_CGROUP" : "")) = \(pid)",
                      "the child is PID 1 of new namespaces; it gets\n"
                          + namespaces.chosen.map { "  \($0.name): \($0.purpose)" }.joined(separator: "\n"))

        let container = LaunchedContainer(plan: plan, initPID: pid, sync: parentEnd, signals: signals, effects: effects, explainer: explainer)
        do throws(SwrunError) {
            // What its processes run with, kept for attach: the config may change while it runs.
            guard let initProcess = ProcessIdentity.of(pid) else { throw container.initVanished("as it started") }
            try plan.profile.write(toContainer: plan.request.containerDirectory, initProcess: initProcess)
            try started(pid, prepared?.cgroup)
            if let cgroup = prepared?.cgroup { try plan.moveIntoCgroup(pid, cgroup) }
            if let rdt = plan.spec.intelRdt { try container.joinResctrlGroup(rdt) }
            if namespaces.userNamespace { try container.writeIDMaps() }
            if !plan.networkLinks.isEmpty { try container.makeNetworkLinks() }
            if !plan.publishedPorts.isEmpty { try container.publishPorts() }
            if plan.waitsForParent, !SyncMessage(.parentDone).send(on: parentEnd) { throw container.initVanished("while swrun prepared it") }
            try container.waitForSetup()
            container.announceAddresses()
            try ContainerHooks.run(plan.spec.hooks.runtimeCreated, initPID: pid, state: plan.request.stateDocument?(pid))
            try beforeCommand(container)
            if plan.waitsForGoAhead, !SyncMessage(.go).send(on: parentEnd) { throw container.initVanished("before the command started") }
            // OCI create: init now waits at the start gate; its command runs when `start` says so.
            if plan.request.startGate < 0 { try container.waitForCommand() }
        } catch {
            let reported = container.pendingSetupFailure() ?? error
            container.killInit()
            throw reported
        }
        return container
    }
}

/// A container whose command runs, as its parent sees it: init's pid, the masters of
/// its ptys, the sync socket and the signals swrun handles.
public final class LaunchedContainer {
    let plan: StartPlan
    public let initPID: pid_t
    let sync: Int32
    public let signals: SignalFD
    /// Where what the start changes on the host is journaled.
    let effects: HostEffects
    let explainer: Explainer
    /// The pty masters by number: 0 the console, then the ttys. -1 where there is none.
    public private(set) var terminals: [Int32]
    /// How init ended, once it has been reaped.
    public private(set) var initStatus: ProcessStatus?

    init(plan: StartPlan, initPID: pid_t, sync: Int32, signals: consuming SignalFD, effects: HostEffects, explainer: Explainer) {
        self.plan = plan
        self.initPID = initPID
        self.sync = sync
        self.signals = signals
        self.effects = effects
        self.explainer = explainer
        terminals = Array(repeating: -1, count: plan.terminalCount)
    }

    deinit {
        announcement?.close()
        for fd in terminals where fd >= 0 { close(fd) }
        close(sync)
    }

    /// Gratuitous ARP for the container's IPv4 addresses, from inside its network.
    private var announcement: GratuitousARP?

    /// Announces the addresses of the container's links (those with a MAC address swrun
    /// knows), so that neighbours with an old MAC address in their caches learn the new one.
    /// The links announce themselves as they come up (arp_notify), but a bridge may not
    /// forward from the new port yet by then: this goes after setup, and the monitor sends
    /// it again once the container has settled.
    public func announceAddresses() {
        if announcement == nil {
            let links = plan.networkLinks.compactMap { link -> (name: String, mac: [UInt8], address: [UInt8])? in
                guard let mac = link.hardwareAddress?.bytes, let address = link.address?.address else { return nil }
                return (link.containerName, mac, address)
            }
            guard !links.isEmpty else { return }
            announcement = try? GratuitousARP(networkNamespace: "/proc/\(initPID)/ns/net", links: links)
            explainer.say("sendto(AF_PACKET, ARP request for \(links.map { $0.address.map(String.init).joined(separator: ".") }.joined(separator: ", ")) from itself)",
                          "a gratuitous ARP: the neighbours learn the container's MAC address at once")
        }
        announcement?.send()
    }

    /// Forwards the published host ports to the container, for as long as its init lives.
    fileprivate func publishPorts() throws(SwrunError) {
        guard let address = plan.publishedAddress else { return }
        let table = try NATTable()
        // Journaled first: a failure half-way through leaves an entry that the undo removes.
        try effects.record(.publishedPorts(natKey: plan.natKey))
        let entry = NATTable.Entry(owner: ProcessIdentity.of(initPID), address: address, ports: plan.publishedPorts, bridge: plan.publishedBridge)
        let published = try table.publish(plan.natKey, entry)
        explainer.say("nftables: table ip \(NATTable.tableName), dnat \(published.map(\.description).joined(separator: " ")) to \(address.map(String.init).joined(separator: "."))",
                      "published ports: connections to these host ports go to the container"
                          + (entry.loopbackBridge.map { ", from the host's 127.0.0.1 too (route_localnet on \($0))" } ?? ""))
    }

    /// lxc.net.N.type = phys: the host's link moves into the container, renamed there.
    private func movePhysicalLink(_ network: NetworkLink, _ device: String, socket: NetlinkSocket) throws(SwrunError) {
        guard let index = NetlinkSocket.index(of: device) else {
            throw SwrunError(.notFound, "lxc.net.\(network.index).link: the host has no link '\(device)'",
                             hint: "see the host's links with `ip link`, or `swrun net ls` for bridges")
        }
        // Held open so that the namespace outlives init long enough to give the link back.
        effects.holdNetworkNamespace(of: initPID)
        explainer.say("RTM_NEWLINK \(device) netns \(initPID) name \(network.containerName)",
                      "lxc.net.\(network.index): the host's link moves into the container while it runs")
        try socket.request(LinkRequest.move(index: index, toNamespaceOf: initPID, name: network.containerName, sequence: socket.nextSequence()),
                           "move the host's link \(device) into the container as \(network.containerName)",
                           hint: "the name may be taken inside: set lxc.net.\(network.index).name")
        let inside = try NetlinkSocket(networkNamespace: effects.heldNetworkNamespace ?? "/proc/\(initPID)/ns/net")
        guard let moved = try inside.links().first(where: { $0.name == network.containerName }) else {
            throw SwrunError(.system, "the host's link \(device) vanished after it was moved into the container as \(network.containerName)")
        }
        // By index, not name: the container may rename its links, and give another the moved one's name.
        try effects.record(.movedLink(hostName: device, hostIndex: index, insideIndex: moved.index))
    }

    public var console: Int32 { terminals.first ?? -1 }

    func killInit() {
        kill(initPID, SIGKILL)
        _ = reapInit(blocking: true)
    }

    /// Reaps init if it has exited (or waits for it); true once it is reaped.
    @discardableResult
    public func reapInit(blocking: Bool = false) -> Bool {
        if initStatus != nil { return true }
        var status: Int32 = 0
        while true {
            let result = waitpid(initPID, &status, blocking ? 0 : WNOHANG)
            if result == initPID {
                initStatus = ProcessStatus(waitStatus: status)
                return true
            }
            if result < 0 && errno == EINTR { continue }
            return false
        }
    }

    // MARK: setup and exec

    /// linux.intelRdt: init (and so every process it makes) in the container's resctrl group,
    /// made or joined now, before its command runs; what was made is journaled, to go at the end.
    fileprivate func joinResctrlGroup(_ rdt: IntelRDT) throws(SwrunError) {
        let group = ResctrlGroup(rdt, containerID: plan.request.containerName)
        explainer.say("mkdir \(group.path); write(schemata); write(tasks, \(initPID))",
                      "linux.intelRdt: the container's cache and memory bandwidth share, in a resctrl group")
        try effects.record(try group.prepare().map(HostEffect.resctrlGroup))
        try group.add(initPID)
    }

    /// Puts each network's link in init's network namespace: a veth pair (its container end
    /// made straight there, the host end on its bridge and up), a macvlan, ipvlan or vlan link
    /// made straight there, or the host's own link moved in. If the start fails, killing init
    /// removes the made links with its namespace.
    fileprivate func makeNetworkLinks() throws(SwrunError) {
        let socket = try NetlinkSocket()
        for network in plan.networkLinks {
            switch network.source {
            case .veth(let pair, let bridge):
                try makeVethPair(network, hostName: pair ?? Self.vethHostName(initPID: initPID, index: network.index), bridge: bridge, socket: socket)
            case .physical(let device):
                try movePhysicalLink(network, device, socket: socket)
            case .stacked(let link, let parent):
                try makeStackedLink(network, link, parent: parent, socket: socket)
            }
        }
    }

    /// A host end's name of its start's own: vs, init's pid, four random letters, nN (at most
    /// 15 bytes). A pair the kernel is still removing after its container ended keeps its name
    /// for a moment, and a recycled pid must not meet it.
    static func vethHostName(initPID: pid_t, index: Int) -> String {
        var random = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let tag = String((0..<4).map { _ in letters[Int(random.next() % UInt64(letters.count))] })
        return "vs" + String(initPID, radix: 36) + tag + "n\(index)"
    }

    private func makeVethPair(_ network: NetworkLink, hostName: String, bridge: String?, socket: NetlinkSocket) throws(SwrunError) {
        var bridgeIndex: Int32?
        if let bridge {
            guard let index = NetlinkSocket.index(of: bridge) else { throw network.missingBridge(bridge) }
            bridgeIndex = index
        }
        let details = (network.hardwareAddress.map { " address \($0)" } ?? "") + (network.mtu.map { " mtu \($0)" } ?? "")
            + (bridge.map { " master \($0)" } ?? "")
        explainer.say("RTM_NEWLINK veth \(hostName)\(details) up, peer \(network.containerName) netns \(initPID)",
                      "lxc.net.\(network.index): a veth pair, in one request: the host end up"
                          + (bridge.map { " on the bridge \($0)" } ?? "") + ", the other end in the container as \(network.containerName)")
        let request = LinkRequest.createVeth(name: hostName, peer: network.containerName, peerNamespacePID: initPID,
                                             peerAddress: network.hardwareAddress?.bytes, mtu: network.mtu,
                                             master: bridgeIndex, up: true, sequence: socket.nextSequence())
        try socket.request(request,
                           "create the veth pair \(hostName) for lxc.net.\(network.index)" + (bridge.map { " on the bridge \($0)" } ?? ""),
                           hint: "a link called \(hostName) may exist already: choose another lxc.net.\(network.index).veth.pair")
        // The kernel removes the pair with the container's namespace as it ends; after a crash,
        // the next stop or start deletes it by index, should the namespace still hold it.
        if let index = NetlinkSocket.index(of: hostName) { try effects.record(.vethPair(hostEnd: hostName, index: index)) }
    }

    /// lxc.net.N.type = macvlan, ipvlan or vlan: a link on the host's `parent`, made in the
    /// container's namespace; the kernel removes it with the namespace. The kernel checks a
    /// new link's name in the namespace of the request, not the link's, so it is made under a
    /// name no host link has, and named as the container wants it there (a host eth0 must
    /// not stop a container's eth0).
    private func makeStackedLink(_ network: NetworkLink, _ link: StackedLink, parent: String, socket: NetlinkSocket) throws(SwrunError) {
        guard let parentIndex = NetlinkSocket.index(of: parent) else {
            throw SwrunError(.notFound, "lxc.net.\(network.index).link: the host has no link '\(parent)' for the \(link.kind) link to go on",
                             hint: "see the host's links with `ip link`")
        }
        let mode: String = switch link {
        case .macvlan(let mode): "mode \(mode)"
        case .ipvlan(let mode, let isolation): "mode \(mode) \(isolation)"
        case .vlan(let id): "id \(id)"
        }
        let temporary = "vs\(initPID)n\(network.index)"
        explainer.say("RTM_NEWLINK \(link.kind) \(temporary) link \(parent) \(mode) netns \(initPID)",
                      "lxc.net.\(network.index): a \(link.kind) link on the host's \(parent), made in the container")
        let request = LinkRequest.createStacked(link, name: temporary, parentIndex: parentIndex, namespacePID: initPID,
                                                address: network.hardwareAddress?.bytes, mtu: network.mtu, sequence: socket.nextSequence())
        try socket.request(request, "create the \(link.kind) link for lxc.net.\(network.index) on \(parent)",
                           hint: Self.stackedLinkHint(link, parent: parent, index: network.index))
        let inside = try NetlinkSocket(networkNamespace: "/proc/\(initPID)/ns/net")
        guard let made = try inside.links().first(where: { $0.name == temporary }) else {
            throw SwrunError(.system, "the \(link.kind) link \(temporary) vanished from the container after it was made")
        }
        explainer.say("RTM_NEWLINK \(temporary) name \(network.containerName), in the container's namespace", "its name inside")
        try inside.request(LinkRequest.change(index: made.index, .name(network.containerName), sequence: inside.nextSequence()),
                           "name the \(link.kind) link \(network.containerName) in the container",
                           hint: "another network of the container may have that name: set lxc.net.\(network.index).name")
    }

    private static func stackedLinkHint(_ link: StackedLink, parent: String, index: Int) -> String {
        switch link {
        case .vlan: "\(parent) must be an Ethernet link; a vlan id may be used once per link"
        case .macvlan(.passthru): "passthru takes the whole of \(parent): no other macvlan may be on it"
        default: "\(parent) must be an Ethernet link (not a bridge's port, nor loopback); check lxc.net.\(index).link"
        }
    }

    /// Writes init's uid_map and gid_map (lxc.idmap).
    fileprivate func writeIDMaps() throws(SwrunError) {
        for (kind, file) in [(IDMap.Kind.uid, "uid_map"), (IDMap.Kind.gid, "gid_map")] {
            let lines = plan.spec.idMaps.filter { $0.kind == kind }
                .map { "\($0.containerID) \($0.hostID) \($0.count)\n" }.joined()
            let path = "/proc/\(initPID)/\(file)"
            explainer.say("write(\"\(path)\", \"\(lines.replacingNewlines)\")",
                          "lxc.idmap: ids inside the user namespace map to these host ids; only a process outside may write this")
            try FileSystem.writeExisting(path, lines, hint: "check lxc.idmap: each range must fit in the host's ids, and ranges must not overlap")
        }
    }

    fileprivate func waitForSetup() throws(SwrunError) {
        while true {
            guard let (message, fd) = SyncMessage.receive(on: sync) else { throw initVanished("during setup") }
            switch SyncMessage.Kind(rawValue: message.kind) {
            case .terminalReady? where Int(message.a) < terminals.count && fd >= 0 && terminals[Int(message.a)] < 0:
                terminals[Int(message.a)] = fd
                explainer.say("recvmsg(SCM_RIGHTS) = pty master \(message.a)", "the master end of a pty from the container's devpts, now held by swrun")
            case .ready?:
                if fd >= 0 { close(fd) }
                explainer.say("container set up", plan.waitsForGoAhead ? "init waits for the go-ahead (the terminal is set up first), then starts your command"
                                                                        : "init starts your command")
                return
            case .setupFailed?:
                if fd >= 0 { close(fd) }
                throw setupFailure(message)
            default:
                if fd >= 0 { close(fd) }
                throw SwrunError(.system, "unexpected message \(message.kind) from the container's init")
            }
        }
    }

    private func setupFailure(_ message: SyncMessage) -> SwrunError {
        let step = plan.setup[Int(message.a)]
        return SwrunError(.containerSetup, "container setup failed: cannot \(step.summary)", errno: Errno(rawValue: message.b),
                          hint: Self.hint(forSetupErrno: message.b))
    }

    /// Init's report of a setup step that failed, if one lies unread on the socket. Init sets
    /// up while swrun does its part; when that part fails because init has died of its own
    /// error meanwhile (its namespace gone, the socket closed), init's error is the one to tell.
    fileprivate func pendingSetupFailure() -> SwrunError? {
        var entry = pollfd(fd: sync, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, 0) == 1, let (message, fd) = SyncMessage.receive(on: sync) {
            if fd >= 0 { close(fd) }
            if SyncMessage.Kind(rawValue: message.kind) == .setupFailed { return setupFailure(message) }
        }
        return nil
    }

    fileprivate func waitForCommand() throws(SwrunError) {
        guard let (message, _) = SyncMessage.receive(on: sync) else {
            // Boot mode: init exec'd the command, which closed init's end (close-on-exec). An
            // init that then ended at once (or died before the exec) is the monitor's to report,
            // with its status and console, once it sees it gone.
            if plan.mode == .boot {
                return explainer.say("execve succeeded", "the sync socket closed with the exec: the rootfs's init is PID 1")
            }
            throw initVanished("while starting the command")
        }
        switch SyncMessage.Kind(rawValue: message.kind) {
        case .running?:
            explainer.say("command running as PID \(message.a) in the container", "swrun now relays signals" + (console >= 0 ? " and the terminal" : "") + " until it exits")
            shieldInitFromOOMKiller()
        case .payloadFailed? where message.a >= 0:
            throw plan.payloadFailure(step: message.a, errno: message.b)
        default:
            throw SwrunError(.system, "the container's init could not fork the command", errno: Errno(rawValue: message.b))
        }
    }

    /// When a memory limit is hit, the kernel picks a victim in the cgroup, and while the
    /// first one dies it may pick another: if that were init (execute's reaper, a few pages),
    /// the whole container would end with it. Written now, after the command was forked, so
    /// that the command keeps the usual score; only host root may lower it, hence from here.
    private func shieldInitFromOOMKiller() {
        let path = "/proc/\(initPID)/oom_score_adj"
        explainer.say("write(\"\(path)\", \"-1000\")", "the OOM killer never picks init, only what it runs")
        FileSystem.tryWriteExisting(path, "-1000")  // best effort (it needs CAP_SYS_RESOURCE): without it only the OOM case differs
    }

    private static func hint(forSetupErrno errno: Int32) -> String? {
        switch errno {
        case EPERM, EACCES: return "swrun must run as root; in an unprivileged container the mapped root must also be able to reach the rootfs (every directory above it needs o+x)"
        case ENOENT: return "a path in the rootfs or the config does not exist; check lxc.mount.entry and lxc.rootfs.path"
        case ECANCELED: return "the hook exited with a failure: see its output (above, or in the container's swrun.log when started with -d)"
        default: return "run again with --explain to see each step"
        }
    }

    fileprivate func initVanished(_ when: String) -> SwrunError {
        reapInit(blocking: true)
        let status = initStatus.map { "\($0)" } ?? "status unknown"
        return SwrunError(.containerSetup, "the container's init ended \(when) (\(status))",
                          hint: "run again with --explain to see each step")
    }

    // MARK: execute mode: the command in the foreground

    /// Relays signals and the console until init has exited and the console is drained;
    /// returns how the command ended, as init reported it.
    /// `pipes`: those that stand in for swrun's terminal (see StdioPipes).
    public func runInForeground(pipes: StdioPipes? = nil) throws(SwrunError) -> ProcessStatus {
        let relay = ForegroundRelay(child: initPID, console: console, pipes: pipes, signals: signals.fd, statusChannel: sync, explainer: explainer)
        let status = try relay.run()
        if console >= 0 { terminals[0] = -1 }  // the relay closed it
        initStatus = relay.childStatus
        return status
    }
}

/// Copying between file descriptors for terminal relays.
public enum Relay {
    /// One read and a full write; false at end of file or error (EIO once every pty user is gone).
    public static func copy(from source: Int32, to destination: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        if count <= 0 { return false }
        writeAll(destination, buffer[0..<count])
        return true
    }

    /// Writes everything, retrying after interruptions; gives up silently when the reader is
    /// gone, or cannot take more now (a non-blocking fd: those bytes are dropped).
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + (offset - bytes.startIndex), bytes.endIndex - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

extension String {
    /// "\n" written as the two characters, for one-line explanations.
    var replacingNewlines: String { split(separator: "\n").joined(separator: "\\n") + (hasSuffix("\n") ? "\\n" : "") }
}
