import SwrunConfig
import Testing

@Suite struct ConfigKeysTests {
    /// Every key of LXC 5's config_jump_table (src/lxc/confile.c, stable-5.0), spelled out.
    static let lxc5Keys = [
        "lxc.arch", "lxc.apparmor.profile", "lxc.apparmor.allow_incomplete", "lxc.apparmor.allow_nesting",
        "lxc.apparmor.raw", "lxc.autodev.tmpfs.size", "lxc.autodev", "lxc.cap.drop", "lxc.cap.keep",
        "lxc.cgroup2.memory.max", "lxc.cgroup.dir.monitor.pivot", "lxc.cgroup.dir.monitor",
        "lxc.cgroup.dir.container.inner", "lxc.cgroup.dir.container", "lxc.cgroup.dir", "lxc.cgroup.relative",
        "lxc.cgroup.devices.allow", "lxc.console.buffer.size", "lxc.console.logfile", "lxc.console.path",
        "lxc.console.rotate", "lxc.console.size", "lxc.sched.core", "lxc.environment", "lxc.ephemeral",
        "lxc.execute.cmd", "lxc.group", "lxc.hook.autodev", "lxc.hook.clone", "lxc.hook.destroy", "lxc.hook.mount",
        "lxc.hook.post-stop", "lxc.hook.pre-mount", "lxc.hook.pre-start", "lxc.hook.start", "lxc.hook.start-host",
        "lxc.hook.stop", "lxc.hook.version", "lxc.hook", "lxc.idmap", "lxc.include", "lxc.init.cmd", "lxc.init.gid",
        "lxc.init.groups", "lxc.init.uid", "lxc.init.cwd", "lxc.keyring.session", "lxc.log.file", "lxc.log.level",
        "lxc.log.syslog", "lxc.monitor.unshare", "lxc.monitor.signal.pdeath", "lxc.mount.auto", "lxc.mount.entry",
        "lxc.mount.fstab", "lxc.namespace.clone", "lxc.namespace.keep", "lxc.namespace.share.net",
        "lxc.time.offset.boot", "lxc.time.offset.monotonic", "lxc.net.0.type", "lxc.net", "lxc.no_new_privs",
        "lxc.prlimit.nofile", "lxc.pty.max", "lxc.rootfs.managed", "lxc.rootfs.mount", "lxc.rootfs.options",
        "lxc.rootfs.path", "lxc.seccomp.allow_nesting", "lxc.seccomp.notify.cookie", "lxc.seccomp.notify.proxy",
        "lxc.seccomp.profile", "lxc.selinux.context.keyring", "lxc.selinux.context", "lxc.signal.halt",
        "lxc.signal.reboot", "lxc.signal.stop", "lxc.start.auto", "lxc.start.delay", "lxc.start.order",
        "lxc.tty.dir", "lxc.tty.max", "lxc.uts.name", "lxc.sysctl.net.ipv4.ip_forward", "lxc.proc.oom_score_adj",
        "lxc.cgroup2", "lxc.cgroup", "lxc.prlimit", "lxc.sysctl", "lxc.proc", "lxc.net.3",
    ]

    /// Its network subkeys (config_jump_table_net).
    static let lxc5NetworkSubkeys = [
        "flags", "hwaddr", "ipv4.address", "ipv4.gateway", "ipv6.address", "ipv6.gateway", "link", "l2proxy",
        "macvlan.mode", "ipvlan.mode", "ipvlan.isolation", "mtu", "name", "script.down", "script.up", "type",
        "vlan.id", "veth.mode", "veth.n_rxqueues", "veth.n_txqueues", "veth.pair", "veth.ipv4.route",
        "veth.ipv6.route", "veth.vlan.id", "veth.vlan.tagged.id",
    ]

    @Test(arguments: lxc5Keys)
    func everyLXC5KeyIsKnown(key: String) {
        #expect(ConfigKeys.lookup(key) != nil)
    }

    @Test(arguments: lxc5NetworkSubkeys)
    func everyNetworkSubkeyIsKnown(subkey: String) {
        #expect(ConfigKeys.lookup("lxc.net.12.\(subkey)") != nil)
    }

    @Test(arguments: [
        "lxc.utsname", "lxc.network.0.type", "lxc.rootfs", "lxc.net.a.type", "lxc.net.0.", "lxc.cgroupfoo",
        "lxc.hook.nope", "lxc.namespace.share.nope", "lxc.prlimit.nope", "lxc.console", "lxc.mount", "lxc.", "lxc.sysctl.",
    ])
    func othersAreUnknown(key: String) {
        #expect(ConfigKeys.lookup(key) == nil)
    }

    @Test func exactRowsWinOverPrefixRows() {
        #expect(ConfigKeys.lookup("lxc.cgroup.dir")?.pattern == .exact("lxc.cgroup.dir"))
        #expect(ConfigKeys.lookup("lxc.hook.version")?.kind == .single)
        #expect(ConfigKeys.lookup("lxc.hook.start")?.kind == .list)
    }

    @Test func everyRowHasAUsefulStatus() {
        for row in ConfigKeys.all {
            if case .notApplied(let reason) = row.status { #expect(!reason.isEmpty) }
        }
        #expect(ConfigKeys.lookup("lxc.net.0.type")?.notAppliedReason(for: "empty") == nil)
        #expect(ConfigKeys.lookup("lxc.net.0.type")?.notAppliedReason(for: "veth") == nil)
        #expect(ConfigKeys.lookup("lxc.net.0.type")?.notAppliedReason(for: "macvlan") == nil)
        #expect(ConfigKeys.lookup("lxc.net.0.script.up")?.notAppliedReason(for: "/bin/true") != nil)
    }
}
