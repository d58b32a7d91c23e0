import Glibc
import SwrunCgroups
import SwrunConfig

/// What one container is, whichever front end described it: an LXC config (with swrun.json
/// and the command line), or an OCI bundle's config.json. Modelled on the OCI runtime spec,
/// with typed values; the plan and everything below it read only this.
public struct ContainerSpec: Sendable {
    /// The directory that becomes /, absolute.
    public var rootfs: String
    /// Layers and an upper directory that are mounted (overlayfs) on `rootfs` as the start
    /// begins, in a mount namespace of swrun's own: the host never sees the mount.
    public var rootOverlay: RootOverlay?
    /// A filesystem of the container's own (loop, lvm, zfs), mounted on `rootfs` the same way.
    public var rootDevice: RootDevice?
    /// OCI root.readonly: / is remounted read-only once the tree is built.
    public var readOnlyRoot = false
    /// lxc.rootfs.options: flags / is remounted with once the tree is built (nosuid, noexec ...).
    public var rootFlags: (set: UInt, clear: UInt) = (0, 0)
    /// OCI linux.rootfsPropagation: the MS_* propagation of / once it is the root; nil: private.
    public var rootPropagation: UInt?
    /// --add-host lines for /etc/hosts, and --dns resolvers for /etc/resolv.conf (swrun.json).
    public var extraHosts: [HostEntry] = []
    public var dnsServers: [String] = []
    /// The hostname to set; nil: the container's name where `hostnameIsName` (LXC's way),
    /// else the one the new UTS namespace starts with (OCI's).
    public var hostname: String?
    public var hostnameIsName = false
    /// OCI domainname: the NIS domain name of the container's UTS namespace.
    public var domainname: String?
    public var process: ProcessSpec
    public var filesystems = KernelFilesystems()
    /// Every mount of the container's tree, in order.
    public var mounts: [MountStep] = []
    /// Paths hidden from the container: /dev/null over files, an empty read-only tmpfs over
    /// directories (skipped where the kernel has none).
    public var maskedPaths: [String] = []
    /// Paths made read-only by a bind of their own.
    public var readOnlyPaths: [String] = []
    /// Paths made writable again under a read-only parent (proc:mixed's /proc/sys/net).
    public var writablePaths: [String] = []
    public var devices = DeviceSpec()
    public var namespaces = NamespaceSpec()
    /// A time namespace of the container's own, with its clocks' offsets (OCI linux.timeOffsets
    /// with a time namespace, lxc.time.offset.*); nil: the host's clocks, or a time namespace
    /// joined (namespaces.joined["time"]).
    public var timeNamespace: TimeOffsets?
    /// lxc.idmap / linux.uidMappings and gidMappings: a user namespace when not empty.
    public var idMaps: [IDMap] = []
    /// The links swrun puts in the container's network namespace (LXC's lxc.net.N).
    var networks: [NetworkLink] = []
    public var resources = ResourceSpec()
    /// OCI linux.intelRdt: a resctrl group for the container's processes.
    public var intelRdt: IntelRDT?
    public var hooks = HookSet()
    /// linux.sysctl / lxc.sysctl, written in the container's namespaces before its command.
    public var sysctls: [(key: String, value: String)] = []
    public var signals = ShutdownSignalSpec()
    /// lxc.console.logfile: where the monitor appends the console's output.
    public var consoleLogFile: String?
    /// What the front end read but does not apply, for the user to hear about.
    public var warnings: [String] = []

    public init(rootfs: String, process: ProcessSpec) {
        self.rootfs = rootfs
        self.process = process
    }

    /// The host ids of the container's root (its id maps for id 0), if it has a user namespace.
    var rootOnHost: (uid: uid_t, gid: gid_t)? {
        guard let uid = idMaps.first(where: { $0.kind == .uid && $0.containerID == 0 }),
              let gid = idMaps.first(where: { $0.kind == .gid && $0.containerID == 0 }) else { return nil }
        return (uid.hostID, gid.hostID)
    }
}

/// The container's first process.
public struct ProcessSpec: Sendable {
    /// argv; argv[0] is searched in the container's PATH when it has no slash.
    public var args: [String]
    /// Where args came from, for the message when it is not in the rootfs ("lxc.init.cmd").
    public var argsOrigin = "the command"
    /// Identity, capabilities, seccomp filter, directory, environment.
    var profile: ProcessProfile
    /// A pty for the process (OCI process.terminal, swrun's -t).
    public var terminal = false
    /// The pty is the process's controlling terminal (OCI's); a booted init (LXC's) makes
    /// the console one for its own children instead.
    public var terminalIsControlling = false
    /// OCI process.consoleSize: the pty's size before the process starts.
    public var consoleSize: (rows: UInt16, columns: UInt16)?
    /// runc's --preserve-fds: fds 3 to 3+N-1 of the caller pass to the process.
    public var preservedFDs = 0
    /// OCI process.oomScoreAdj, written to /proc/PID/oom_score_adj before the process runs.
    public var oomScoreAdjustment: Int?
    /// The container's environment starts with these (PATH, container=lxc, HOME) unless the
    /// front end gives a complete one (OCI's process.env is the whole environment).
    public var usesDefaultEnvironment = true
    /// The working directory is made when missing, as Docker makes an image's WorkingDir.
    public var createsWorkingDirectory = false

    init(args: [String], profile: ProcessProfile) {
        self.args = args
        self.profile = profile
    }
}

/// The capability sets of a process, as OCI gives them (bit N: capability N).
public struct CapabilitySets: Sendable, Equatable {
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64
}

/// setrlimit(2) of one resource.
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    /// The resources by their lowercase names (LXC's lxc.prlimit.NAME, Docker's --ulimit NAME).
    static let numbers: [String: Int32] = [
        "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7, "memlock": 8,
        "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14, "rttime": 15,
    ]

    /// An OCI rlimit type, "RLIMIT_NOFILE".
    static func number(ofType type: String) -> Int32? {
        type.hasPrefix("RLIMIT_") ? numbers[type.dropFirst("RLIMIT_".count).lowercased()] : nil
    }
}

/// One mount of the container's tree: swrun's own kernel filesystems and /dev (as
/// `filesystems` and `devices` describe them), or a mount as given.
public enum MountStep: Sendable, Equatable {
    case proc, sysfs, cgroup
    /// /dev's tmpfs with its standard nodes and links (where devices.standardNodes), and devices.nodes.
    case dev
    /// The container's own devpts instance at /dev/pts, and its console and ttys.
    case devpts
    case entry(MountEntry)

    public var entry: MountEntry? { if case .entry(let entry) = self { entry } else { nil } }
}

/// The kernel filesystems every container gets, where the front end asks for them: proc, sys
/// and the cgroup hierarchies, each in a mode (LXC's lxc.mount.auto, OCI's standard mounts).
public struct KernelFilesystems: Sendable {
    public var proc: MountAuto.ProcMode?
    public var sys: MountAuto.SysMode?
    public var cgroup: MountAuto.CgroupMode?
    public var cgroupKind: MountAuto.CgroupKind = .cgroup
    public init() {}
}

/// /dev: the standard nodes (LXC's autodev, every OCI container), further nodes, ptys, ttys.
public struct DeviceSpec: Sendable {
    /// A tmpfs on /dev with null, zero, full, random, urandom, tty and the usual links.
    public var standardNodes = true
    /// OCI linux.devices: more nodes, made in /dev after the standard ones.
    public var nodes: [DeviceNode] = []
    /// lxc.pty.max: how many ptys the container's devpts gives (0: the kernel's limit).
    public var ptyMax = 0
    /// lxc.tty.max: ttys for gettys, in boot mode.
    public var ttyCount = 0
    /// lxc.tty.dir: a directory of /dev holding the console and ttys.
    public var ttyDirectory: String?
    public init() {}
}

/// A device node made in the container (OCI linux.devices entry).
public struct DeviceNode: Sendable, Equatable {
    public var path: String
    /// S_IFCHR, S_IFBLK or S_IFIFO with the permission bits.
    public var mode: mode_t
    public var major: UInt32
    public var minor: UInt32
    public var uid: uid_t
    public var gid: gid_t
}

/// The offsets of a time namespace's clocks from the host's (time_namespaces(7)): only
/// CLOCK_MONOTONIC and CLOCK_BOOTTIME have them.
public struct TimeOffsets: Sendable, Equatable {
    public var monotonic = ClockOffset(seconds: 0)
    public var boottime = ClockOffset(seconds: 0)
    public init() {}

    /// What /proc/self/timens_offsets takes, both clocks in one write.
    var fileText: String {
        "monotonic \(monotonic.seconds) \(monotonic.nanoseconds)\nboottime \(boottime.seconds) \(boottime.nanoseconds)\n"
    }
}

/// The namespaces the container joins instead of making its own.
public struct NamespaceSpec: Sendable {
    /// kind ("net", "uts", "ipc") to what names it: a container's name, its directory, a pid,
    /// or a namespace file (/proc/PID/ns/net, a bind-mounted /run/netns/NAME).
    public var joined: [String: String] = [:]
    /// The container stays in the host's network (lxc.net.N.type = none; OCI without a network namespace).
    public var hostNetwork = false
    /// Kinds the container keeps the host's namespace of (those an OCI bundle does not list):
    /// "net", "uts", "ipc", "cgroup".
    public var fromHost: Set<String> = []
    public init() {}
}

/// The container's cgroup: limits, device policy, where it goes.
public struct ResourceSpec: Sendable {
    public var limits = CgroupLimits()
    public var devicePolicy = DevicePolicy()
    /// lxc.cgroup.dir / OCI cgroupsPath: the cgroup as a path below swrun's own ("a/b").
    public var cgroupDirectory: String?
    /// lxc.cgroup.relative = 1: never outside swrun's own cgroup.
    public var cgroupRelative = false
    public init() {}
}

/// A program run at one point of the container's life.
public struct Hook: Sendable, Equatable {
    /// Where it came from, for messages: "lxc.hook.pre-start", "hooks.prestart[0]".
    public var label: String
    public var path: String
    public var args: [String]
    public var environment: [String]
    /// Seconds before it is killed and counts as failed; nil: no limit.
    public var timeout: Int?
    /// Runs with swrun's own environment under `environment` (LXC's hooks), or only `environment` (OCI's).
    public var inheritsEnvironment: Bool
    /// OCI hooks read the container's state on stdin.
    public var readsState: Bool
}

/// The points of a container's life where hooks run, with LXC's and OCI's names for them.
public struct HookSet: Sendable {
    /// Host, before anything is made (lxc.hook.pre-start).
    public var beforeStart: [Hook] = []
    /// In the mount namespace of the start's own, before the rootfs is mounted there
    /// (lxc.hook.pre-mount): what it mounts, the rootfs and the container see, the host never.
    public var beforeMount: [Hook] = []
    /// Host, the container's namespaces made, before its command (lxc.hook.start-host, OCI
    /// prestart and createRuntime); LXC_PID / the state give init's pid.
    public var runtimeCreated: [Hook] = []
    /// In the container's mount namespace before pivot_root, the host's programs
    /// (lxc.hook.mount, lxc.hook.autodev; OCI createContainer).
    public var mount: [Hook] = []
    public var autodev: [Hook] = []
    /// In the container before its command, with its capabilities dropped and its seccomp
    /// filter on (lxc.hook.start; OCI startContainer): the container's programs.
    public var start: [Hook] = []
    /// Host, once the command runs (OCI poststart).
    public var started: [Hook] = []
    /// Host, once the container is gone (lxc.hook.post-stop; OCI poststop).
    public var stopped: [Hook] = []
    public init() {}
}

/// How the monitor asks the container's init to halt, reboot or stop at once.
public struct ShutdownSignalSpec: Sendable, Equatable {
    public var halt: Int32?
    public var reboot: Int32?
    public var stop: Int32?
    public init(halt: Int32? = nil, reboot: Int32? = nil, stop: Int32? = nil) {
        (self.halt, self.reboot, self.stop) = (halt, reboot, stop)
    }
}
