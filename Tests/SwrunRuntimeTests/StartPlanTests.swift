import CLinux
import Glibc
import SwrunConfig
import SwrunSystem
import SwrunCgroups
import Testing
@testable import SwrunRuntime

/// What a config leads to, read from the plan without starting anything (no root needed).
@Suite struct StartPlanTests {
    /// A container directory with an empty rootfs, removed by `deinit`.
    final class Fixture {
        private let scratch: ScratchDirectory
        var directory: String { scratch.path }
        init() throws {
            scratch = try ScratchDirectory("plan")
            try FileSystem.makeDirectory(directory + "/rootfs")
        }

        func plan(_ configText: String, command: [String] = ["/bin/true"], terminal: Bool = false, mode: LaunchMode = .execute,
                  host: HostFacts? = nil) throws -> StartPlan {
            let file = try ConfigFile(text: configText, path: directory + "/config")
            let config = try ContainerConfig(settings: file.settings)
            let spec = try ContainerSpec(lxc: config, name: "web", directory: directory, command: command, mode: mode,
                                         terminal: terminal, hostEnvironment: [:])
            var request = LaunchRequest(containerName: "web", containerDirectory: directory, spec: spec, mode: mode, explain: false)
            request.hostFacts = host
            return try StartPlan(request)
        }
    }

    @Test func sharedNamespacesAreJoinedFirstAndNotMade() throws {
        let fixture = try Fixture()
        // This test's own process stands in for the container whose namespaces are shared.
        let plan = try fixture.plan("lxc.namespace.share.uts = \(getpid())\nlxc.namespace.share.net = \(getpid())\n")
        #expect(plan.setupSummaries.prefix(2) == ["join the net namespace of /proc/\(getpid())/ns/net", "join the uts namespace of /proc/\(getpid())/ns/uts"])
        #expect(plan.namespaces.flags & (SWRUN_CLONE_NEWUTS | SWRUN_CLONE_NEWNET) == 0)
        #expect(plan.namespaces.flags & SWRUN_CLONE_NEWPID != 0)
        #expect(!plan.setupSummaries.contains { $0.hasPrefix("set the hostname") || $0 == "bring up the loopback interface" },
                "the shared namespaces keep their owner's hostname and links")
        #expect(throws: SwrunError.self) { try fixture.plan("lxc.namespace.share.net = \(getpid())\nlxc.net.0.type = veth\n") }
        #expect(throws: SwrunError.self) { try fixture.plan("lxc.namespace.share.ipc = 999999999\n") }
        #expect(throws: SwrunError.self, "an unprivileged container cannot join them") {
            try fixture.plan("lxc.namespace.share.ipc = \(getpid())\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n")
        }
        let pidShare = try fixture.plan("lxc.namespace.share.pid = \(getpid())\n")
        #expect(pidShare.namespaces.flags & SWRUN_CLONE_NEWPID != 0 && pidShare.warnings.contains { $0.contains("lxc.namespace.share.pid") },
                "the pid namespace is not shared, and swrun says so")
    }

    /// Hosts this one is not, given as facts: a pure cgroup v2 host, with a new and an old kernel.
    @Test func aPlanFollowsTheHostFactsItIsGiven() throws {
        let fixture = try Fixture()
        let unified = CgroupHierarchy(directory: "", controllers: [], ownPath: "/user.slice")
        let v2 = HostFacts(cgroupMode: .unified, cgroupHierarchies: [unified], kernel: (6, 1))
        let booted = try fixture.plan("lxc.mount.auto = cgroup:mixed proc:mixed\n", mode: .boot, host: v2).setupSummaries
        #expect(booted.contains("mount the cgroup2 hierarchy on /sys/fs/cgroup"), "\(booted)")
        #expect(!booted.contains("enter the container's own cgroup"), "born in its cgroup (CLONE_INTO_CGROUP): nothing to enter")
        let namespace = try #require(booted.firstIndex(of: "enter a new cgroup namespace"))
        #expect(namespace < booted.firstIndex(of: "mount the cgroup2 hierarchy on /sys/fs/cgroup")!)
        #expect(!booted.contains { $0.hasPrefix("mount the") && $0.contains("memory") }, "no v1 hierarchy on a v2 host")

        // Linux 5.4 cannot clone into a cgroup: swrun moves init, and init waits for that.
        let old = HostFacts(cgroupMode: .unified, cgroupHierarchies: [unified], kernel: (5, 4))
        let waiting = try fixture.plan("lxc.mount.auto = proc:mixed\n", host: old).setupSummaries
        let wait = try #require(waiting.firstIndex(of: "wait for swrun"))
        #expect(waiting.firstIndex(of: "enter a new cgroup namespace").map { $0 > wait } == true, "\(waiting)")

        // A host without cgroups: no cgroup, and a limit is refused.
        let bare = HostFacts(cgroupMode: nil, cgroupHierarchies: [], kernel: (6, 1))
        #expect(!(try fixture.plan("", host: bare).setupSummaries.contains("enter a new cgroup namespace")))
    }

    @Test func mountsComeBeforePivotRootAndHostnameAfter() throws {
        let fixture = try Fixture()
        let plan = try fixture.plan("lxc.mount.auto = proc:mixed sys:ro\nlxc.mount.entry = /srv srv none bind,create=dir 0 0\n")
        let steps = plan.setupSummaries
        let pivot = try #require(steps.firstIndex { $0.hasPrefix("pivot_root") })
        #expect(steps.firstIndex(of: "make all mounts private").map { $0 <= 2 } == true, "\(steps)")
        #expect(steps.firstIndex(of: "mount proc on /proc").map { $0 < pivot } == true)
        #expect(steps.firstIndex(of: "make /proc/sys read-only").map { $0 < pivot } == true)
        #expect(steps.firstIndex { $0.hasPrefix("mount /srv on /srv") }.map { $0 < pivot } == true)
        #expect(steps.firstIndex(of: "set the hostname to web").map { $0 > pivot } == true)
        #expect(steps.suffix(2) == ["bring up the loopback interface", "load the seccomp filter"],
                "in execute mode init loads the filter last, after the steps it forbids")
    }

    @Test func readOnlyBindIsFollowedByARemount() throws {
        let fixture = try Fixture()
        let plan = try fixture.plan("lxc.mount.entry = /srv srv none ro,bind 0 0\n")
        let steps = plan.setupSummaries
        let bind = try #require(steps.firstIndex { $0.hasPrefix("mount /srv on /srv") })
        #expect(steps[bind + 1].hasPrefix("apply ro,bind to /srv"))
    }

    @Test func relativeBindSourceIsRejected() throws {
        let fixture = try Fixture()
        #expect(throws: SwrunError.self) { try fixture.plan("lxc.mount.entry = srv srv none bind 0 0\n") }
    }

    @Test func autodevBuildsDevicesAndATerminalAddsTheConsole() throws {
        let fixture = try Fixture()
        let plain = try fixture.plan("lxc.autodev = 1\n").setupSummaries
        #expect(plain.contains("create /dev/null") && plain.contains("mount devpts on /dev/pts"))
        #expect(!plain.contains("open the pty for /dev/console"))
        let withTerminal = try fixture.plan("lxc.autodev = 1\nlxc.tty.max = 2\n", terminal: true).setupSummaries
        #expect(withTerminal.contains("open the pty for /dev/console") && withTerminal.contains("bind the pty to /dev/console"))
        #expect(!withTerminal.contains("bind the pty to /dev/tty1"), "ttys are for booted containers only")
    }

    @Test func bootedContainerGetsTheConsoleAndItsTTYs() throws {
        let fixture = try Fixture()
        let plan = try fixture.plan("lxc.tty.max = 2\n", terminal: true, mode: .boot)
        for device in ["console", "tty1", "tty2"] { #expect(plan.setupSummaries.contains("bind the pty to /dev/\(device)")) }
        #expect(!plan.setupSummaries.contains("bind the pty to /dev/tty3"))
        #expect(plan.terminalCount == 3)
    }

    @Test func commonConfsCapabilitiesAreDroppedWhenTheConfigSaysNothing() throws {
        let fixture = try Fixture()
        let drop = try #require(try fixture.plan("").payloadSummaries.first { $0.hasPrefix("drop capabilities") })
        for name in StartPlan.defaultCapDrop { #expect(drop.contains(name)) }
        #expect(!drop.contains("sys_admin"))
    }

    @Test func payloadSetsIdentityBeforeExec() throws {
        let fixture = try Fixture()
        let steps = try fixture.plan("lxc.init.uid = 1000\nlxc.init.gid = 100\nlxc.no_new_privs = 1\n").payloadSummaries
        #expect(steps.contains("set the user id to 1000") && steps.contains("set the group id to 100"))
        #expect(steps.contains("set no_new_privs"))
        #expect(!steps.contains("limit the capability sets"), "a non-root uid loses its capabilities at setuid")
        #expect(steps.last == "run /bin/true")
    }

    @Test func missingRootfsIsANotFoundError() throws {
        let fixture = try Fixture()
        #expect {
            try fixture.plan("lxc.rootfs.path = dir:/nonexistent/rootfs\n")
        } throws: { error in
            (error as? SwrunError)?.code == .notFound && "\(error)".contains("/nonexistent/rootfs")
        }
    }

    @Test func warningsComeOnePerReason() throws {
        let fixture = try Fixture()
        let plan = try fixture.plan("lxc.net.0.script.up = /bin/true\nlxc.net.0.l2proxy = 1\nlxc.hook.stop = /bin/true\n")
        #expect(plan.warnings.count == 2, "\(plan.warnings)")
        #expect(plan.warnings.first?.contains("lxc.net.0.script.up") == true && plan.warnings.first?.contains("lxc.net.0.l2proxy") == true)
    }

    @Test func keysNotAppliedYetAreWarnedAboutButBootOnlyKeysAreNot() throws {
        let fixture = try Fixture()
        let plan = try fixture.plan("lxc.net.0.script.up = /bin/true\nlxc.signal.halt = SIGUSR1\nlxc.tty.max = 4\n")
        #expect(plan.warnings.count == 1)
        #expect(plan.warnings.first?.contains("lxc.net.0.script.up (") == true && plan.warnings.first?.contains("/config:1)") == true,
                "\(plan.warnings)")
    }

    @Test func idMapsMustLieInRangesDelegatedToRoot() throws {
        let fixture = try Fixture()
        let subuid = fixture.directory + "/subuid", subgid = fixture.directory + "/subgid"
        try FileSystem.writeAtomically(subuid, "root:100000:65536\n")
        try FileSystem.writeAtomically(subgid, "root:100000:65536\n")
        let inside = [IDMap(kind: .uid, containerID: 0, hostID: 100000, count: 65536), IDMap(kind: .gid, containerID: 0, hostID: 100000, count: 65536)]
        try SubordinateIDs.checkDelegation(inside, subuid: subuid, subgid: subgid)
        let outside = [IDMap(kind: .uid, containerID: 0, hostID: 300000, count: 65536)]
        #expect(throws: SwrunError.self) { try SubordinateIDs.checkDelegation(outside, subuid: subuid, subgid: subgid) }
        // No delegation on record for root: root may map what it likes.
        try SubordinateIDs.checkDelegation(outside, subuid: fixture.directory + "/missing", subgid: subgid)
    }

    @Test func anEmptyCgroupValueClearsWhatCameBefore() throws {
        let file = try ConfigFile(text: "lxc.cgroup2.memory.max = 1M\nlxc.cgroup2.pids.max = 10\nlxc.cgroup2.memory.max =\n", path: "c")
        let limits = try ContainerSpec.limits(from: file.settings)
        #expect(limits.values == ["pids.max": "10"])
        let all = try ConfigFile(text: "lxc.cgroup2.memory.max = 1M\nlxc.cgroup2 =\n", path: "c")
        #expect(try ContainerSpec.limits(from: all.settings).isEmpty)
    }

    @Test func overlappingOrRootlessMapsAreRefused() {
        let overlapping = [IDMap(kind: .uid, containerID: 0, hostID: 100000, count: 100), IDMap(kind: .uid, containerID: 50, hostID: 200000, count: 10),
                           IDMap(kind: .gid, containerID: 0, hostID: 100000, count: 100)]
        #expect(throws: SwrunError.self) { try StartPlan.validate(idMaps: overlapping) }
        #expect(throws: SwrunError.self) { try StartPlan.validate(idMaps: [IDMap(kind: .uid, containerID: 1, hostID: 100000, count: 10)]) }
    }

    @Test(arguments: [
        ("sh", "/usr/bin:/bin", ["/usr/bin/sh", "/bin/sh"]),
        ("/opt/tool", "/usr/bin:/bin", ["/opt/tool"]),
        ("./run", "/bin", ["./run"]),
        ("ls", "/bin::/sbin", ["/bin/ls", "./ls", "/sbin/ls"]),
    ])
    func commandIsSearchedInPath(command: String, path: String, expected: [String]) {
        #expect(StartPlan.candidates(for: command, path: path) == expected)
    }

    @Test func cgroupHierarchiesAreReadFromAHybridHostsMountinfo() {
        let mountInfo = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        30 29 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
        32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
        33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
        34 30 0:30 / /sys/fs/cgroup/memory ro,nosuid shared:13 - cgroup cgroup rw,memory
        35 30 0:29 / /srv/cpu rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
        """
        let own = "6:memory:/a/b\n3:cpu,cpuacct:/\n1:name=systemd:/s\n0::/u\n"
        #expect(CgroupHierarchy.mounted(mountInfo: mountInfo, procSelfCgroup: own) == [
            .init(directory: "unified", controllers: [], ownPath: "/u"),
            .init(directory: "systemd", controllers: ["name=systemd"], ownPath: "/s"),
            .init(directory: "cpu,cpuacct", controllers: ["cpu", "cpuacct"], ownPath: "/"),
            .init(directory: "memory", controllers: ["memory"], ownPath: "/a/b", readOnly: true),
        ])
    }

    /// crun's workaround on hybrid hosts: a tmpfs over the unified tree hides it, and a new
    /// tmpfs over /sys/fs/cgroup hides every hierarchy mounted before it.
    @Test func aMountOverAHierarchyHidesIt() {
        let own = "3:memory:/a\n0::/u\n"
        let hybrid = """
        30 29 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
        34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory
        """
        #expect(CgroupHierarchy.mounted(mountInfo: hybrid + "\n40 31 0:50 / /sys/fs/cgroup/unified rw - tmpfs none rw\n", procSelfCgroup: own)
            == [.init(directory: "memory", controllers: ["memory"], ownPath: "/a")])
        #expect(CgroupHierarchy.mounted(mountInfo: hybrid + "\n41 29 0:51 / /sys/fs/cgroup rw - tmpfs none rw\n", procSelfCgroup: own).isEmpty)
        #expect(CgroupHierarchy.mounted(mountInfo: hybrid, procSelfCgroup: own).count == 2)
    }

    /// Only mount points at /sys/fs/cgroup or below count: not a name that merely begins the
    /// same, nor a short or empty line.
    @Test func mountPointsBesideTheCgroupTreeAreNotHierarchies() {
        let own = "3:memory:/a\n"
        let mountInfo = """
        34 30 0:30 / /sys/fs/cgroupfoo rw,nosuid shared:13 - cgroup cgroup rw,memory

        35 30 0:30 / /sys/fs/cgroup
        36 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory
        """
        #expect(CgroupHierarchy.mounted(mountInfo: mountInfo, procSelfCgroup: own) == [.init(directory: "memory", controllers: ["memory"], ownPath: "/a")])
    }

    @Test func hierarchiesMountAgainByTheirControllersAlone() {
        #expect(CgroupHierarchy(directory: "systemd", controllers: ["name=systemd"], ownPath: "/").mountOptions == "none,name=systemd")
        #expect(CgroupHierarchy(directory: "cpu,cpuacct", controllers: ["cpu", "cpuacct"], ownPath: "/").mountOptions == "cpu,cpuacct")
        #expect(CgroupHierarchy(directory: "", controllers: [], ownPath: "/").mountOptions == nil)
    }

    @Test func unifiedHostHasOneHierarchyAtTheRoot() {
        let mountInfo = "25 22 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
        #expect(CgroupHierarchy.mounted(mountInfo: mountInfo, procSelfCgroup: "0::/user.slice\n")
            == [.init(directory: "", controllers: [], ownPath: "/user.slice")])
    }
}

@Suite struct RuntimeRecordTests {
    @Test func recordReadsBackWhatWasWritten() {
        let record = RuntimeRecord(state: .running, mode: .boot, initProcess: ProcessIdentity(pid: 42, startTime: 7),
                                   monitor: ProcessIdentity(pid: 41, startTime: 6), cgroups: ["/sys/fs/cgroup/memory/swrun-web-0011aabb"],
                                   cgroupDirectory: "web/first")
        #expect(RuntimeRecord(text: record.text) == record)
        #expect(RuntimeRecord(text: "garbage") == nil)
    }

    /// The shutdown signals a start read: unset ones stay unset, and a record without them
    /// (or with a line that does not read) has none, so that stop falls back to the config.
    @Test func shutdownSignalsReadBackUnsetOnesIncluded() throws {
        var record = RuntimeRecord(state: .running, mode: .execute, initProcess: ProcessIdentity(pid: 42, startTime: 7), monitor: nil)
        #expect(RuntimeRecord(text: record.text)?.signals == nil)
        record.signals = ShutdownSignalSpec(halt: SIGUSR1, reboot: nil, stop: SIGKILL)
        #expect(record.text.contains("\nsignals=10,,9\n"))
        #expect(RuntimeRecord(text: record.text) == record)
        let torn = record.text.replacing("signals=10,,9", with: "signals=10,9")
        #expect(try #require(RuntimeRecord(text: torn)).signals == nil)
    }

    @Test(arguments: [
        ("/sys/fs/cgroup/memory/a/swrun-web-0011aabb", true),
        ("/sys/fs/cgroup/memory/../../etc/swrun-web-0011aabb", false),
        ("/etc/swrun-web-0011aabb", false),
        ("/sys/fs/cgroup/memory/swrun-other-0011aabb", false),
        ("/sys/fs/cgroup/memory/mine/web/first", true),       // lxc.cgroup.dir = web/first
        ("/sys/fs/cgroup/memory/mine/other/first", false),
        ("/sys/fs/cgroup/memory/../web/first", false),
    ])
    func onlyTheContainersOwnCgroupsAreTouched(path: String, expected: Bool) {
        #expect(ContainerStore.isOwnCgroup(path, of: "web", configuredDirectory: "web/first") == expected)
    }
}

@Suite struct ExplainAndFlagsTests {
    @Test func explanationLinesIndentEveryReason() {
        #expect(Explainer.line(actor: "init", call: "sethostname(\"web\", 3)", why: "one\ntwo") ==
                "[init] sethostname(\"web\", 3)\n       # one\n       # two\n")
    }

    @Test(arguments: [
        (MountFlags([.bind, .recursive]), "MS_BIND|MS_REC"),
        (MountFlags.restrictive, "MS_NOSUID|MS_NODEV|MS_NOEXEC"),
        (MountFlags([]), "0"),
    ])
    func mountFlagsHaveTheirCNames(flags: MountFlags, expected: String) {
        #expect(flags.cNames == expected)
    }

    @Test func syncMessagesCrossASocketPairWithAFileDescriptor() throws {
        var pair: (Int32, Int32) = (-1, -1)
        let made = withUnsafeMutableBytes(of: &pair) {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        try #require(made == 0)
        defer { close(pair.0); close(pair.1) }
        let passed = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(passed) }
        #expect(SyncMessage(.setupFailed, 7, ENOENT).send(on: pair.0, passing: passed))
        let received = try #require(SyncMessage.receive(on: pair.1))
        #expect(received.message == SyncMessage(.setupFailed, 7, ENOENT))
        #expect(received.fd >= 0 && received.fd != passed)
        close(received.fd)
        close(pair.0)
        pair.0 = -1
        #expect(SyncMessage.receive(on: pair.1) == nil, "end of file when init is gone")
    }
}

/// The process keys LXC has and swrun now applies, as steps of the plan.
@Suite struct ProcessKeyPlanTests {
    @Test func limitsGroupsAndRootFlagsBecomeSteps() throws {
        let fixture = try StartPlanTests.Fixture()
        let plan = try fixture.plan("lxc.prlimit.nofile = 100:200\nlxc.init.groups = 50,44\nlxc.rootfs.options = ro,nosuid\n")
        #expect(plan.payloadSummaries.contains("limit RLIMIT_NOFILE to 100/200"), "\(plan.payloadSummaries)")
        #expect(plan.payloadSummaries.contains("set the supplementary groups to [50, 44]"))
        #expect(plan.setupSummaries.contains("make / read-only"), "\(plan.setupSummaries)")
        #expect(plan.warnings.isEmpty, "\(plan.warnings)")
        #expect(try fixture.plan("lxc.rootfs.options = nosuid\n").setupSummaries.contains("remount / with lxc.rootfs.options"))
        #expect(!(try fixture.plan("").setupSummaries.contains { $0.contains("remount /") || $0 == "make / read-only" }))
    }

    @Test func anAppArmorProfileOnAHostWithoutItIsMoot() throws {
        let fixture = try StartPlanTests.Fixture()
        let plan = try fixture.plan("lxc.apparmor.profile = generated\nlxc.apparmor.allow_nesting = 1\n")
        #expect(AppArmor.isEnabled() || plan.warnings.isEmpty, "\(plan.warnings)")
        #expect(AppArmor.isEnabled() || !plan.payloadSummaries.contains { $0.contains("AppArmor") })
    }
}
