import SwrunSystem

/// A container's settings with LXC's semantics applied and every value checked.
public struct ContainerConfig: Sendable {
    /// The settings this was made from, flat (includes expanded), in order.
    public var settings: [ConfigSetting]
    /// lxc.rootfs.path without its "dir:" prefix.
    public var rootfsPath: String?
    /// lxc.rootfs.path = overlay:...: layers under the container's own upper directory,
    /// mounted at its directory's rootfs when it starts.
    public var rootOverlay: RootOverlay?
    /// lxc.rootfs.path = loop:, lvm: or zfs:: a filesystem mounted on the container's
    /// directory's rootfs when it starts.
    public var rootDevice: RootDevice?
    /// lxc.rootfs.path's backend: dir, btrfs, overlay, loop, lvm or zfs.
    public var rootBackend = "dir"
    /// lxc.ephemeral = 1: the container is destroyed once it stops.
    public var ephemeral = false
    public var utsName: String?
    /// lxc.arch, when set (it is checked to be the host's own).
    public var architecture: String?
    public var mountAuto: MountAuto
    /// The lines of the lxc.mount.fstab file, then the lxc.mount.entry lines: LXC mounts them in that order.
    public var mountEntries: [MountEntry]
    /// LXC 5 populates /dev unless told otherwise (lxc_conf_init sets autodev = 1).
    public var autodev: Bool
    /// CapabilityNames to drop, lowercase without "cap_" ("sys_module").
    public var capDrop: [String]
    /// CapabilityNames to keep, dropping all others; ["none"] keeps nothing; empty means no keep list.
    public var capKeep: [String]
    public var environment: [EnvironmentEntry]
    public var initCmd: [String]?
    public var executeCmd: [String]?
    public var initUid: UInt32?
    public var initGid: UInt32?
    public var initCwd: String?
    /// lxc.init.groups: the supplementary groups of init and of attached processes.
    public var initGroups: [UInt32]
    /// lxc.prlimit.NAME, the last line of each resource, in key order.
    public var resourceLimits: [ResourceLimitSetting]
    /// lxc.rootfs.options: mount flags for the rootfs as it becomes / (ro, nosuid, nodev,
    /// noexec, noatime ...), set and cleared as the options say.
    public var rootfsFlags: (set: UInt, clear: UInt)
    public var noNewPrivs: Bool
    /// lxc.cgroup.dir: the container's cgroup, as a path below swrun's own cgroup ("a/b").
    public var cgroupDirectory: String?
    /// lxc.cgroup.relative = 1: never place the container's cgroup outside swrun's own.
    public var cgroupRelative: Bool
    /// lxc.seccomp.profile: an LXC seccomp profile file; without one, swrun's default filter applies.
    public var seccompProfile: String?
    /// lxc.seccomp.allow_nesting: the container may make user namespaces (and nest containers).
    public var seccompAllowNesting: Bool
    /// lxc.console.logfile: where the monitor of a started container appends the console's output.
    public var consoleLogFile: String?
    public var ttyMax: Int
    /// lxc.tty.dir: a directory of /dev ("lxc") that holds the console and ttys, with
    /// /dev/ttyN links to them, as LXC makes it.
    public var ttyDirectory: String?
    public var ptyMax: Int
    public var haltSignal: Int32?
    /// lxc.time.offset.boot and lxc.time.offset.monotonic: the container gets a time namespace
    /// of its own when either is set.
    public var bootTimeOffset: ClockOffset?
    public var monotonicTimeOffset: ClockOffset?
    public var rebootSignal: Int32?
    public var stopSignal: Int32?
    /// lxc.net.N.KEY as networks[N]["KEY"]; the lines of a list key (ipv4.address ...) are joined with "\n".
    public var networks: [Int: [String: String]]
    public var idmaps: [IDMap]
    /// lxc.namespace.share.KIND = a container's name, a pid, or a container's directory: the
    /// namespaces the container joins instead of making its own, by kind ("net").
    public var sharedNamespaces: [String: String]
    public static let shareableNamespaces = ["net", "uts", "ipc"]
    /// lxc.hook.pre-start, pre-mount, mount, autodev, start-host, start and post-stop, by type: the
    /// command lines in file order.
    public var hooks: [String: [String]]
    public static let appliedHooks = ["pre-start", "pre-mount", "mount", "autodev", "start-host", "start", "post-stop"]
    /// Settings with a non-empty value whose key swrun knows but does not apply yet, with
    /// the reason; the runtime warns about them.
    public var notYetApplied: [(setting: ConfigSetting, reason: String)]

    public static func load(_ path: String, loader: ConfigLoader = ConfigLoader()) throws(SwrunError) -> ContainerConfig {
        try ContainerConfig(settings: try loader.settings(ofFile: path))
    }

    public init(settings: [ConfigSetting]) throws(SwrunError) {
        try self.init(settings: settings, hostMachine: Architecture.hostMachine)
    }

    init(settings: [ConfigSetting], hostMachine: String) throws(SwrunError) {
        for setting in settings { try Self.check(setting) }
        let effective = EffectiveSettings.resolve(settings)
        func last(_ key: String) -> ConfigSetting? { effective.last { $0.key == key } }
        func all(_ key: String) -> [ConfigSetting] { effective.filter { $0.key == key } }

        self.settings = settings
        if let setting = last("lxc.rootfs.path") {
            let source = try Self.parsed(setting) { value throws(ValueError) in try RootfsSource.parse(value) }
            rootBackend = source.isOverlay ? "overlay" : source.backend
            if source.isOverlay {
                rootOverlay = try Self.parsed(setting) { _ throws(ValueError) in try RootOverlay.parse(source.path) }
            } else if let device = try Self.parsed(setting, { _ throws(ValueError) in try source.device() }) {
                rootDevice = device
            } else {
                rootfsPath = try Self.parsed(setting) { _ throws(ValueError) in try source.directory() }
            }
        }
        utsName = last("lxc.uts.name")?.value
        architecture = try last("lxc.arch").map { setting throws(SwrunError) in
            guard Architecture.personality(for: setting.value, hostMachine: hostMachine) != nil else {
                throw SwrunError.config(setting.location, "lxc.arch: this \(hostMachine) host cannot run '\(setting.value)' programs",
                                        hint: "use an image built for \(hostMachine) (or its 32-bit counterpart), or remove the lxc.arch line")
            }
            return setting.value
        }

        mountAuto = MountAuto()
        for setting in all("lxc.mount.auto") {
            var auto = mountAuto
            try Self.parsed(setting) { value throws(ValueError) in try auto.apply(value) }
            mountAuto = auto
        }
        mountEntries = try Self.fstabEntries(last("lxc.mount.fstab"))
        for setting in all("lxc.mount.entry") {
            mountEntries.append(try MountEntry.parse(setting.value, location: setting.location))
        }

        // LXC sets autodev to 0 for an empty value, not back to its default.
        let autodevSetting = settings.last { $0.key == "lxc.autodev" }
        autodev = autodevSetting.map { Numbers.unsigned32($0.value) == 1 } ?? true

        (capDrop, capKeep) = try Self.capabilities(in: effective)
        environment = try all("lxc.environment").map { setting throws(SwrunError) in try Self.parsed(setting, EnvironmentEntry.parse) }
        initCmd = Self.words(last("lxc.init.cmd"))
        executeCmd = Self.words(last("lxc.execute.cmd"))
        initUid = last("lxc.init.uid").flatMap { Numbers.unsigned32($0.value) }
        initGid = last("lxc.init.gid").flatMap { Numbers.unsigned32($0.value) }
        initCwd = last("lxc.init.cwd")?.value
        initGroups = all("lxc.init.groups").flatMap { $0.value.split(separator: ",").compactMap { Numbers.unsigned32($0) } }
        resourceLimits = try Self.resourceLimits(in: effective)
        rootfsFlags = try last("lxc.rootfs.options").map { setting throws(SwrunError) in
            try Self.parsed(setting, MountOptions.rootfsFlags)
        } ?? (0, 0)
        seccompProfile = last("lxc.seccomp.profile").flatMap { $0.value.isEmpty ? nil : $0.value }
        seccompAllowNesting = last("lxc.seccomp.allow_nesting").map { Numbers.unsigned32($0.value) == 1 } ?? false
        noNewPrivs = last("lxc.no_new_privs").map { Numbers.unsigned32($0.value) == 1 } ?? false
        ephemeral = last("lxc.ephemeral").map { Numbers.unsigned32($0.value) == 1 } ?? false
        cgroupDirectory = last("lxc.cgroup.dir").map(\.value).flatMap { $0.isEmpty ? nil : $0 }
        cgroupRelative = last("lxc.cgroup.relative").map { Numbers.unsigned32($0.value) == 1 } ?? false
        consoleLogFile = last("lxc.console.logfile").flatMap { $0.value.isEmpty ? nil : $0.value }
        ttyMax = last("lxc.tty.max").flatMap { Numbers.unsigned32($0.value) }.map(Int.init) ?? 0
        ttyDirectory = last("lxc.tty.dir").flatMap { $0.value.isEmpty ? nil : $0.value }
        ptyMax = last("lxc.pty.max").flatMap { Numbers.unsigned32($0.value) }.map(Int.init) ?? 0
        haltSignal = last("lxc.signal.halt").flatMap { SignalNames.parse($0.value) }
        bootTimeOffset = try last("lxc.time.offset.boot").flatMap { setting throws(SwrunError) in
            setting.value.isEmpty ? nil : try Self.parsed(setting, ClockOffset.parseLXC)
        }
        monotonicTimeOffset = try last("lxc.time.offset.monotonic").flatMap { setting throws(SwrunError) in
            setting.value.isEmpty ? nil : try Self.parsed(setting, ClockOffset.parseLXC)
        }
        rebootSignal = last("lxc.signal.reboot").flatMap { SignalNames.parse($0.value) }
        stopSignal = last("lxc.signal.stop").flatMap { SignalNames.parse($0.value) }
        idmaps = try all("lxc.idmap").map { setting throws(SwrunError) in try Self.parsed(setting, IDMap.parse) }
        hooks = [:]
        for kind in Self.appliedHooks {
            let lines = all("lxc.hook." + kind).map(\.value)
            if !lines.isEmpty { hooks[kind] = lines }
        }
        sharedNamespaces = [:]
        for kind in Self.shareableNamespaces {
            if let target = last("lxc.namespace.share." + kind)?.value, !target.isEmpty { sharedNamespaces[kind] = target }
        }

        networks = [:]
        for setting in effective {
            guard let (index, subkey) = ConfigKey.networkIndex(of: setting.key), !subkey.isEmpty else { continue }
            if let earlier = networks[index]?[subkey], ConfigKeys.lookup(setting.key)?.kind == .list {
                networks[index, default: [:]][subkey] = earlier + "\n" + setting.value
            } else {
                networks[index, default: [:]][subkey] = setting.value
            }
        }

        notYetApplied = effective.compactMap { setting in
            ConfigKeys.lookup(setting.key)?.notAppliedReason(for: setting.value).map { (setting, $0) }
        }
    }

    /// Refuses an unknown key, a value on a clear-only key, and a value its row's rule rejects.
    private static func check(_ setting: ConfigSetting) throws(SwrunError) {
        guard let row = ConfigKeys.lookup(setting.key) else {
            throw SwrunError.config(setting.location, "unknown configuration key '\(setting.key)'",
                                    hint: Suggestions.hint(forUnknownKey: setting.key))
        }
        if setting.value.isEmpty { return }
        if row.kind == .clearOnly {
            throw SwrunError.config(setting.location, "\(setting.key) takes no value",
                                    hint: "'\(setting.key) =' with nothing after it clears \(setting.key).*; to set something, name a key below it")
        }
        do {
            try row.rule.check(setting.value)
        } catch {
            throw SwrunError.config(setting.location, "\(setting.key): \(error.message)", hint: error.hint)
        }
    }

    /// Parses a value that check() already accepted; a failure is still reported with
    /// its location rather than trapped.
    private static func parsed<T>(_ setting: ConfigSetting, _ parse: (String) throws(ValueError) -> T) throws(SwrunError) -> T {
        do { return try parse(setting.value) } catch {
            throw SwrunError.config(setting.location, "\(setting.key): \(error.message)", hint: error.hint)
        }
    }

    /// lxc.cap.drop and lxc.cap.keep share one list in LXC, so only one of them may be used;
    /// in lxc.cap.keep, "none" empties what was kept so far.
    private static func capabilities(in effective: [ConfigSetting]) throws(SwrunError) -> (drop: [String], keep: [String]) {
        let firstDrop = effective.firstIndex { $0.key == "lxc.cap.drop" }
        let firstKeep = effective.firstIndex { $0.key == "lxc.cap.keep" }
        if let firstDrop, let firstKeep {
            let later = effective[max(firstDrop, firstKeep)]
            throw SwrunError.config(later.location, "lxc.cap.drop and lxc.cap.keep cannot both be used",
                                    hint: "list what stays (lxc.cap.keep) or what goes (lxc.cap.drop), not both; an empty 'lxc.cap.drop =' clears both")
        }
        var drop: [String] = []
        var keep: [String] = []
        var keepNothing = false
        for setting in effective where setting.key == "lxc.cap.drop" || setting.key == "lxc.cap.keep" {
            let isKeep = setting.key == "lxc.cap.keep"
            for name in try Self.parsed(setting, { value throws(ValueError) in try CapabilityNames.parse(value, keep: isKeep) }) {
                if name == "none" {
                    keep = []
                    keepNothing = true
                } else if isKeep {
                    if !keep.contains(name) { keep.append(name) }
                } else if !drop.contains(name) {
                    drop.append(name)
                }
            }
        }
        if keep.isEmpty && keepNothing { keep = ["none"] }
        return (drop, keep)
    }

    /// lxc.prlimit.NAME lines; "lxc.prlimit =" (handled by EffectiveSettings) clears them all.
    private static func resourceLimits(in effective: [ConfigSetting]) throws(SwrunError) -> [ResourceLimitSetting] {
        var limits: [ResourceLimitSetting] = []
        for setting in effective where setting.key.hasPrefix("lxc.prlimit.") {
            let name = String(setting.key.dropFirst("lxc.prlimit.".count))
            limits.removeAll { $0.name == name }
            guard !setting.value.isEmpty else { continue }
            limits.append(try parsed(setting) { value throws(ValueError) in try ResourceLimitSetting.parse(name: name, value) })
        }
        return limits
    }

    /// The command split at spaces, as LXC's split_init_cmd does (no quoting).
    private static func words(_ setting: ConfigSetting?) -> [String]? {
        guard let setting else { return nil }
        let words = setting.value.split(separator: " ").map(String.init)
        return words.isEmpty ? nil : words
    }

    /// The entries of lxc.mount.fstab; a relative path is taken from the config file's directory.
    private static func fstabEntries(_ setting: ConfigSetting?) throws(SwrunError) -> [MountEntry] {
        guard let setting else { return [] }
        var path = setting.value
        if !path.hasPrefix("/") {
            let directory = FileSystem.parentPath(setting.location.file)
            path = FileSystem.join(directory.isEmpty ? "." : directory, path)
        }
        do {
            return try MountEntry.entries(ofFstab: path)
        } catch {
            if error.code == .invalidConfig { throw error }
            throw SwrunError(error.code, "\(setting.location): lxc.mount.fstab: cannot read \(path)", errno: error.errno,
                             hint: "check the path; a relative path is taken from the config file's directory")
        }
    }
}
