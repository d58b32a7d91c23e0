@testable import SwrunConfig
import SwrunSystem
import Testing

@Suite struct ContainerConfigTests {
    @Test func defaultsWhenNothingIsSet() throws {
        let config = try container("")
        #expect(config.rootfsPath == nil)
        #expect(config.autodev == true)  // LXC 5's lxc_conf_init sets autodev = 1
        #expect(config.noNewPrivs == false)
        #expect(config.ptyMax == 0 && config.ttyMax == 0)
        #expect(config.mountAuto.isEmpty)
        #expect(config.initCmd == nil && config.initUid == nil)
        #expect(config.notYetApplied.isEmpty)
    }

    @Test func timeOffsetsTakeLXCsUnitsAndKeepNanosecondsPositive() throws {
        let config = try container("lxc.time.offset.boot = 2h\nlxc.time.offset.monotonic = -1500ms\n")
        #expect(config.bootTimeOffset == ClockOffset(seconds: 7200))
        #expect(config.monotonicTimeOffset == ClockOffset(seconds: -2, nanoseconds: 500_000_000), "-1.5 s as the kernel takes it")
        #expect(try container("lxc.time.offset.boot = 10 us\n").bootTimeOffset == ClockOffset(seconds: 0, nanoseconds: 10_000))
        #expect(try container("lxc.time.offset.boot = 3m\nlxc.time.offset.boot =\n").bootTimeOffset == nil, "an empty value clears")
        #expect(try container("").monotonicTimeOffset == nil)
        #expect(swrunError { _ = try container("lxc.time.offset.boot = 9223372036854775807h\n") }?.message.contains("too large") == true)
        #expect(swrunError { _ = try container("lxc.time.offset.boot = 5\n") }?.message.contains("is not a time offset") == true, "LXC wants a unit")
    }

    @Test func laterSingleValueWins() throws {
        let config = try container("lxc.uts.name = a\nlxc.pty.max = 5\nlxc.uts.name = b\n")
        #expect(config.utsName == "b")
        #expect(config.ptyMax == 5)
    }

    @Test func anEmptySingleValueUnsets() throws {
        #expect(try container("lxc.uts.name = a\nlxc.uts.name =\n").utsName == nil)
    }

    @Test func listKeysAppendAndAnEmptyValueClears() throws {
        let config = try container("""
            lxc.environment = A=1
            lxc.environment = B=2
            lxc.environment =
            lxc.environment = C=3
            lxc.environment = D=4
            """)
        #expect(config.environment.map(\.name) == ["C", "D"])
    }

    @Test func anEmptyMountEntryDropsTheEarlierOnes() throws {
        let config = try container("lxc.mount.entry = /a a none bind 0 0\nlxc.mount.entry =\nlxc.mount.entry = /b b none bind 0 0\n")
        #expect(config.mountEntries.map(\.source) == ["/b"])
    }

    @Test(arguments: [
        ("lxc.init.uid = abc", "test.conf:1: lxc.init.uid: 'abc' is not a number"),
        ("lxc.init.gid = -1", "test.conf:1: lxc.init.gid: '-1' is not a number"),
        ("lxc.pty.max = 4294967296", "test.conf:1: lxc.pty.max: '4294967296' is not a number"),
        ("lxc.autodev = 2", "test.conf:1: lxc.autodev: '2' is not 0 or 1"),
        ("lxc.no_new_privs = yes", "test.conf:1: lxc.no_new_privs: 'yes' is not 0 or 1"),
        ("lxc.signal.stop = SIGNOPE", "test.conf:1: lxc.signal.stop: 'SIGNOPE' is not a signal"),
        ("lxc.cap.drop = sys_admn", "test.conf:1: lxc.cap.drop: 'sys_admn' is not a capability"),
        ("lxc.cap.drop = none", "test.conf:1: lxc.cap.drop: 'none' is only valid in lxc.cap.keep"),
        ("lxc.mount.auto = proc:ro", "test.conf:1: lxc.mount.auto: 'proc:ro' is not something lxc.mount.auto mounts"),
        ("lxc.idmap = x 0 1 2", "test.conf:1: lxc.idmap: 'x 0 1 2' is not an ID mapping"),
        ("lxc.environment = =x", "test.conf:1: lxc.environment: '=x' has no variable name"),
        ("lxc.net.0.type = bridge", "test.conf:1: lxc.net.0.type: 'bridge' is not one of: veth, macvlan, ipvlan, vlan, phys, empty, none"),
        ("lxc.net = x", "test.conf:1: lxc.net takes no value"),
        ("lxc.hook = /bin/true", "test.conf:1: lxc.hook takes no value"),
        ("lxc.arch = pdp11", "test.conf:1: lxc.arch: 'pdp11' is not an architecture LXC knows"),
        ("lxc.rootfs.path = rbd:pool/a", "test.conf:1: lxc.rootfs.path: the 'rbd' storage backend is not supported yet"),
        ("lxc.rootfs.path = loop:rootdev", "test.conf:1: lxc.rootfs.path: a loop rootfs is the absolute path of an image file"),
        ("lxc.rootfs.path = lvm:vg/lv", "test.conf:1: lxc.rootfs.path: an lvm rootfs is a device under /dev"),
        ("lxc.rootfs.path = zfs:/tank/a", "test.conf:1: lxc.rootfs.path: a zfs rootfs is a dataset, POOL/NAME"),
        ("lxc.rootfs.path = overlayfs:/only", "test.conf:1: lxc.rootfs.path: an overlay rootfs needs absolute lower and upper directories"),
        ("lxc.rootfs.path = overlay:/a,b:/c", "test.conf:1: lxc.rootfs.path: the overlay directory '/a,b' contains a comma or '..'"),
        ("lxc.rootfs.path = nope:/r", "test.conf:1: lxc.rootfs.path: 'nope' is not a storage backend"),
        ("lxc.uts.name = " + String(repeating: "h", count: 65), "test.conf:1: lxc.uts.name: '\(String(repeating: "h", count: 65))' is longer than 64 bytes"),
        ("lxc.mount.entry = /a a", "test.conf:1: lxc.mount.entry: '/a a' is not a mount entry"),
        ("lxc.log.level = LOUD", "test.conf:1: lxc.log.level: 'LOUD' is not a log level"),
        ("lxc.prlimit.nofile = lots", "test.conf:1: lxc.prlimit.nofile: 'lots' is not a resource limit"),
        ("lxc.time.offset.boot = 5 days", "test.conf:1: lxc.time.offset.boot: '5 days' is not a time offset"),
        ("lxc.cgroup.dir = /abs", "test.conf:1: lxc.cgroup.dir: '/abs' is absolute"),
        ("lxc.cgroup.dir = .", "test.conf:1: lxc.cgroup.dir: '.' has an empty or '.' component"),
        ("lxc.cgroup.dir = a//b", "test.conf:1: lxc.cgroup.dir: 'a//b' has an empty or '.' component"),
        ("lxc.namespace.clone = mnt pid nope", "test.conf:1: lxc.namespace.clone: 'nope' is not a namespace"),
    ])
    func badValuesNameFileLineAndKey(line: String, message: String) {
        let error = swrunError { _ = try container("\(line)\n") }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message == message)
        #expect(error?.hint?.isEmpty == false)
    }

    @Test func anInvalidValueIsAnErrorEvenWhenClearedLater() {
        // LXC checks each line as it reads it.
        let error = swrunError { _ = try container("lxc.init.uid = x\nlxc.init.uid =\n") }
        #expect(error?.message == "test.conf:1: lxc.init.uid: 'x' is not a number")
    }

    @Test(arguments: [
        ("/var/lib/lxc/web/rootfs", "/var/lib/lxc/web/rootfs"),
        ("dir:/var/lib/lxc/web/rootfs", "/var/lib/lxc/web/rootfs"),
        ("/srv/odd:name/rootfs", "/srv/odd:name/rootfs"),
    ])
    func rootfsPath(value: String, path: String) throws {
        #expect(try container("lxc.rootfs.path = \(value)").rootfsPath == path)
    }

    /// LXC's overlay form: the lowers topmost first, the upper after the last ":/", the work
    /// directory beside it; "overlayfs:" is the same.
    @Test func anOverlayRootfsReadsAsLXCReadsIt() throws {
        let config = try container("lxc.rootfs.path = overlay:/cache/l3:/cache/l2:/cache/l1:/var/lib/lxc/web/overlay/delta\n")
        let overlay = try #require(config.rootOverlay)
        #expect(overlay.lowers == ["/cache/l3", "/cache/l2", "/cache/l1"] && overlay.upper == "/var/lib/lxc/web/overlay/delta")
        #expect(overlay.work == "/var/lib/lxc/web/overlay/work")
        #expect(overlay.mountData == "lowerdir=/cache/l3:/cache/l2:/cache/l1,upperdir=/var/lib/lxc/web/overlay/delta,workdir=/var/lib/lxc/web/overlay/work")
        #expect(overlay.configValue == "overlay:/cache/l3:/cache/l2:/cache/l1:/var/lib/lxc/web/overlay/delta")
        #expect(config.rootfsPath == nil)
        // A colon inside a name does not split it: only ":/" does, as in LXC.
        let odd = try #require(try container("lxc.rootfs.path = overlayfs:/srv/base:v2/rootfs:/srv/c/delta\n").rootOverlay)
        #expect(odd.lowers == ["/srv/base:v2/rootfs"] && odd.upper == "/srv/c/delta")
    }

    /// LXC's other storage backends: a btrfs subvolume is a directory; loop, lvm and zfs are
    /// filesystems mounted on the container's rootfs.
    @Test func eachBackendReadsAsLXCWritesIt() throws {
        let btrfs = try container("lxc.rootfs.path = btrfs:/var/lib/lxc/b/rootfs\n")
        #expect(btrfs.rootfsPath == "/var/lib/lxc/b/rootfs" && btrfs.rootBackend == "btrfs" && btrfs.rootDevice == nil)
        #expect(try container("lxc.rootfs.path = loop:/var/lib/lxc/l/rootdev\n").rootDevice == .loop(image: "/var/lib/lxc/l/rootdev"))
        #expect(try container("lxc.rootfs.path = lvm:/dev/lxc/web\n").rootDevice == .block(device: "/dev/lxc/web"))
        let zfs = try container("lxc.rootfs.path = zfs:tank/lxc/web\n")
        #expect(zfs.rootDevice == .zfs(dataset: "tank/lxc/web") && zfs.rootDevice?.configValue == "zfs:tank/lxc/web" && zfs.rootfsPath == nil)
    }

    @Test func anUnsupportedRootfsThatIsOverriddenIsFine() throws {
        #expect(try container("lxc.rootfs.path = zfs:tank/a\nlxc.rootfs.path = dir:/r\n").rootfsPath == "/r")
    }

    @Test(arguments: [
        ("", true),
        ("lxc.autodev = 0", false),
        ("lxc.autodev = 1", true),
        ("lxc.autodev = 0\nlxc.autodev = 1", true),
        ("lxc.autodev =", false),  // LXC sets 0 for an empty value
    ])
    func autodev(text: String, expected: Bool) throws {
        #expect(try container(text).autodev == expected)
    }

    @Test func capabilitiesAreSplitAndCollected() throws {
        let config = try container("""
            lxc.cap.drop = mac_admin mac_override\tsys_time
            lxc.cap.drop = sys_module 17 sys_time
            """)
        #expect(config.capDrop == ["mac_admin", "mac_override", "sys_time", "sys_module", "sys_rawio"])
        #expect(config.capKeep.isEmpty)
    }

    @Test func capitalisedOrPrefixedCapabilityNamesGetAHint() {
        let error = swrunError { _ = try container("lxc.cap.drop = CAP_SYS_ADMIN") }
        #expect(error?.hint == "write 'sys_admin': LXC takes lowercase names without the cap_ prefix")
    }

    @Test func capKeepNoneKeepsNothing() throws {
        #expect(try container("lxc.cap.keep = none").capKeep == ["none"])
        #expect(try container("lxc.cap.keep = sys_admin\nlxc.cap.keep = none\nlxc.cap.keep = chown").capKeep == ["chown"])
    }

    @Test func capDropAndKeepTogetherIsAnError() {
        let error = swrunError { _ = try container("lxc.cap.drop = sys_time\n# x\nlxc.cap.keep = chown\n") }
        #expect(error?.message == "test.conf:3: lxc.cap.drop and lxc.cap.keep cannot both be used")
    }

    @Test func anEmptyCapDropClearsAKeepListToo() throws {
        let config = try container("lxc.cap.keep = chown\nlxc.cap.drop =\nlxc.cap.drop = sys_time\n")
        #expect(config.capKeep.isEmpty)
        #expect(config.capDrop == ["sys_time"])
    }

    @Test func capabilityTableHasTheKernelNames() {
        #expect(CapabilityNames.names.count == 41)
        #expect(CapabilityNames.names[21] == "sys_admin")
        #expect(CapabilityNames.names.last == "checkpoint_restore")
        #expect(CapabilityNames.number(of: "bpf") == 39)
        #expect(CapabilityNames.number(of: "cap_bpf") == nil)
    }

    @Test func environmentEntries() throws {
        let config = try container("lxc.environment = PATH=/usr/bin:/bin\nlxc.environment = TERM\nlxc.environment = EMPTY=\n")
        #expect(config.environment == [
            EnvironmentEntry(name: "PATH", value: "/usr/bin:/bin"),
            EnvironmentEntry(name: "TERM", value: nil),
            EnvironmentEntry(name: "EMPTY", value: ""),
        ])
    }

    @Test func commandsAreSplitAtSpacesLikeLXC() throws {
        let config = try container("lxc.init.cmd = /sbin/init  --log-target=kmsg\nlxc.execute.cmd = /bin/sh\n")
        #expect(config.initCmd == ["/sbin/init", "--log-target=kmsg"])
        #expect(config.executeCmd == ["/bin/sh"])
    }

    @Test func initUserAndDirectory() throws {
        let config = try container("lxc.init.uid = 1000\nlxc.init.gid = 0x10\nlxc.init.cwd = /home/u\nlxc.no_new_privs = 1\n")
        #expect(config.initUid == 1000)
        #expect(config.initGid == 16)  // LXC reads numbers like strtoul with base 0
        #expect(config.initCwd == "/home/u")
        #expect(config.noNewPrivs)
    }

    @Test func signalsInEveryForm() throws {
        let config = try container("lxc.signal.halt = SIGPWR\nlxc.signal.reboot = sigint\nlxc.signal.stop = SIGRTMIN+3\n")
        #expect(config.haltSignal == 30)
        #expect(config.rebootSignal == 2)
        #expect(config.stopSignal == 37)
    }

    @Test func idmaps() throws {
        let config = try container("lxc.idmap = u 0 100000 65536\nlxc.idmap = g\t0 100000\t65536\n")
        #expect(config.idmaps == [
            IDMap(kind: .uid, containerID: 0, hostID: 100000, count: 65536),
            IDMap(kind: .gid, containerID: 0, hostID: 100000, count: 65536),
        ])
    }

    @Test(arguments: ["u 0 100000", "u 0 100000 65536 9", "u a 1 2", "u 0 1 0", "u 4294967295 0 2"])
    func badIdmaps(value: String) {
        #expect(swrunError { _ = try container("lxc.idmap = \(value)") }?.code == .invalidConfig)
    }

    @Test func networksByIndex() throws {
        let config = try container("""
            lxc.net.0.type = veth
            lxc.net.0.link = lxcbr0
            lxc.net.0.ipv4.address = 10.0.3.2/24
            lxc.net.0.ipv4.address = 10.0.3.3/24
            lxc.net.1.type = empty
            lxc.net.2.type = veth
            lxc.net.2 =
            """)
        #expect(config.networks == [
            0: ["type": "veth", "link": "lxcbr0", "ipv4.address": "10.0.3.2/24\n10.0.3.3/24"],
            1: ["type": "empty"],
        ])
    }

    @Test func anEmptyLxcNetClearsAllNetworks() throws {
        #expect(try container("lxc.net.0.type = veth\nlxc.net.1.type = empty\nlxc.net =\n").networks.isEmpty)
    }

    @Test func notYetAppliedListsKnownKeysSwrunIgnores() throws {
        let config = try container("""
            lxc.uts.name = web
            lxc.net.0.script.up = /bin/true
            lxc.net.1.type = empty
            lxc.cgroup2.memory.max = 1G
            lxc.idmap = u 0 100000 65536
            lxc.tty.max = 4
            lxc.apparmor.profile = generated
            lxc.seccomp.profile =
            lxc.hook.stop = /bin/true
            lxc.start.auto = 1
            lxc.log.level = DEBUG
            lxc.signal.halt = SIGPWR
            lxc.cgroup.devices.allow = a
            lxc.cgroup =
            """)
        #expect(config.notYetApplied.map(\.setting.key) == [
            "lxc.net.0.script.up", "lxc.cgroup2.memory.max",
            "lxc.hook.stop", "lxc.log.level",
        ])
        #expect(config.notYetApplied.first?.reason.contains("swrun does not apply this network key") == true)
        #expect(config.notYetApplied.first?.setting.location == ConfigLocation(file: "test.conf", line: 2))
        // Parsed anyway, for when they are applied.
        #expect(config.ttyMax == 4 && config.haltSignal == 30)
    }

    @Test func appliedKeysAreNotReported() throws {
        let config = try container("""
            lxc.rootfs.path = dir:/r
            lxc.uts.name = web
            lxc.mount.auto = proc sys
            lxc.mount.entry = /a a none bind 0 0
            lxc.autodev = 1
            lxc.cap.drop = sys_time
            lxc.environment = A=1
            lxc.init.cmd = /sbin/init
            lxc.init.uid = 0
            lxc.init.gid = 0
            lxc.init.cwd = /
            lxc.execute.cmd = /bin/sh
            lxc.no_new_privs = 1
            lxc.pty.max = 1024
            lxc.net.0.type = empty
            """)
        #expect(config.notYetApplied.isEmpty)
    }

    @Test func theHostArchitectureAndIts32BitCounterpartAreAcceptedAndAForeignOneRefused() throws {
        let config = try ContainerConfig(settings: ConfigFile(text: "lxc.arch = amd64", path: "a.conf").settings, hostMachine: "x86_64")
        #expect(config.architecture == "amd64")
        #expect(try ContainerConfig(settings: ConfigFile(text: "lxc.arch = linux64", path: "a.conf").settings, hostMachine: "aarch64").architecture == "linux64")
        #expect(try ContainerConfig(settings: ConfigFile(text: "lxc.arch = i686", path: "a.conf").settings, hostMachine: "x86_64").architecture == "i686")
        let error = swrunError {
            _ = try ContainerConfig(settings: ConfigFile(text: "lxc.arch = armhf", path: "a.conf").settings, hostMachine: "x86_64")
        }
        #expect(error?.message == "a.conf:1: lxc.arch: this x86_64 host cannot run 'armhf' programs")
        #expect(try container("lxc.arch = \(Architecture.hostMachine)").architecture == Architecture.hostMachine)
    }

    @Test(arguments: [
        ("x86_64", "x86_64", Architecture.Personality.native), ("amd64", "x86_64", .native), ("i686", "x86_64", .linux32),
        ("x86", "x86_64", .linux32), ("linux32", "x86_64", .linux32), ("armhf", "aarch64", .linux32), ("arm64", "aarch64", .native),
        ("i686", "i686", .native), ("linux32", "i686", .native),
    ])
    func architecturesRunNativelyOrUnderThe32BitPersonality(value: String, host: String, expected: Architecture.Personality) {
        #expect(Architecture.personality(for: value, hostMachine: host) == expected)
    }

    @Test(arguments: [("aarch64", "x86_64"), ("x86_64", "i686"), ("linux64", "i686"), ("ppc64le", "x86_64"), ("i686", "aarch64")])
    func otherMachinesArchitecturesCannotRun(value: String, host: String) {
        #expect(Architecture.personality(for: value, hostMachine: host) == nil)
    }

    @Test func fstabEntriesComeFirstAndRelativePathsFollowTheConfig() throws {
        try withTemporaryDirectory { dir in
            try dir.write("fstab", "# comment\n\n/dev/shm dev/shm none bind,create=dir 0 0\n")
            let config = try dir.write("config", "lxc.mount.entry = /srv srv none bind 0 0\nlxc.mount.fstab = fstab\n")
            let loaded = try ContainerConfig.load(config)
            #expect(loaded.mountEntries.map(\.source) == ["/dev/shm", "/srv"])
            #expect(loaded.mountEntries[0].location == ConfigLocation(file: "\(dir.path)/fstab", line: 3))
        }
    }

    @Test func aBadFstabLineNamesTheFstab() throws {
        try withTemporaryDirectory { dir in
            let fstab = try dir.write("fstab", "/a\n")
            let config = try dir.write("config", "lxc.mount.fstab = \(fstab)\n")
            let error = swrunError { _ = try ContainerConfig.load(config) }
            #expect(error?.message == "\(fstab):1: fstab entry: '/a' is not a mount entry")
        }
    }

    @Test func aMissingFstabNamesTheConfigLine() throws {
        try withTemporaryDirectory { dir in
            let config = try dir.write("config", "lxc.mount.fstab = nothere\n")
            let error = swrunError { _ = try ContainerConfig.load(config) }
            #expect(error?.message == "\(config):1: lxc.mount.fstab: cannot read \(dir.path)/nothere")
        }
    }

    @Test func unknownKeysInProgrammaticSettingsAreRefused() {
        let setting = ConfigSetting(key: "lxc.nope", value: "1", location: ConfigLocation(file: "x", line: 7))
        let error = swrunError { _ = try ContainerConfig(settings: [setting]) }
        #expect(error?.message == "x:7: unknown configuration key 'lxc.nope'")
    }
}
