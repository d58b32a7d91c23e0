import CLinux
import Glibc
import SwrunConfig
import SwrunJSON
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// The OCI front end: what a config.json becomes, and the plan it leads to, without root.
@Suite struct OCISpecTests {
    /// A bundle directory with a rootfs and the given config.json, removed by `deinit`.
    final class Bundle {
        private let scratch: ScratchDirectory
        var path: String { scratch.path }
        init(_ config: JSONValue) throws {
            scratch = try ScratchDirectory("oci-spec")
            try FileSystem.makeDirectory(path + "/rootfs")
            try FileSystem.writeAtomically(path + "/config.json", config.serialized)
        }

        func spec() throws(SwrunError) -> ContainerSpec { try ContainerSpec(ociBundle: path) }

        func plan() throws -> StartPlan {
            try StartPlan(LaunchRequest(containerName: "oci", containerDirectory: path, spec: try spec(), mode: .boot, explain: false))
        }
    }

    /// runc's `spec` with changes.
    static func config(_ change: (inout [String: JSONValue]) -> Void = { _ in }) -> JSONValue {
        guard case .object(var object) = OCIFeatures.defaultSpec else { return .null }
        object["process"] = ["terminal": false, "args": ["/bin/true"], "cwd": "/", "env": ["PATH=/bin"], "user": ["uid": 0, "gid": 0]]
        change(&object)
        return .object(object)
    }

    @Test func theStandardMountsBecomeSwrunsKernelFilesystems() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .array(var mounts)? = config["mounts"] else { return }
            mounts.append(["destination": "/data", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]])
            config["mounts"] = .array(mounts)
        })
        let spec = try bundle.spec()
        #expect(spec.filesystems.proc == .rw && spec.filesystems.sys == .ro && spec.filesystems.cgroup == .ro)
        #expect(spec.devices.standardNodes)
        #expect(spec.mounts.compactMap(\.entry).map(\.target) == ["dev/shm", "dev/mqueue", "data"], "proc, sys, cgroup, /dev and devpts are swrun's own")
        #expect(spec.mounts.filter { $0.entry == nil } == [.proc, .dev, .devpts, .sysfs, .cgroup], "in the bundle's order")
        let data = try #require(spec.mounts.last?.entry)
        #expect(data.flags & UInt(MS_BIND) != 0 && data.flags & UInt(MS_RDONLY) != 0 && data.create == .directory)
        #expect(spec.readOnlyPaths.contains("/proc/sys") && spec.maskedPaths.contains("/proc/kcore"))
        #expect(spec.rootfs == bundle.path + "/rootfs" && spec.readOnlyRoot && spec.hostname == "swrun")
        #expect(spec.process.usesDefaultEnvironment == false && spec.process.profile.environment == ["PATH=/bin"])
    }

    /// A capability swrun does not hold (root here lacks CAP_SYS_RESOURCE) cannot be given:
    /// the container runs without it, and a warning names it.
    @Test func capabilitiesSwrunLacksAreNamedInAWarning() throws {
        let lacking = (0...Int(Capabilities.lastCapability)).filter { Capabilities.permitted() & (UInt64(1) << UInt64($0)) == 0 }
        let asked = lacking.first.map { "CAP_" + Capabilities.name(Int32($0)).uppercased() } ?? "CAP_KILL"
        let bundle = try Bundle(Self.config { config in
            config["process"] = ["terminal": false, "args": ["/bin/true"], "cwd": "/", "user": ["uid": 0, "gid": 0],
                                 "capabilities": ["bounding": [.string(asked), "CAP_CHOWN"], "effective": [.string(asked)]]]
        })
        let spec = try bundle.spec()
        let warning: String? = spec.warnings.first { $0.hasPrefix("not granted: process.capabilities") }
        if lacking.isEmpty {
            #expect(warning == nil, "this process holds every capability: \(spec.warnings)")
        } else {
            #expect(warning?.contains(asked) == true && warning?.contains("CAP_CHOWN") == false, "\(spec.warnings)")
            #expect(spec.process.profile.capabilitySets?.effective == 0, "run without it")
        }
    }

    @Test func namespacesLeftOutAreTheHostsAndPathsAreJoined() throws {
        let bundle = try Bundle(Self.config { config in
            config["hostname"] = nil
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "network", "path": "/proc/1/ns/net"]]]
        })
        let spec = try bundle.spec()
        #expect(spec.namespaces.fromHost == ["uts", "ipc", "cgroup"])
        #expect(spec.namespaces.joined == ["net": "/proc/1/ns/net"])
        #expect(!spec.namespaces.hostNetwork)

        let withHostname = try Bundle(Self.config { config in
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"]]]
        })
        #expect(throws: SwrunError.self, "a hostname needs a uts namespace of its own") { try withHostname.spec() }
        let noPid = try Bundle(Self.config { config in config["linux"] = ["namespaces": [["type": "mount"]]] })
        #expect(throws: SwrunError.self) { try noPid.spec() }
    }

    @Test func theHostsUTSNamespaceIsNeverGivenAHostname() throws {
        let bundle = try Bundle(Self.config { config in
            config["hostname"] = nil
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "network"]]]
        })
        let plan = try bundle.plan()
        #expect(!plan.setupSummaries.contains { $0.hasPrefix("set the hostname") || $0.hasPrefix("set the domain name") })
        #expect(plan.namespaces.flags & SWRUN_CLONE_NEWUTS == 0 && plan.namespaces.flags & SWRUN_CLONE_NEWIPC == 0)
        #expect(plan.namespaces.flags & SWRUN_CLONE_NEWNET != 0)
    }

    @Test func devicesSysctlsAndTheRootLandInThePlan() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .object(var linux)? = config["linux"] else { return }
            linux["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0]]
            linux["sysctl"] = ["net.ipv4.ip_forward": "1"]
            linux["rootfsPropagation"] = "rslave"
            config["linux"] = .object(linux)
        })
        let steps = try bundle.plan().setupSummaries
        let pivot = try #require(steps.firstIndex { $0.hasPrefix("pivot_root") })
        #expect(steps.firstIndex(of: "create /dev/fuse").map { $0 < pivot } == true, "\(steps)")
        #expect(steps.contains("give /dev/fuse to 0:0"))
        let sysctl = try #require(steps.firstIndex(of: "set net.ipv4.ip_forward = 1"))
        let readOnly = try #require(steps.firstIndex(of: "make /proc/sys read-only"))
        #expect(sysctl < readOnly, "sysctls are written before /proc/sys is made read-only")
        #expect(steps.firstIndex(of: "set the propagation of /").map { $0 > pivot } == true)
        #expect(steps.firstIndex(of: "make / read-only").map { $0 > pivot } == true)
    }

    @Test func processFieldsBecomeTheProfile() throws {
        let bundle = try Bundle(Self.config { config in
            config["process"] = ["args": ["sh"], "cwd": "/srv", "env": ["A=1"], "noNewPrivileges": true,
                                 "user": ["uid": 1000, "gid": 100, "umask": 63, "additionalGids": [5]],
                                 "capabilities": ["bounding": ["CAP_NET_RAW", "CAP_KILL"], "effective": ["CAP_KILL"],
                                                  "permitted": ["CAP_KILL"], "inheritable": [], "ambient": ["CAP_KILL"]],
                                 "rlimits": [["type": "RLIMIT_NOFILE", "soft": 100, "hard": 200]], "oomScoreAdj": 500]
        })
        let process = try bundle.spec().process
        let kill = UInt64(1) << 5, raw = UInt64(1) << 13
        #expect(process.profile.uid == 1000 && process.profile.gid == 100 && process.profile.umask == 63)
        #expect(process.profile.additionalGroups == [5] && process.profile.noNewPrivileges && process.profile.cwd == "/srv")
        #expect(process.profile.keptCapabilities == kill | raw)
        #expect(process.profile.capabilitySets == CapabilitySets(effective: kill, permitted: kill, inheritable: 0, ambient: kill))
        #expect(process.profile.resourceLimits == [ResourceLimit(resource: 7, name: "RLIMIT_NOFILE", soft: 100, hard: 200)])
        #expect(process.oomScoreAdjustment == 500)
        let payload = try bundle.plan().payloadSummaries
        #expect(payload.contains("keep the permitted capabilities across the user switch"), "\(payload)")
        #expect(payload.contains("set the supplementary groups to [5]") && payload.contains("limit RLIMIT_NOFILE to 100/200"))
    }

    @Test func resourcesBecomeLimitsAndTheDevicePolicy() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .object(var linux)? = config["linux"] else { return }
            linux["resources"] = ["memory": ["limit": 67_108_864, "swap": 134_217_728, "kernel": 1_048_576, "swappiness": 10], "pids": ["limit": 64],
                                  "cpu": ["shares": 512, "quota": 50000, "period": 100_000, "cpus": "0"],
                                  "devices": [["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"]]]
            linux["cgroupsPath"] = "/some/where"
            config["linux"] = .object(linux)
        })
        let spec = try bundle.spec()
        #expect(spec.resources.limits.values == ["memory.max": "67108864", "pids.max": "64", "cpu.max": "50000 100000", "cpuset.cpus": "0"])
        let v1 = try spec.resources.limits.writes(for: .hybrid).map { "\($0.file)=\($0.value)" }
        #expect(v1.contains("cpu.shares=512") && v1.contains("memory.memsw.limit_in_bytes=134217728") && v1.contains("memory.swappiness=10"),
                "a v1 host gets the bundle's values exactly: \(v1)")
        let v2 = try spec.resources.limits.writes(for: .unified).map { "\($0.file)=\($0.value)" }
        #expect(v2.contains("cpu.weight=20") && v2.contains("memory.swap.max=67108864") && !v2.contains { $0.hasPrefix("memory.swappiness") },
                "v2 gets its own forms, and nothing v2 lacks: \(v2)")
        #expect(spec.resources.cgroupDirectory == "/some/where")
        #expect(!spec.resources.devicePolicy.defaultAllow)
        #expect(spec.resources.devicePolicy.rules.first?.description == "c 10:200 rwm", "the bundle's rules, then the standard nodes")
        #expect(spec.resources.devicePolicy.rules.contains { $0.description == "c 1:3 rwm" })
        #expect(spec.warnings.contains { $0.contains("memory.kernel") }, "what is not applied is said")
    }

    @Test func hooksKeepTheirPointsAndReadTheState() throws {
        let hook: JSONValue = ["path": "/bin/echo", "args": ["echo", "hi"], "env": ["X=1"], "timeout": 5]
        let bundle = try Bundle(Self.config { config in
            config["hooks"] = ["prestart": [hook], "createRuntime": [hook], "createContainer": [hook], "startContainer": [hook],
                               "poststart": [hook], "poststop": [hook]]
        })
        let hooks = try bundle.spec().hooks
        #expect(hooks.runtimeCreated.count == 2 && hooks.mount.count == 1 && hooks.start.count == 1)
        #expect(hooks.started.count == 1 && hooks.stopped.count == 1 && hooks.beforeStart.isEmpty)
        let first = try #require(hooks.runtimeCreated.first)
        #expect(first.args == ["echo", "hi"] && first.environment == ["X=1"] && first.timeout == 5 && first.readsState && !first.inheritsEnvironment)
        #expect(first.label == "hooks.prestart[0] (/bin/echo)")
    }

    @Test func everyRefusalNamesTheField() throws {
        let cases: [(String, (inout [String: JSONValue]) -> Void)] = [
            ("ociVersion", { $0["ociVersion"] = "2.0.0" }),
            ("root.path", { $0["root"] = ["readonly": true] }),
            ("process.cwd", { $0["process"] = ["args": ["sh"], "cwd": "relative"] }),
            ("process.args", { $0["process"] = ["args": [], "cwd": "/"] }),
            ("process.apparmorProfile", { $0["process"] = ["args": ["sh"], "cwd": "/", "apparmorProfile": "x"] }),
            ("process.rlimits[0].type", { $0["process"] = ["args": ["sh"], "cwd": "/", "rlimits": [["type": "RLIMIT_BOGUS", "soft": 1, "hard": 1]]] }),
            ("process.capabilities.bounding[0]", { $0["process"] = ["args": ["sh"], "cwd": "/", "capabilities": ["bounding": ["CAP_BOGUS"]]] }),
            ("linux.namespaces[0].type", { $0["linux"] = ["namespaces": [["type": "bogus"]]] }),
            ("linux.uidMappings", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "user", "path": "/run/userns/pod"]]] }),
            ("linux.intelRdt.closID", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]], "intelRdt": ["closID": "../x"]] }),
            ("linux.seccomp.defaultAction", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]], "seccomp": ["defaultAction": "SCMP_ACT_BOGUS"]] }),
            ("mounts[0]", { $0["mounts"] = [["destination": "/x", "type": "tmpfs", "source": "tmpfs", "uidMappings": Self.oneMap, "gidMappings": Self.oneMap]] }),
            ("mounts[0]", { $0["mounts"] = [["destination": "/x", "type": "bind", "source": "/etc", "options": ["rbind"], "uidMappings": Self.oneMap]] }),
            ("mounts[0]", { $0["mounts"] = [["destination": "/x", "type": "bind", "source": "/etc", "options": ["rbind", "idmap"]]] }),
            ("linux.seccomp.listenerPath", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]],
                                                            "seccomp": ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]]]] }),
            ("linux.seccomp.defaultAction", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]],
                                                             "seccomp": ["defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"]] }),
            ("linux.timeOffsets", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]], "timeOffsets": ["boottime": ["secs": 1]]] }),
            ("linux.timeOffsets", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "time", "path": "/proc/1/ns/time"]],
                                                   "timeOffsets": ["boottime": ["secs": 1]]] }),
            ("linux.timeOffsets.realtime", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "time"]], "timeOffsets": ["realtime": ["secs": 1]]] }),
            ("linux.timeOffsets.boottime.nanosecs", { $0["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "time"]],
                                                                    "timeOffsets": ["boottime": ["nanosecs": 1_000_000_000]]] }),
            ("process.ioPriority.class", { $0["process"] = ["args": ["sh"], "cwd": "/", "ioPriority": ["class": "IOPRIO_CLASS_FAST", "priority": 1]] }),
            ("process.ioPriority.priority", { $0["process"] = ["args": ["sh"], "cwd": "/", "ioPriority": ["class": "IOPRIO_CLASS_BE", "priority": 8]] }),
            ("process.scheduler.policy", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "X"]] }),
            ("process.scheduler.policy", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_ISO"]] }),
            ("process.scheduler.nice", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_OTHER", "nice": 20]] }),
            ("process.scheduler.priority", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_FIFO"]] }),
            ("process.scheduler.priority", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_BATCH", "priority": 5]] }),
            ("process.scheduler.flags[1]", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_RECLAIM", "SCHED_FLAG_FAST"]]] }),
            ("process.scheduler", { $0["process"] = ["args": ["sh"], "cwd": "/", "scheduler": ["policy": "SCHED_DEADLINE", "runtime": 20, "deadline": 10]] }),
            ("process.execCPUAffinity.initial", { $0["process"] = ["args": ["sh"], "cwd": "/", "execCPUAffinity": ["initial": "3-1"]] }),
            ("process.execCPUAffinity.final", { $0["process"] = ["args": ["sh"], "cwd": "/", "execCPUAffinity": ["final": "0,x"]] }),
        ]
        for (field, change) in cases {
            let bundle = try Bundle(Self.config(change))
            do {
                _ = try bundle.spec()
                Issue.record("\(field): accepted")
            } catch {
                #expect(error.code == .invalidConfig && error.message.contains(field), "\(field): \(error.message)")
            }
        }
    }

    @Test func ioPriorityAndSchedulerAreSetBeforeTheCredentials() throws {
        let bundle = try Bundle(Self.config { config in
            config["process"] = ["args": ["sh"], "cwd": "/", "user": ["uid": 1000, "gid": 1000],
                                 "ioPriority": ["class": "IOPRIO_CLASS_RT", "priority": 3],
                                 "scheduler": ["policy": "SCHED_RR", "priority": 20, "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]]]
        })
        let profile = try bundle.spec().process.profile
        #expect(profile.ioPriority == IOPriority(ioClass: .realtime, level: 3) && profile.ioPriority?.value == 1 << 13 | 3)
        #expect(profile.scheduler == SchedulerSettings(policy: .roundRobin, nice: -5, priority: 20, flags: 1))
        let payload = try bundle.plan().payloadSummaries
        let io = try #require(payload.firstIndex(of: "set the I/O priority to IOPRIO_CLASS_RT 3 (process.ioPriority)"), "\(payload)")
        let policy = try #require(payload.firstIndex { $0.hasPrefix("set the scheduling policy to SCHED_RR nice -5 priority 20 SCHED_FLAG_RESET_ON_FORK") }, "\(payload)")
        let user = try #require(payload.firstIndex(of: "set the user id to 1000"))
        #expect(io < user && policy < user, "while CAP_SYS_NICE is still held")
    }

    @Test func cpuListsReadAsTheKernelWritesThem() throws {
        let list = try #require(CPUList("0-3,7, 9"))
        #expect(list.cpus == [0, 1, 2, 3, 7, 9])
        #expect(list.mask == [0x8f, 0x02, 0, 0, 0, 0, 0, 0])
        #expect(CPUList("70")?.mask.count == 16, "whole 64-bit words")
        for bad in ["", "a", "1-", "-1", "3-1", "1,,2", "1024"] { #expect(CPUList(bad) == nil, "\(bad)") }
    }

    @Test func execCPUAffinityIsForExecOnlyAndSurvivesTheProfileFile() throws {
        let bundle = try Bundle(Self.config { config in
            config["process"] = ["args": ["sh"], "cwd": "/", "execCPUAffinity": ["initial": "0-1", "final": "1"],
                                 "ioPriority": ["class": "IOPRIO_CLASS_IDLE", "priority": 0], "scheduler": ["policy": "SCHED_BATCH", "nice": 3]]
        })
        let profile = try bundle.spec().process.profile
        #expect(profile.execCPUAffinity == ExecCPUAffinity(initial: CPUList("0-1"), final: CPUList("1")))
        #expect(!(try bundle.plan().payloadSummaries.contains { $0.hasPrefix("run on CPUs") }), "the spec leaves the container's own process alone")
        let identity = ProcessIdentity(pid: 42, startTime: 7)
        try profile.write(toContainer: bundle.path, initProcess: identity)
        let loaded = try ProcessProfile.load(fromContainer: bundle.path, name: "oci", initProcess: identity)
        #expect(loaded == profile, "exec reads them back from the running container's record")
    }

    @Test func timeOffsetsMakeATimeNamespaceBeforeAnythingElse() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .object(var linux)? = config["linux"], case .array(let namespaces)? = linux["namespaces"] else { return }
            linux["namespaces"] = .array(namespaces + [["type": "time"]])
            linux["timeOffsets"] = ["boottime": ["secs": 3600], "monotonic": ["secs": -2, "nanosecs": 500]]
            config["linux"] = .object(linux)
        })
        let spec = try bundle.spec()
        #expect(spec.timeNamespace?.boottime == ClockOffset(seconds: 3600) && spec.timeNamespace?.monotonic == ClockOffset(seconds: -2, nanoseconds: 500))
        let log = ContainerCallsTests.walk(try bundle.plan(), with: RecordingCalls())
        let start = try #require(log.firstIndex(of: "unshare(128)"), "unshare(CLONE_NEWTIME): \(log)")
        #expect(Array(log[start...].prefix(4)) == [
            "unshare(128)", "open(/proc/self/timens_offsets)", "write(fd(/proc/self/timens_offsets), monotonic -2 500\nboottime 3600 0\n)",
            "open(/proc/self/ns/time_for_children)",
        ], "offsets written before any process is in the namespace")
        #expect(log.contains("setns(fd(/proc/self/ns/time_for_children), 128)"), "init enters it itself: \(log)")
        #expect(log.firstIndex { $0.hasPrefix("mount(") }.map { $0 > start } == true, "before the tree is built")

        let joined = try Bundle(Self.config { config in
            guard case .object(var linux)? = config["linux"], case .array(let namespaces)? = linux["namespaces"] else { return }
            linux["namespaces"] = .array(namespaces + [["type": "time", "path": "/proc/self/ns/time"]])
            config["linux"] = .object(linux)
        })
        #expect(try joined.spec().timeNamespace == nil && joined.spec().namespaces.joined["time"] == "/proc/self/ns/time")
        #expect(try joined.plan().setupSummaries.contains("join the time namespace of /proc/self/ns/time"))
    }

    @Test func rroAndRrwBecomeOneRecursiveMountSetattr() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .array(var mounts)? = config["mounts"] else { return }
            mounts.append(["destination": "/ro-tree", "type": "bind", "source": "/etc", "options": ["rbind", "rro"]])
            mounts.append(["destination": "/rw-tree", "type": "bind", "source": "/etc", "options": ["rbind", "ro", "rrw"]])
            config["mounts"] = .array(mounts)
        })
        let entries = try bundle.spec().mounts.compactMap(\.entry)
        #expect(entries.map(\.recursiveReadOnly) == [nil, nil, true, false])
        #expect(!entries.contains { $0.data.contains("rro") || $0.data.contains("rrw") }, "never passed to mount(2)")
        let log = ContainerCallsTests.walk(try bundle.plan(), with: RecordingCalls())
        #expect(log.contains("mount_setattr(fd(/ro-tree), AT_RECURSIVE, set 1, clear 0)") && log.contains("mount_setattr(fd(/rw-tree), AT_RECURSIVE, set 0, clear 1)"), "\(log)")
        let bind = try #require(log.firstIndex { $0.hasPrefix("mount(/etc, fd(/ro-tree)") }, "\(log)")
        #expect(log.firstIndex(of: "mount_setattr(fd(/ro-tree), AT_RECURSIVE, set 1, clear 0)").map { $0 > bind } == true, "after the bind")

        var oldKernel = try #require(HostFacts.current() as HostFacts?)
        oldKernel.kernel = (5, 10)
        var request = LaunchRequest(containerName: "oci", containerDirectory: bundle.path, spec: try bundle.spec(), mode: .boot, explain: false)
        request.hostFacts = oldKernel
        #expect(throws: SwrunError.self, "a kernel without mount_setattr is told so") { try StartPlan(request) }
        #expect(OCIFeatures.mountOptions.contains("rro") && OCIFeatures.mountOptions.contains("rrw"))
    }

    static let oneMap: JSONValue = [["containerID": 0, "hostID": 1000, "size": 1]]

    @Test func idMappedBindsCarryTheirMapsAndTheirOptionsStayOutOfMount() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .array(var mounts)? = config["mounts"] else { return }
            mounts.append(["destination": "/mapped", "type": "bind", "source": "/etc", "options": ["rbind", "ro", "ridmap"],
                           "uidMappings": Self.oneMap, "gidMappings": [["containerID": 0, "hostID": 2000, "size": 1]]])
            config["mounts"] = .array(mounts)
        })
        let entry = try #require(try bundle.spec().mounts.compactMap(\.entry).last)
        #expect(entry.idMaps == [IDMap(kind: .uid, containerID: 0, hostID: 1000, count: 1), IDMap(kind: .gid, containerID: 0, hostID: 2000, count: 1)])
        #expect(entry.recursiveIDMap && !entry.data.contains("idmap"), "ridmap is no mount(2) option")
    }

    @Test func idmapWithoutMapsTakesTheContainersUserNamespaceMaps() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .array(var mounts)? = config["mounts"], case .object(var linux)? = config["linux"],
                  case .array(var namespaces)? = linux["namespaces"] else { return }
            mounts.append(["destination": "/mapped", "type": "bind", "source": "/etc", "options": ["bind", "idmap"]])
            config["mounts"] = .array(mounts)
            namespaces.append(["type": "user"])
            linux["namespaces"] = .array(namespaces)
            linux["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
            config["linux"] = .object(linux)
        })
        let spec = try bundle.spec()
        let entry = try #require(spec.mounts.compactMap(\.entry).last)
        #expect(entry.idMaps == spec.idMaps && !entry.recursiveIDMap)
    }

    /// Root's: the detached mount and its user namespace are made on the host as the plan is.
    @Test(.enabled(if: getuid() == 0)) func anIDMappedBindIsAttachedNotMounted() throws {
        let bundle = try Bundle(Self.config { config in
            guard case .array(var mounts)? = config["mounts"] else { return }
            mounts.append(["destination": "/mapped", "type": "bind", "source": "/etc", "options": ["rbind", "ro"],
                           "uidMappings": Self.oneMap, "gidMappings": Self.oneMap])
            config["mounts"] = .array(mounts)
        })
        let plan = try bundle.plan()
        #expect(plan.idMappedMounts.fds.count == 1)
        let log = ContainerCallsTests.walk(plan, with: RecordingCalls())
        let attached = try #require(log.firstIndex { $0.hasPrefix("move_mount(") && $0.hasSuffix("fd(/mapped))") }, "\(log)")
        #expect(!log.contains { $0.hasPrefix("mount(/etc, fd(/mapped)") }, "no mount(2) of the source: the detached mount is it")
        let remount = try #require(log.firstIndex { $0.hasPrefix("mount(NULL, fd(/mapped), NULL, MS_") && $0.contains("MS_RDONLY") }, "\(log)")
        #expect(remount > attached, "ro on the attached bind, as on any bind")
    }

    @Test func aJoinedUserNamespaceLendsItsMapsWhereTheBundleGivesNone() throws {
        let bundle = try Bundle(Self.config { config in
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "user", "path": "/proc/1/ns/user"]]]
        })
        let spec = try bundle.spec()
        #expect(spec.namespaces.joined["user"] == "/proc/1/ns/user")
        #expect(spec.idMaps == [IDMap(kind: .uid, containerID: 0, hostID: 0, count: 4_294_967_295), IDMap(kind: .gid, containerID: 0, hostID: 0, count: 4_294_967_295)],
                "the host's own maps, read from /proc/1: \(spec.idMaps)")
    }

    @Test func aNotifyFilterIsLoadedWithAListenerWhoseFdGoesToTheRuntime() throws {
        let bundle = try Bundle(Self.config { config in
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]],
                               "seccomp": ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
                                           "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]]]]
        })
        let plan = try bundle.plan()
        #expect(plan.spec.process.profile.seccompListener == "/run/agent.sock")
        let calls = RecordingCalls()
        let executor = PayloadExecutor(calls: calls, consoleTerminal: -1, lastCapability: 40, syncChannel: 7)
        let step = try #require(plan.payload.first { if case .loadSeccompWithListener = $0.action { true } else { false } }, "\(plan.payloadSummaries)")
        #expect(executor.perform(step.action) == 0)
        #expect(calls.log.count == 2 && calls.log[0].hasSuffix("NEW_LISTENER)") && calls.log[1] == "send(7, kind 7, fd(seccomp notify))", "\(calls.log)")
        let noRuntime = PayloadExecutor(calls: RecordingCalls(), consoleTerminal: -1, lastCapability: 40)
        #expect(noRuntime.perform(step.action) == EBADF, "no sync socket, no listener: refused, not loaded")
    }

    @Test func anExecdProcessLoadsTheFilterWithAListenerToo() throws {
        let bundle = try Bundle(Self.config { config in
            config["linux"] = ["namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]],
                               "seccomp": ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
                                           "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]]]]
        })
        let identity = ProcessIdentity(pid: 42, startTime: 7)
        try bundle.spec().process.profile.write(toContainer: bundle.path, initProcess: identity)
        let profile = try ProcessProfile.load(fromContainer: bundle.path, name: "oci", initProcess: identity)
        #expect(profile.seccompListener == "/run/agent.sock", "exec reads it from the running container's record")
        var request = LaunchRequest(containerName: "oci", containerDirectory: bundle.path,
                                    spec: ContainerSpec(rootfs: "", process: ProcessSpec(args: ["sh"], profile: profile)), mode: .attach, explain: false)
        request.attachTarget = AttachTarget(pidfd: -1, namespaces: 0, namespaceNames: "", cgroupFDs: [])
        request.attachProfile = profile
        let summaries = try StartPlan(request).payloadSummaries
        let load = summaries.firstIndex { $0.hasPrefix("load the seccomp filter and hand its notify fd") }
        let fork = summaries.firstIndex { $0.hasPrefix("fork the command") }
        #expect(load != nil && fork != nil && load! < fork!, "the first child loads it and sends the fd before the fork: \(summaries)")
    }
}
