import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// The LXC front end: a container's config (its lxc.* keys with LXC's semantics), the
/// command chosen for it, and the host's environment, as a spec.
extension ContainerSpec {
    /// `command` is what runs (chosen by the caller from the command line, lxc.init.cmd,
    /// lxc.execute.cmd or swrun.json); `mode` decides which unapplied keys are worth a warning.
    public init(lxc config: ContainerConfig, name: String, directory: String, command: [String], commandOrigin: String = "the command",
                mode: LaunchMode, terminal: Bool, hostEnvironment: [String: String]) throws(SwrunError) {
        let profile = try ProcessProfile(config: config, containerDirectory: directory, hostEnvironment: hostEnvironment)
        var process = ProcessSpec(args: command, profile: profile)
        process.argsOrigin = commandOrigin
        process.terminal = terminal
        self.init(rootfs: Self.rootfsPath(config, directory: directory), process: process)
        rootOverlay = config.rootOverlay
        rootDevice = config.rootDevice
        readOnlyRoot = config.rootfsFlags.set & MountOptions.readOnly != 0
        rootFlags = (config.rootfsFlags.set & ~MountOptions.readOnly, config.rootfsFlags.clear)
        hostname = config.utsName
        hostnameIsName = true
        filesystems = KernelFilesystems(config.mountAuto)
        applyStandardMasks()
        // LXC's order: lxc.mount.auto's filesystems, /dev, then the fstab and lxc.mount.entry lines.
        mounts = [filesystems.proc.map { _ in .proc }, filesystems.sys.map { _ in .sysfs }, filesystems.cgroup.map { _ in .cgroup }]
            .compactMap { $0 } + [.dev, .devpts] + config.mountEntries.map { .entry($0) }
        devices.standardNodes = config.autodev
        devices.ptyMax = config.ptyMax
        devices.ttyCount = config.ttyMax
        devices.ttyDirectory = config.ttyDirectory
        namespaces.joined = config.sharedNamespaces
        if config.bootTimeOffset != nil || config.monotonicTimeOffset != nil {
            // As LXC: a time namespace only where an offset asks for one.
            var offsets = TimeOffsets()
            if let boot = config.bootTimeOffset { offsets.boottime = boot }
            if let monotonic = config.monotonicTimeOffset { offsets.monotonic = monotonic }
            timeNamespace = offsets
        }
        namespaces.hostNetwork = config.networks.values.contains { $0["type"] == "none" }
        if namespaces.hostNetwork && config.networks.count > 1 {
            // LXC refuses `none` beside other networks: there is no namespace to put them in.
            throw SwrunError(.invalidConfig, "lxc.net.N.type = none shares the host's network, so the container can have no other lxc.net.N",
                             hint: "keep only the lxc.net.N with type none, or give every network a type other than none")
        }
        idMaps = config.idmaps
        networks = try NetworkLink.networks(of: config, identity: directory)
        resources.limits = try Self.limits(from: config.settings)
        resources.devicePolicy = try Self.devicePolicy(from: config.settings)
        resources.cgroupDirectory = config.cgroupDirectory
        resources.cgroupRelative = config.cgroupRelative
        hooks = Self.hooks(config, name: name, directory: directory, rootfs: rootfs)
        signals = ShutdownSignalSpec(halt: config.haltSignal, reboot: config.rebootSignal, stop: config.stopSignal)
        consoleLogFile = config.consoleLogFile
        let appArmor = AppArmor.isEnabled()
        warnings = Self.notAppliedWarnings(config.notYetApplied.filter {
            (mode == .boot || Self.mattersForExecute($0.setting.key)) && !Self.isAppliedLimit($0.setting.key)
                && (appArmor || $0.reason != ConfigKeys.appArmorGenerated)
        })
        let label = AppArmor.execProfile(config.settings.last { $0.key == "lxc.apparmor.profile" }?.value, enabled: appArmor)
        self.process.profile.appArmorProfile = label.profile
        if let warning = label.warning { warnings.append(warning) }
    }

    /// The host-only kernel files that proc and sys show: hidden, or read-only, as LXC's
    /// proc:mixed and sys:mixed leave them (and as runc and crun do).
    private mutating func applyStandardMasks() {
        if let proc = filesystems.proc {
            if proc == .mixed {
                readOnlyPaths += ["/proc/sys", "/proc/sysrq-trigger"] + Self.readOnlyProcDirectories
                writablePaths.append("/proc/sys/net")
            }
            maskedPaths += Self.maskedProcFiles + Self.maskedProcDirectories
        }
        if let sys = filesystems.sys {
            if sys == .mixed { writablePaths.append("/sys/devices/virtual/net") }
            maskedPaths += Self.maskedSysDirectories
        }
    }

    /// Kernel files that describe or reach the host, not the container: the host's memory
    /// (kcore, kpage*), its keyrings, its kernel log, timers and scheduler internals.
    static let maskedProcFiles = ["/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/kmsg", "/proc/kpagecount",
                                  "/proc/kpageflags", "/proc/kpagecgroup", "/proc/latency_stats", "/proc/timer_list",
                                  "/proc/timer_stats", "/proc/sched_debug"]
    static let maskedProcDirectories = ["/proc/acpi", "/proc/asound", "/proc/scsi"]
    /// Host-wide kernel settings outside /proc/sys: IRQ affinity, filesystem and bus tunables.
    static let readOnlyProcDirectories = ["/proc/bus", "/proc/fs", "/proc/irq"]
    static let maskedSysDirectories = ["/sys/firmware", "/sys/devices/virtual/powercap"]

    /// lxc.rootfs.path, a relative path taken from the container's directory (the pre-start
    /// hook may be what makes it: the plan checks it is there). An overlay is mounted on the
    /// directory's rootfs.
    static func rootfsPath(_ config: ContainerConfig, directory: String) -> String {
        let path = config.rootOverlay == nil && config.rootDevice == nil ? config.rootfsPath ?? "rootfs" : "rootfs"
        return path.hasPrefix("/") ? path : FileSystem.join(directory, path)
    }

    // MARK: hooks

    /// LXC runs a hook as `sh -c "exec HOOK NAME lxc TYPE"` with its LXC_* variables; hooks on
    /// the host keep swrun's environment under them, those in the container get a PATH alone.
    static func hooks(_ config: ContainerConfig, name: String, directory: String, rootfs: String) -> HookSet {
        func hooks(_ kind: String, inContainer: Bool = false) -> [Hook] {
            (config.hooks[kind] ?? []).map { line in
                var environment = ["LXC_NAME=\(name)", "LXC_CONFIG_FILE=\(FileSystem.join(directory, "config"))", "LXC_ROOTFS_PATH=\(rootfs)",
                                   "LXC_ROOTFS_MOUNT=\(inContainer ? "/" : rootfs)", "LXC_HOOK_TYPE=\(kind)", "LXC_HOOK_SECTION=lxc"]
                let inMountNamespace = kind == "mount" || kind == "autodev"
                if inContainer || inMountNamespace { environment.insert("PATH=\(StartPlan.defaultPath)", at: 0) }
                return Hook(label: "lxc.hook.\(kind) = \(line)", path: "/bin/sh", args: ["sh", "-c", "exec \(line) \(name) lxc \(kind)"], environment: environment,
                            timeout: nil, inheritsEnvironment: !(inContainer || inMountNamespace), readsState: false)
            }
        }
        var set = HookSet()
        set.beforeStart = hooks("pre-start")
        set.beforeMount = hooks("pre-mount")
        set.runtimeCreated = hooks("start-host")
        set.mount = hooks("mount")
        set.autodev = config.autodev ? hooks("autodev") : []
        set.start = hooks("start", inContainer: true)
        set.stopped = hooks("post-stop")
        return set
    }

    // MARK: cgroup limits and devices

    /// Checks the limits of command-line settings (--memory, -s lxc.cgroup2.*) before anything is made.
    public static func check(limits settings: [ConfigSetting]) throws(SwrunError) {
        _ = try ContainerConfig(settings: settings)
        _ = try limits(from: settings)
    }

    /// The limits in the settings, in their order; cgroup keys swrun does not apply are left
    /// for the warnings.
    static func limits(from settings: [ConfigSetting]) throws(SwrunError) -> CgroupLimits {
        var limits = CgroupLimits()
        for setting in settings {
            let origin = "\(setting.location)"
            if setting.value.isEmpty {
                // An empty value clears, as in LXC: all limits for "lxc.cgroup2 =", one key otherwise.
                if setting.key == "lxc.cgroup2" || setting.key == "lxc.cgroup" {
                    limits = CgroupLimits()
                } else if setting.key.hasPrefix("lxc.cgroup2.") {
                    limits.clear(v2: String(setting.key.dropFirst("lxc.cgroup2.".count)))
                } else if setting.key.hasPrefix("lxc.cgroup.") {
                    limits.clear(v1: String(setting.key.dropFirst("lxc.cgroup.".count)))
                }
                continue
            }
            if setting.key.hasPrefix("lxc.cgroup2.") {
                let key = String(setting.key.dropFirst("lxc.cgroup2.".count))
                if CgroupLimits.applies(v2: key) { try limits.set(v2: key, setting.value, origin: origin) }
            } else if setting.key.hasPrefix("lxc.cgroup.") {
                let file = String(setting.key.dropFirst("lxc.cgroup.".count))
                if CgroupLimits.applies(v1: file) { try limits.set(v1: file, setting.value, origin: origin) }
            }
        }
        return limits
    }

    /// lxc.cgroup.devices.allow and deny (and the lxc.cgroup2 ones, the same syntax, as LXC
    /// reads them on either kind of host), in order, over the standard nodes.
    static func devicePolicy(from settings: [ConfigSetting]) throws(SwrunError) -> DevicePolicy {
        var policy = DevicePolicy()
        for setting in settings {
            let (key, value) = (setting.key, setting.value)
            if (key == "lxc.cgroup" || key == "lxc.cgroup2" || deviceKeys.contains(key)) && value.isEmpty {
                policy = DevicePolicy()  // an empty value clears, as in LXC
                continue
            }
            guard deviceKeys.contains(key) else { continue }
            do {
                try policy.add(value, allow: key.hasSuffix(".allow"))
            } catch {
                throw SwrunError(.invalidConfig, "\(setting.location): \(key): \(error.message)", hint: error.hint)
            }
        }
        return policy
    }

    static let deviceKeys: Set<String> = ["lxc.cgroup.devices.allow", "lxc.cgroup.devices.deny", "lxc.cgroup2.devices.allow", "lxc.cgroup2.devices.deny"]

    static func isAppliedLimit(_ key: String) -> Bool {
        if deviceKeys.contains(key) { return true }
        if key.hasPrefix("lxc.cgroup2.") { return CgroupLimits.applies(v2: String(key.dropFirst("lxc.cgroup2.".count))) }
        if key.hasPrefix("lxc.cgroup.") { return CgroupLimits.applies(v1: String(key.dropFirst("lxc.cgroup.".count))) }
        return false
    }

    // MARK: warnings

    /// One warning per reason, naming each key with its place: "not applied, as networking
    /// is not built yet: lxc.net.0.type (config:5), lxc.net.0.link (config:6)".
    static func notAppliedWarnings(_ settings: [(setting: ConfigSetting, reason: String)]) -> [String] {
        var reasons: [String] = []
        var keys: [String: [String]] = [:]
        for (setting, reason) in settings {
            if keys[reason] == nil { reasons.append(reason) }
            keys[reason, default: []].append("\(setting.key) (\(setting.location))")
        }
        return reasons.map { "not applied, as \($0): " + (keys[$0] ?? []).joined(separator: ", ") }
    }

    /// Keys that only a booted system container uses (halt signals, ttys, autostart, logs):
    /// running a command, as lxc-execute does, ignores them by design, so they earn no warning.
    static func mattersForExecute(_ key: String) -> Bool {
        let bootOnly = ["lxc.signal.", "lxc.tty.", "lxc.start.", "lxc.group", "lxc.console.", "lxc.log.", "lxc.monitor."]
        return !bootOnly.contains { key.hasPrefix($0) }
    }
}

extension KernelFilesystems {
    init(_ auto: MountAuto) {
        self.init()
        proc = auto.proc
        sys = auto.sys
        cgroup = auto.cgroup
        cgroupKind = auto.cgroupKind
    }
}

extension ContainerStore {
    /// The spec of container `name` in this LXCPATH: its config with `extra` settings after its
    /// own, its swrun.json, and the command (`command`, else the config's or the image's, else
    /// the mode's default: a shell for execute, /sbin/init for boot).
    func spec(of name: String, adding extra: [ConfigSetting] = [], command: [String]?, mode: LaunchMode,
              terminal: Bool) throws(SwrunError) -> (spec: ContainerSpec, sidecar: ContainerSidecar, ephemeral: Bool) {
        let config = try self.config(of: name, adding: extra)
        let sidecar = try ContainerSidecar.load(from: directory(of: name))
        let (argv, origin) = Self.command(command, config: config, sidecar: sidecar, mode: mode)
        var spec = try ContainerSpec(lxc: config, name: name, directory: directory(of: name), command: argv, commandOrigin: origin,
                                     mode: mode, terminal: terminal, hostEnvironment: HostEnvironment.current())
        if sidecar.image != nil {
            // What Docker gives a container from an image: HOSTNAME (the image's Env and
            // lxc.environment come after it, so they win) and a WorkingDir made when missing.
            spec.process.profile.environment.insert("HOSTNAME=" + (config.utsName ?? name), at: 0)
        }
        spec.process.createsWorkingDirectory = sidecar.image != nil || sidecar.makesWorkingDirectory
        spec.extraHosts = sidecar.extraHosts
        spec.dnsServers = sidecar.dnsServers
        return (spec, sidecar, config.ephemeral)
    }

    /// What runs, and where that came from (for the message when it is not in the rootfs).
    static func command(_ given: [String]?, config: ContainerConfig, sidecar: ContainerSidecar, mode: LaunchMode) -> ([String], String) {
        if let given, !given.isEmpty { return (given, "the command") }
        if mode == .execute, let command = config.executeCmd { return (command, "lxc.execute.cmd") }
        if let command = config.initCmd { return (command, "lxc.init.cmd") }
        if let command = sidecar.argv { return (command, "the image's command") }
        return mode == .boot ? (["/sbin/init"], "the default init") : (["/bin/sh"], "the default shell")
    }
}
