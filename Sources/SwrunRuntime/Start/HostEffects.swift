import Glibc
import SwrunCgroups
import SwrunNetlink
import SwrunSystem

/// One change a start makes to the host for as long as its container runs, with what it
/// takes to undo it, even from another process after a crash.
///
/// What outlives a run is not here: the default bridge (shared by containers), an address
/// lease (a container keeps its address until it is destroyed) and the network files written
/// into its rootfs belong to the container, not to one start of it.
enum HostEffect: Equatable, Sendable {
    /// A cgroup directory made for the container, in one hierarchy.
    case cgroup(String)
    /// The host end of a veth pair, by name and index (a name alone could be another's by then).
    case vethPair(hostEnd: String, index: Int32)
    /// A host link moved into the container (lxc.net.N.type = phys): its name and index on
    /// the host, and its index inside, to give it back under its own name.
    case movedLink(hostName: String, hostIndex: Int32, insideIndex: Int32)
    /// The container's published ports, its entry of swrun's nftables table.
    case publishedPorts(natKey: String)
    /// A resctrl group (or monitoring group) made for the container's linux.intelRdt.
    case resctrlGroup(String)

    /// One line of the journal.
    var line: String {
        switch self {
        case .cgroup(let directory): "cgroup \(directory)"
        case .vethPair(let hostEnd, let index): "veth \(hostEnd) \(index)"
        case .movedLink(let hostName, let hostIndex, let insideIndex): "link \(hostName) \(hostIndex) \(insideIndex)"
        case .publishedPorts(let natKey): "nat \(natKey)"
        case .resctrlGroup(let directory): "resctrl \(directory)"
        }
    }

    /// Reads a journal line back; nil for one swrun did not write. The journal lives where only
    /// root writes, but what it names is checked all the same: a cgroup below /sys/fs/cgroup,
    /// link names the kernel would take, a NAT key that is one file name.
    init?(line: Substring) {
        let fields = line.split(separator: " ", maxSplits: 1)
        guard fields.count == 2 else { return nil }
        let rest = fields[1].split(separator: " ").map(String.init)
        switch fields[0] {
        case "cgroup":
            let directory = String(fields[1])
            guard directory.hasPrefix("/sys/fs/cgroup/") && !directory.split(separator: "/").contains("..") else { return nil }
            self = .cgroup(directory)
        case "veth":
            guard rest.count == 2, Self.isLinkName(rest[0]), let index = Int32(rest[1]) else { return nil }
            self = .vethPair(hostEnd: rest[0], index: index)
        case "link":
            guard rest.count == 3, Self.isLinkName(rest[0]), let hostIndex = Int32(rest[1]), let insideIndex = Int32(rest[2]) else { return nil }
            self = .movedLink(hostName: rest[0], hostIndex: hostIndex, insideIndex: insideIndex)
        case "nat":
            guard rest.count == 1, !rest[0].contains("/"), !rest[0].hasPrefix(".") else { return nil }
            self = .publishedPorts(natKey: rest[0])
        case "resctrl":
            let directory = String(fields[1])
            guard directory.hasPrefix(ResctrlGroup.defaultRoot + "/") && !directory.split(separator: "/").contains("..") else { return nil }
            self = .resctrlGroup(directory)
        default:
            return nil
        }
    }

    private static func isLinkName(_ name: String) -> Bool {
        (1...15).contains(name.utf8.count) && !name.utf8.contains { $0 <= 0x20 || $0 == 0x2F || $0 == 0x3A }
    }
}

/// Undoes one host effect; false when it must be tried again later (a cgroup whose
/// processes have not gone yet). The seam lets a test check the order without root.
protocol HostEffectUndoing {
    /// `networkNamespace`: the container's, held open while links moved into it are to be
    /// given back; -1 after a crash, when the kernel has already returned them.
    func undo(_ effect: HostEffect, networkNamespace: Int32) -> Bool
}

/// The host effects of one start, journaled as they are made: in memory for the process that
/// made them, and in LXCPATH/NAME/swrun.effects (ROOT/ID for the OCI runtime) for any swrun
/// that comes after a crash. Undone in one place, newest first; whatever cannot be undone yet
/// stays in the journal for the next stop or start.
final class HostEffects {
    static let fileName = "swrun.effects"
    static let header = "# what a start of this container changed on the host; the next start or stop undoes it, last line first"

    let journal: String
    private(set) var effects: [HostEffect] = []
    private let undoer: any HostEffectUndoing
    /// The container's network namespace, held from the first link moved into it.
    private var networkNamespace: Int32 = -1

    init(directory: String, undoer: any HostEffectUndoing = HostEffectUndoer()) {
        journal = FileSystem.join(directory, Self.fileName)
        self.undoer = undoer
    }

    deinit {
        if networkNamespace >= 0 { close(networkNamespace) }
    }

    /// Notes an effect that was just made. The journal is written before anything else can
    /// fail; should the write itself fail, the effect is still undone by this process.
    func record(_ effect: HostEffect) throws(SwrunError) {
        try record([effect])
    }

    /// Notes effects made together (a cgroup in each hierarchy) with one write to the journal.
    func record(_ made: [HostEffect]) throws(SwrunError) {
        guard !made.isEmpty else { return }
        effects += made
        try Self.append(made.map { $0.line + "\n" }.joined(), to: journal)
    }

    /// Keeps the network namespace of `pid` open, so that links moved into it can be given
    /// back after its last process has gone.
    func holdNetworkNamespace(of pid: pid_t) {
        if networkNamespace < 0 { networkNamespace = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC) }
    }

    /// The held namespace, as a path this process can open.
    var heldNetworkNamespace: String? { networkNamespace >= 0 ? "/proc/self/fd/\(networkNamespace)" : nil }

    /// Undoes every effect, newest first; true when none is left. The journal goes with the
    /// last one, or keeps those that must wait.
    @discardableResult
    func undo() -> Bool {
        let left = Self.undo(effects, with: undoer, networkNamespace: networkNamespace)
        if networkNamespace >= 0 {
            close(networkNamespace)
            networkNamespace = -1
        }
        effects = left
        Self.rewrite(journal, with: left)
        return left.isEmpty
    }

    /// After a crash: undoes what the journal in `directory` names, once the container is
    /// known to be stopped. True when nothing is left to undo.
    @discardableResult
    static func undoJournal(in directory: String, undoer: any HostEffectUndoing = HostEffectUndoer(afterCrash: true)) -> Bool {
        let path = FileSystem.join(directory, fileName)
        guard let text = try? FileSystem.readText(path) else { return true }
        let recorded = read(text)
        let left = undo(recorded, with: undoer, networkNamespace: -1)
        rewrite(path, with: left)
        return left.isEmpty
    }

    static func read(_ text: String) -> [HostEffect] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap(HostEffect.init(line:))
    }

    private static func undo(_ effects: [HostEffect], with undoer: any HostEffectUndoing, networkNamespace: Int32) -> [HostEffect] {
        var left: [HostEffect] = []
        for effect in effects.reversed() where !undoer.undo(effect, networkNamespace: networkNamespace) {
            left.insert(effect, at: 0)
        }
        return left
    }

    private static func rewrite(_ path: String, with effects: [HostEffect]) {
        if effects.isEmpty {
            unlink(path)
        } else {
            try? FileSystem.writeAtomically(path, ([header] + effects.map(\.line)).joined(separator: "\n") + "\n", mode: 0o600)
        }
    }

    private static func append(_ line: String, to path: String) throws(SwrunError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SwrunError.system("cannot write the host-effects journal \(path)", Errno.current) }
        defer { close(fd) }
        var size = stat()
        let text = (fstat(fd, &size) == 0 && size.st_size == 0 ? header + "\n" : "") + line
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw SwrunError.system("cannot write the host-effects journal \(path)", Errno.current)
        }
    }
}

/// The real undoing: rmdir of cgroups, RTM_DELLINK of veths, links handed back, NAT withdrawn.
struct HostEffectUndoer: HostEffectUndoing {
    /// Undoing what a crashed start left, rather than what a container that has just ended
    /// made: a veth pair is then deleted here, by its host end.
    var afterCrash = false

    func undo(_ effect: HostEffect, networkNamespace: Int32) -> Bool {
        switch effect {
        case .cgroup(let directory):
            return ContainerCgroup(directories: [directory]).remove()
        case .vethPair(let hostEnd, let index):
            // The container has ended: its network namespace goes with its last process, and the
            // kernel removes the pair with it, in the background. RTM_DELLINK here would make
            // this stop wait out the kernel's RCU grace period (about 30 ms) for the same end.
            // The host end's name is unique to its start, so a new pair never meets it.
            guard afterCrash else { return true }
            // Only the link that still has both: the pair may be gone with the namespace already.
            guard let socket = try? NetlinkSocket(), let link = try? socket.links().first(where: { $0.index == index }),
                  link.name == hostEnd else { return true }
            try? socket.request(LinkRequest.delete(index: index, sequence: socket.nextSequence()), "delete \(hostEnd)")
            return true
        case .movedLink(let hostName, let hostIndex, let insideIndex):
            if networkNamespace >= 0 {
                guard let inside = try? NetlinkSocket(networkNamespace: "/proc/self/fd/\(networkNamespace)") else { return true }
                try? inside.request(LinkRequest.move(index: insideIndex, toNamespaceOf: getpid(), name: hostName, sequence: inside.nextSequence()),
                                    "give link \(insideIndex) back to the host as \(hostName)")
            } else {
                Self.renameReturnedLink(hostName: hostName, index: hostIndex)
            }
            return true
        case .publishedPorts(let natKey):
            return (try? NATTable().remove(natKey)) != nil
        case .resctrlGroup(let directory):
            // The kernel moves a group's tasks back to the default group as it goes.
            return rmdir(directory) == 0 || errno == ENOENT
        }
    }

    /// After a crash the kernel hands a real link back by itself as the namespace ends (a
    /// virtual one dies with it), down, under the name it had inside or as devN: it gets its own
    /// name back. The namespace ends asynchronously, so the link is waited for a moment.
    private static func renameReturnedLink(hostName: String, index: Int32) {
        guard let socket = try? NetlinkSocket() else { return }
        for _ in 0..<50 {
            if let link = try? socket.links().first(where: { $0.index == index }) {
                guard link.name != hostName else { return }
                try? socket.request(LinkRequest.change(index: index, .name(hostName), sequence: socket.nextSequence()),
                                    "rename \(link.name) back to \(hostName)")
                return
            }
            usleep(10_000)
        }
    }
}
