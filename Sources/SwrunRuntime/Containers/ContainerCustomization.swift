import SwrunConfig
import SwrunImages
import SwrunSystem

/// What the flags of `swrun run` and `swrun create` (Docker's) change in a new container,
/// written as LXC's keys wherever LXC has one (so that lxc-start reads the same container),
/// and in swrun.json where it has none.
public struct ContainerCustomization: Sendable {
    /// -e NAME=VALUE and --env-file lines (lxc.environment).
    public var environment: [String] = []
    /// -v, --mount and --tmpfs (lxc.mount.entry).
    public var mounts: [VolumeMount] = []
    /// -w (lxc.init.cwd; made if missing when the container starts, as Docker makes it).
    public var workingDirectory: String?
    /// -u USER[:GROUP], resolved in the image's /etc/passwd and /etc/group as the container is
    /// made: ids, supplementary groups and home (lxc.init.uid, gid, groups, HOME).
    public var user: String?
    /// --entrypoint: replaces the image's entrypoint and drops its command, as Docker does.
    public var entrypoint: [String]?
    /// The command given to `run` after the image: kept (after the entrypoint) as what the
    /// container runs, for `start`, `restart` and --restart too.
    public var command: [String]?
    /// --hostname (lxc.uts.name).
    public var hostname: String?
    /// --network (lxc.net.0.*).
    public var network: NetworkMode?
    /// --read-only (lxc.rootfs.options = ro).
    public var readOnlyRoot = false
    /// --cap-add and --cap-drop, canonical names or "all".
    public var addedCapabilities: [String] = []
    public var droppedCapabilities: [String] = []
    /// --privileged: every capability, every device, writable /proc/sys and /sys, nesting.
    public var privileged = false
    /// --ulimit NAME=SOFT[:HARD] (lxc.prlimit.NAME).
    public var resourceLimits: [(name: String, value: String)] = []
    /// --stop-signal (lxc.signal.halt).
    public var stopSignal: String?
    /// --memory, --cpus, --pids, --cpuset of `create` as their lxc.cgroup2 keys.
    public var limits: [(key: String, value: String)] = []
    /// -d --rm: the container goes when it stops (lxc.ephemeral).
    public var ephemeral = false
    /// Kept in swrun.json: labels, stop timeout, restart policy, resolvers, hosts lines, ports.
    public var labels: [String: String] = [:]
    public var stopTimeout: Int?
    public var restart: RestartPolicy?
    public var dnsServers: [String] = []
    public var extraHosts: [HostEntry] = []
    public var ports: [PortPublication] = []
    /// The console's output is kept in LXCPATH/NAME/console.log for `swrun logs`.
    public var keepsConsoleLog = false

    public init() {}

    /// How the container reaches a network (Docker's --network).
    public enum NetworkMode: Equatable, Sendable {
        /// --network none: a network namespace with only its loopback (lxc.net.0.type = empty;
        /// not named `none`, which an Optional would read as nil).
        case empty
        /// The host's network namespace (lxc.net.0.type = none).
        case host
        /// A veth on this bridge, with an address leased from it.
        case bridge(String)

        public init(parsing text: String) {
            switch text {
            case "none": self = .empty
            case "host": self = .host
            case "bridge", "default": self = .bridge(HostBridge.defaultName)
            default: self = .bridge(text)
            }
        }
    }

    /// Applies the flags to a new container's config and sidecar.
    public func apply(to config: inout ConfigFile, sidecar: inout ContainerSidecar, containerDirectory: String, account: ImageUser.Account?) {
        for variable in environment { config.append("lxc.environment", variable) }
        for mount in mounts { config.append("lxc.mount.entry", mount.entryLine) }
        if let workingDirectory {
            config.set("lxc.init.cwd", workingDirectory)
            sidecar.makesWorkingDirectory = true
        }
        if let user = account {
            config.set("lxc.init.uid", String(user.uid))
            config.set("lxc.init.gid", String(user.gid))
            config.removeAll("lxc.init.groups")
            if !user.groups.isEmpty { config.append("lxc.init.groups", user.groups.map(String.init).joined(separator: ",")) }
            if let home = user.home, !environment.contains(where: { $0.hasPrefix("HOME=") }) { config.append("lxc.environment", "HOME=" + home) }
        }
        if let entrypoint {
            sidecar.entrypoint = entrypoint
            sidecar.command = []
        }
        if let command { sidecar.command = command }
        if entrypoint != nil || command != nil {
            // lxc.init.cmd splits at spaces: it holds the argv only when no word has one.
            let argv = sidecar.entrypoint + sidecar.command
            if argv.isEmpty || argv.contains(where: { $0.contains(" ") || $0.isEmpty }) {
                config.removeAll("lxc.init.cmd")
            } else {
                config.set("lxc.init.cmd", argv.joined(separator: " "))
            }
        }
        if let hostname { config.set("lxc.uts.name", hostname) }
        if let network { apply(network, to: &config) }
        applyCapabilities(to: &config)
        if privileged {
            config.set("lxc.mount.auto", "proc:rw sys:rw cgroup:rw")
            config.set("lxc.cgroup.devices.allow", "a")
            config.set("lxc.seccomp.allow_nesting", "1")
        }
        if readOnlyRoot { config.set("lxc.rootfs.options", "ro") }
        for (name, value) in resourceLimits { config.set("lxc.prlimit." + name, value) }
        for (key, value) in limits { config.set(key, value) }
        if let stopSignal { config.set("lxc.signal.halt", stopSignal) }
        if ephemeral { config.set("lxc.ephemeral", "1") }
        if keepsConsoleLog { config.set("lxc.console.logfile", FileSystem.join(containerDirectory, Self.consoleLogName)) }
        sidecar.labels.merge(labels) { $1 }
        if let stopTimeout { sidecar.stopTimeout = stopTimeout }
        if let restart { sidecar.restart = restart }
        if !dnsServers.isEmpty { sidecar.dnsServers = dnsServers }
        sidecar.extraHosts += extraHosts
        sidecar.ports += ports
    }

    public static let consoleLogName = "console.log"

    /// Replaces every lxc.net line with one network.
    private func apply(_ network: NetworkMode, to config: inout ConfigFile) {
        for key in Set(config.settings.map(\.key).filter { $0 == "lxc.net" || $0.hasPrefix("lxc.net.") }) { config.removeAll(key) }
        switch network {
        case .empty:
            config.append("lxc.net.0.type", "empty")
        case .host:
            config.append("lxc.net.0.type", "none")
        case .bridge(let bridge):
            config.append("lxc.net.0.type", "veth")
            config.append("lxc.net.0.link", bridge)
            config.append("lxc.net.0.flags", "up")  // the address is leased from the bridge as it starts
        }
    }

    /// Docker's flags over LXC's lists: a keep list grows and shrinks where the config has
    /// one, else the drop list does (starting from swrun's default drops); "all" empties or
    /// fills it.
    private func applyCapabilities(to config: inout ConfigFile) {
        guard privileged || !addedCapabilities.isEmpty || !droppedCapabilities.isEmpty else { return }
        let settings = config.settings
        let keepLines = settings.filter { $0.key == "lxc.cap.keep" }.flatMap { $0.value.split(separator: " ").map(String.init) }
        config.removeAll("lxc.cap.keep")
        if privileged || addedCapabilities.contains("all") {
            config.removeAll("lxc.cap.drop")
            let dropped = droppedCapabilities.filter { $0 != "all" }
            // An empty drop line says "drop nothing", where no line at all means swrun's defaults.
            config.append("lxc.cap.drop", dropped.joined(separator: " "))
            return
        }
        if droppedCapabilities.contains("all") || !keepLines.isEmpty {
            var keep = droppedCapabilities.contains("all") ? [] : keepLines.filter { $0 != "none" }
            keep = keep.filter { !droppedCapabilities.contains($0) }
            for name in addedCapabilities where !keep.contains(name) { keep.append(name) }
            config.removeAll("lxc.cap.drop")
            config.append("lxc.cap.keep", keep.isEmpty ? "none" : keep.joined(separator: " "))
            return
        }
        let hasDropLine = settings.contains { $0.key == "lxc.cap.drop" }
        var drop = hasDropLine ? (try? ContainerConfig(settings: settings).capDrop) ?? [] : StartPlan.defaultCapDrop
        drop = drop.filter { !addedCapabilities.contains($0) }
        for name in droppedCapabilities where !drop.contains(name) { drop.append(name) }
        config.removeAll("lxc.cap.drop")
        config.append("lxc.cap.drop", drop.joined(separator: " "))
    }
}

/// One -v, --mount or --tmpfs: a host directory, a named volume's directory, or a tmpfs.
public struct VolumeMount: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        case bind(String)
        /// A named volume: its directory under the cache (made when the container is created).
        case volume(name: String, directory: String)
        case tmpfs(options: [String])
    }

    public var source: Source
    /// An absolute path inside the container.
    public var target: String
    public var readOnly = false

    public init(source: Source, target: String, readOnly: Bool = false) {
        (self.source, self.target, self.readOnly) = (source, target, readOnly)
    }

    /// The lxc.mount.entry line: the target relative to the rootfs, made if missing.
    public var entryLine: String {
        let target = MountEntry.encode(String(self.target.drop { $0 == "/" }))
        switch source {
        case .bind(let path), .volume(_, let path):
            let create = FileSystem.isDirectory(path) ? "create=dir" : "create=file"
            // bind, not rbind: what is mounted below the source stays out, so `ro` holds for all of it.
            return "\(MountEntry.encode(path)) \(target) none bind,\(create)\(readOnly ? ",ro" : "") 0 0"
        case .tmpfs(let options):
            let all = ["nosuid", "nodev"] + options + (readOnly ? ["ro"] : []) + ["create=dir"]
            return "tmpfs \(target) tmpfs \(all.joined(separator: ",")) 0 0"
        }
    }
}
