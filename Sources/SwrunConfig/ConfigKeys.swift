/// The key table: every key LXC 5 accepts (src/lxc/confile.c), one row each.
/// Adding a key is adding a row.
public enum ConfigKeys {
    // Why each group is not applied yet, shown to the user as a warning.
    static let networking = "swrun does not apply this network key (it builds veth, macvlan, ipvlan, vlan, phys, empty and none networks from link, name, flags, hwaddr, mtu, the ipv4 and ipv6 addresses and gateways, veth.pair and the type's mode or id)"
    static let cgroups = "swrun applies only memory, cpu, pids and cpuset limits so far"
    static let hooks = "swrun runs the pre-start, pre-mount, mount, autodev, start-host, start and post-stop hooks, not this one"
    static let console = "the console is not configurable yet"
    static let logging = "per-container logging settings are not used yet"
    static let lsm = "security modules are not set up yet"
    /// Read by the runtime to drop these warnings on a host without AppArmor.
    public static let appArmorGenerated = "swrun does not generate AppArmor profiles (LXC's lxc.apparmor.profile = generated)"

    public static let all: [ConfigKey] = [
        // Applied by swrun now.
        ConfigKey(.exact("lxc.include"), .list, .path, .applied),
        ConfigKey(.exact("lxc.rootfs.path"), .single, .rootfs, .applied),
        ConfigKey(.exact("lxc.uts.name"), .single, .hostname, .applied),
        ConfigKey(.exact("lxc.mount.auto"), .list, .mountAuto, .applied),
        ConfigKey(.exact("lxc.mount.entry"), .list, .mountEntry, .applied),
        ConfigKey(.exact("lxc.mount.fstab"), .single, .path, .applied),
        ConfigKey(.exact("lxc.autodev"), .single, .boolean, .applied),
        ConfigKey(.exact("lxc.cap.drop"), .list, .capabilities(keep: false), .applied, alsoClears: ["lxc.cap.keep"]),
        ConfigKey(.exact("lxc.cap.keep"), .list, .capabilities(keep: true), .applied, alsoClears: ["lxc.cap.drop"]),
        ConfigKey(.exact("lxc.environment"), .list, .environment, .applied),
        ConfigKey(.exact("lxc.init.cmd"), .single, .text, .applied),
        ConfigKey(.exact("lxc.init.uid"), .single, .unsigned, .applied),
        ConfigKey(.exact("lxc.init.gid"), .single, .unsigned, .applied),
        ConfigKey(.exact("lxc.init.cwd"), .single, .path, .applied),
        ConfigKey(.exact("lxc.execute.cmd"), .single, .text, .applied),
        ConfigKey(.exact("lxc.no_new_privs"), .single, .boolean, .applied),
        ConfigKey(.exact("lxc.pty.max"), .single, .unsigned, .applied),
        ConfigKey(.exact("lxc.arch"), .single, .architecture, .applied),

        // Networks.
        ConfigKey(.exact("lxc.net"), .clearOnly, .text, .notApplied(networking)),
        ConfigKey(.networkDevice, .clearOnly, .text, .notApplied(networking)),
        ConfigKey(.network("type"), .single, .choice(["veth", "macvlan", "ipvlan", "vlan", "phys", "empty", "none"]),
                  .applied),
        ConfigKey(.network("flags"), .single, .choice(["up"]), .applied),
        ConfigKey(.network("hwaddr"), .single, .hardwareAddress, .applied),
        ConfigKey(.network("ipv4.address"), .list, .text, .applied),
        ConfigKey(.network("ipv4.gateway"), .single, .text, .applied),
        ConfigKey(.network("ipv6.address"), .list, .text, .applied),
        ConfigKey(.network("ipv6.gateway"), .single, .text, .applied),
        ConfigKey(.network("link"), .single, .text, .applied),
        ConfigKey(.network("l2proxy"), .single, .boolean, .notApplied(networking)),
        ConfigKey(.network("macvlan.mode"), .single, .choice(["private", "vepa", "bridge", "passthru"]), .applied),
        ConfigKey(.network("ipvlan.mode"), .single, .choice(["l3", "l3s", "l2"]), .applied),
        ConfigKey(.network("ipvlan.isolation"), .single, .choice(["bridge", "private", "vepa"]), .applied),
        ConfigKey(.network("mtu"), .single, .unsigned, .applied),
        ConfigKey(.network("name"), .single, .text, .applied),
        ConfigKey(.network("script.up"), .single, .path, .notApplied(networking)),
        ConfigKey(.network("script.down"), .single, .path, .notApplied(networking)),
        ConfigKey(.network("vlan.id"), .single, .vlanID, .applied),
        ConfigKey(.network("veth.mode"), .single, .choice(["bridge", "router"]), .notApplied(networking)),
        ConfigKey(.network("veth.n_rxqueues"), .single, .unsigned, .notApplied(networking)),
        ConfigKey(.network("veth.n_txqueues"), .single, .unsigned, .notApplied(networking)),
        ConfigKey(.network("veth.pair"), .single, .text, .applied),
        ConfigKey(.network("veth.ipv4.route"), .list, .text, .notApplied(networking)),
        ConfigKey(.network("veth.ipv6.route"), .list, .text, .notApplied(networking)),
        ConfigKey(.network("veth.vlan.id"), .single, .vlanIDOrNone, .notApplied(networking)),
        ConfigKey(.network("veth.vlan.tagged.id"), .list, .vlanID, .notApplied(networking)),

        // Cgroups. lxc.cgroup.* is cgroup v1, which LXC 5 still reads.
        ConfigKey(.exact("lxc.cgroup"), .clearOnly, .text, .notApplied(cgroups)),
        ConfigKey(.prefix("lxc.cgroup.", suffixes: nil), .list, .text, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup2"), .clearOnly, .text, .notApplied(cgroups)),
        ConfigKey(.prefix("lxc.cgroup2.", suffixes: nil), .list, .text, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup.dir"), .single, .relativePath, .applied),
        ConfigKey(.exact("lxc.cgroup.dir.container"), .single, .relativePath, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup.dir.container.inner"), .single, .directoryName, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup.dir.monitor"), .single, .relativePath, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup.dir.monitor.pivot"), .single, .relativePath, .notApplied(cgroups)),
        ConfigKey(.exact("lxc.cgroup.relative"), .single, .boolean, .applied),

        // User namespaces.
        ConfigKey(.exact("lxc.idmap"), .list, .idmap, .applied),

        // Security.
        ConfigKey(.exact("lxc.seccomp.profile"), .single, .path, .applied),
        ConfigKey(.exact("lxc.seccomp.allow_nesting"), .single, .boolean, .applied),
        ConfigKey(.exact("lxc.seccomp.notify.proxy"), .single, .text, .notApplied("seccomp notifications are not built yet")),
        ConfigKey(.exact("lxc.seccomp.notify.cookie"), .single, .text, .notApplied("seccomp notifications are not built yet")),
        ConfigKey(.exact("lxc.apparmor.profile"), .single, .text, .applied),
        ConfigKey(.exact("lxc.apparmor.allow_incomplete"), .single, .boolean, .notApplied(appArmorGenerated)),
        ConfigKey(.exact("lxc.apparmor.allow_nesting"), .single, .boolean, .notApplied(appArmorGenerated)),
        ConfigKey(.exact("lxc.apparmor.raw"), .list, .text, .notApplied(appArmorGenerated)),
        ConfigKey(.exact("lxc.selinux.context"), .single, .text, .notApplied(lsm)),
        ConfigKey(.exact("lxc.selinux.context.keyring"), .single, .text, .notApplied(lsm)),
        ConfigKey(.exact("lxc.keyring.session"), .single, .boolean, .notApplied("session keyrings are not managed yet")),

        // Hooks.
        ConfigKey(.exact("lxc.hook"), .clearOnly, .text, .notApplied(hooks)),
        ConfigKey(.prefix("lxc.hook.", suffixes: ContainerConfig.appliedHooks), .list, .text, .applied),
        ConfigKey(.prefix("lxc.hook.", suffixes: ["stop", "clone", "destroy"]),
                  .list, .text, .notApplied(hooks)),
        ConfigKey(.exact("lxc.hook.version"), .single, .boolean, .notApplied(hooks)),

        // Console and ttys.
        ConfigKey(.exact("lxc.console.path"), .single, .path, .notApplied(console)),
        ConfigKey(.exact("lxc.console.logfile"), .single, .path, .applied),
        ConfigKey(.exact("lxc.console.rotate"), .single, .boolean, .notApplied(console)),
        ConfigKey(.exact("lxc.console.buffer.size"), .single, .byteSize, .notApplied(console)),
        ConfigKey(.exact("lxc.console.size"), .single, .byteSize, .notApplied(console)),
        ConfigKey(.exact("lxc.tty.max"), .single, .unsigned, .applied),
        ConfigKey(.exact("lxc.tty.dir"), .single, .directoryName, .applied),

        // SignalNames, start and monitor.
        ConfigKey(.exact("lxc.signal.halt"), .single, .signal, .applied),
        ConfigKey(.exact("lxc.signal.reboot"), .single, .signal, .applied),
        ConfigKey(.exact("lxc.signal.stop"), .single, .signal, .applied),
        ConfigKey(.exact("lxc.start.auto"), .single, .boolean, .applied),
        ConfigKey(.exact("lxc.start.delay"), .single, .unsigned, .applied),
        ConfigKey(.exact("lxc.start.order"), .single, .integer, .applied),
        ConfigKey(.exact("lxc.group"), .list, .text, .applied),
        ConfigKey(.exact("lxc.monitor.unshare"), .single, .boolean, .notApplied("swrun has no monitor process")),
        ConfigKey(.exact("lxc.monitor.signal.pdeath"), .single, .signal, .notApplied("swrun has no monitor process")),
        ConfigKey(.exact("lxc.ephemeral"), .single, .boolean, .applied),

        // Logging.
        ConfigKey(.exact("lxc.log.file"), .single, .path, .notApplied(logging)),
        ConfigKey(.exact("lxc.log.level"), .single, .logLevel, .notApplied(logging)),
        ConfigKey(.exact("lxc.log.syslog"), .single, .syslogFacility, .notApplied(logging)),

        // Kernel settings for the container.
        ConfigKey(.exact("lxc.prlimit"), .clearOnly, .text, .applied),
        ConfigKey(.prefix("lxc.prlimit.", suffixes: ["as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
                                                     "nice", "nofile", "nproc", "rss", "rtprio", "rttime",
                                                     "sigpending", "stack"]),
                  .single, .resourceLimit, .applied),
        ConfigKey(.exact("lxc.sysctl"), .clearOnly, .text, .notApplied("sysctls are not applied yet")),
        ConfigKey(.prefix("lxc.sysctl.", suffixes: nil), .single, .text, .notApplied("sysctls are not applied yet")),
        ConfigKey(.exact("lxc.proc"), .clearOnly, .text, .notApplied("/proc settings are not applied yet")),
        ConfigKey(.prefix("lxc.proc.", suffixes: nil), .list, .text, .notApplied("/proc settings are not applied yet")),

        // Namespaces.
        ConfigKey(.exact("lxc.namespace.clone"), .list, .namespaces, .notApplied("the namespace set is not configurable yet")),
        ConfigKey(.exact("lxc.namespace.keep"), .list, .namespaces, .notApplied("the namespace set is not configurable yet")),
        ConfigKey(.prefix("lxc.namespace.share.", suffixes: ContainerConfig.shareableNamespaces), .single, .text, .applied),
        // A shared pid namespace leaves a container's processes to the other's init, where
        // neither stop nor the end of swrun's init reaches them; cgroup and mnt need a cgroup
        // and a rootfs of the other's.
        ConfigKey(.prefix("lxc.namespace.share.", suffixes: ["user", "mnt", "pid", "cgroup", "time"]),
                  .single, .text, .notApplied("swrun shares only the net, uts and ipc namespaces with other containers")),
        ConfigKey(.exact("lxc.time.offset.boot"), .single, .timeOffset, .applied),
        ConfigKey(.exact("lxc.time.offset.monotonic"), .single, .timeOffset, .applied),

        // The rest.
        ConfigKey(.exact("lxc.rootfs.mount"), .single, .path, .notApplied("swrun picks where the rootfs is mounted")),
        ConfigKey(.exact("lxc.rootfs.options"), .single, .text, .applied),
        ConfigKey(.exact("lxc.rootfs.managed"), .single, .boolean, .notApplied("swrun does not track who manages the rootfs yet")),
        ConfigKey(.exact("lxc.autodev.tmpfs.size"), .single, .integer, .notApplied("the /dev tmpfs size is not configurable yet")),
        ConfigKey(.exact("lxc.init.groups"), .list, .groupList, .applied),
        ConfigKey(.exact("lxc.sched.core"), .single, .boolean, .notApplied("core scheduling is not set up yet")),
    ]

    private static let exactRows: [String: ConfigKey] = {
        var rows: [String: ConfigKey] = [:]
        for row in all {
            if case .exact(let name) = row.pattern { rows[name] = row }
        }
        return rows
    }()

    /// The row for `key`, or nil when LXC 5 would not accept the key.
    /// An exact row wins over a prefix row ("lxc.cgroup.dir" over "lxc.cgroup.").
    public static func lookup(_ key: String) -> ConfigKey? {
        if let row = exactRows[key] { return row }
        return all.first { row in
            if case .exact = row.pattern { return false }
            return row.matches(key)
        }
    }

    /// Concrete spellings to compare an unknown key with, for "did you mean".
    static func spelledOut(near key: String) -> [String] {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        // For lxc.net keys, keep the user's index: "lxc.net.1.tpye" -> "lxc.net.1.type".
        let index = parts.count > 2 && parts[2].allSatisfy(\.isNumber) && !parts[2].isEmpty ? String(parts[2]) : "0"
        var names: [String] = []
        for row in all {
            switch row.pattern {
            case .exact(let name):
                names.append(name)
            case .network(let subkey):
                names.append("lxc.net.\(index).\(subkey)")
            case .networkDevice:
                names.append("lxc.net.\(index)")
            case .prefix(let prefix, let suffixes):
                if let suffixes {
                    names += suffixes.map { prefix + $0 }
                } else {
                    // "lxc.cgrop2.memory.max" is compared with "lxc.cgroup2.memory.max".
                    let depth = prefix.split(separator: ".").count
                    if parts.count > depth { names.append(prefix + parts.dropFirst(depth).joined(separator: ".")) }
                }
            }
        }
        return names
    }
}
