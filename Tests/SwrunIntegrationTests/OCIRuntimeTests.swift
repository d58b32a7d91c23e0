import CLinux
import Foundation
import Glibc
import Testing

/// An OCI bundle over a busybox rootfs, with its own state root: `swrun oci --root ROOT ...`.
final class OCIBundleFixture {
    let sandbox: Sandbox
    let bundle: String
    let root: String

    init() throws {
        sandbox = try Sandbox()
        let name = sandbox.name("rootfs")
        try sandbox.create(name)
        bundle = sandbox.path + "/bundle"
        root = sandbox.path + "/oci"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let made = try oci(["spec", "--bundle", bundle])
        #expect(made.status == 0, "\(made.stderr)")
        try edit { config in
            config["root"] = ["path": self.sandbox.path + "/" + name + "/rootfs", "readonly": false]
            var process = config["process"] as? [String: Any] ?? [:]
            process["terminal"] = false
            config["process"] = process
        }
    }

    /// Changes config.json.
    func edit(_ change: (inout [String: Any]) -> Void) throws {
        let path = bundle + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
    }

    /// Sets process.args (and more of process when given).
    func command(_ args: [String], _ more: [String: Any] = [:]) throws {
        try edit { config in
            var process = config["process"] as? [String: Any] ?? [:]
            process["args"] = args
            for (key, value) in more { process[key] = value }
            config["process"] = process
        }
    }

    @discardableResult
    func oci(_ arguments: [String], input: String? = nil, timeout: TimeInterval = 60) throws -> Swrun.Result {
        try Swrun.run(["oci", "--root", root] + arguments, input: input, timeout: timeout)
    }

    func state(_ id: String) throws -> [String: Any] {
        let result = try oci(["state", id])
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
    }

    /// Every container of this root is deleted, whatever a test left.
    deinit {
        let list = (try? oci(["list", "-q"]))?.stdout ?? ""
        for id in list.split(separator: "\n") { _ = try? oci(["delete", "--force", String(id)]) }
    }
}

/// A seccomp agent at linux.seccomp.listenerPath: takes `connections` messages, one a
/// connection, writes each (the state, and how many fds came) to agent-N.json, and closes the
/// fds (the notifying calls then fail with ENOSYS, as the kernel has it without a listener).
final class SeccompAgent {
    let socketPath: String
    private let directory: String
    private let process = Process()

    init(in directory: String, connections: Int) throws {
        self.directory = directory
        socketPath = directory + "/agent.sock"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import array, json, os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(4)
            for n in range(int(sys.argv[3])):
                c, _ = s.accept()
                message, ancillary, _, _ = c.recvmsg(65536, socket.CMSG_LEN(16))
                fds = array.array("i")
                for level, kind, data in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS: fds.frombytes(data[:len(data) - len(data) % 4])
                state = json.loads(message); state["received"] = len(fds)
                open(sys.argv[2] + "/agent-%d.json" % n, "w").write(json.dumps(state))
                for fd in fds: os.close(fd)
                c.close()
            """, socketPath, directory, String(connections)]
        try process.run()
        for _ in 0..<250 where !FileManager.default.fileExists(atPath: socketPath) { usleep(20_000) }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// linux.seccomp with mkdir and mkdirat notified to this agent.
    func notifyOnMkdir(_ config: inout [String: Any]) {
        var linux = config["linux"] as? [String: Any] ?? [:]
        linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "listenerPath": socketPath,
                            "listenerMetadata": "from-the-test",
                            "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]]]
        config["linux"] = linux
    }

    /// The `index`th message the agent took (empty if none came).
    func message(_ index: Int) -> [String: Any] {
        let url = URL(fileURLWithPath: directory + "/agent-\(index).json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }
}

/// swrun-oci, the OCI runtime with runc's command line, driven as an engine drives it.
@Suite(.serialized) struct OCIRuntimeTests {
    @Test func createStartStateKillDeleteWalkTheLifecycle() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sh", "-c", "echo started; exec sleep 60"])
        let pidFile = fixture.sandbox.path + "/pid"
        let created = try fixture.oci(["create", "--bundle", fixture.bundle, "--pid-file", pidFile, "life"])
        #expect(created.status == 0, "\(created.stderr)")
        let pid = Int(try String(contentsOfFile: pidFile, encoding: .utf8)) ?? -1
        var state = try fixture.state("life")
        #expect(state["status"] as? String == "created" && state["pid"] as? Int == pid && state["id"] as? String == "life", "\(state)")
        #expect(state["bundle"] as? String == fixture.bundle && state["ociVersion"] as? String == "1.0.2")
        // Created, the process has not run: its command line is still swrun's.
        #expect(!((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("sleep"))

        #expect(try fixture.oci(["start", "life"]).status == 0)
        state = try fixture.state("life")
        #expect(state["status"] as? String == "running", "\(state)")
        #expect(((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("sleep"))
        let listed = try fixture.oci(["list", "--format", "json"]).stdout
        #expect(listed.contains("\"id\":\"life\"") && listed.contains("\"status\":\"running\""), "\(listed)")
        #expect(try fixture.oci(["ps", "--format", "json", "life"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\(pid)]")

        let refused = try fixture.oci(["delete", "life"])
        #expect(refused.status != 0 && refused.stderr.contains("not stopped"), "a running container is deleted only with --force")
        #expect(try fixture.oci(["kill", "life", "KILL"]).status == 0)
        for _ in 0..<100 where (try fixture.state("life"))["status"] as? String != "stopped" { usleep(20_000) }
        #expect((try fixture.state("life"))["status"] as? String == "stopped")
        #expect(try fixture.oci(["delete", "life"]).status == 0)
        let gone = try fixture.oci(["state", "life"])
        #expect(gone.status != 0 && gone.stderr.contains("container does not exist: life"))
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/life"))
        #expect(try fixture.oci(["delete", "--force", "life"]).status == 0, "deleting what is gone with --force succeeds, as runc")
    }

    @Test func runGivesTheProcessExactlyWhatTheBundleSays() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sh", "-c", "hostname; id -u; id -g; id -G; pwd; env | sort; ulimit -n; touch /x 2>&1; cat /proc/sys/kernel/domainname; cat /proc/kcore | wc -c; exit 7"], [
            "env": ["PATH=/bin:/usr/bin", "ONLY=this"], "cwd": "/tmp",
            "user": ["uid": 1000, "gid": 1000, "additionalGids": [5, 6]],
            "rlimits": [["type": "RLIMIT_NOFILE", "soft": 512, "hard": 512]],
        ])
        try fixture.edit { config in
            config["hostname"] = "bundled"
            config["domainname"] = "example.test"
            config["root"] = ["path": (config["root"] as? [String: Any])?["path"] ?? "", "readonly": true]
        }
        let ran = try fixture.oci(["run", "--bundle", fixture.bundle, "exact"])
        #expect(ran.status == 7, "the process's exit status is run's: \(ran.stderr)")
        let lines = ran.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(5) == ["bundled", "1000", "1000", "1000 5 6", "/tmp"], "\(lines)")
        #expect(lines.contains("ONLY=this") && lines.contains("PATH=/bin:/usr/bin") && !lines.contains { $0.hasPrefix("container=") },
                "process.env is the whole environment: \(lines)")
        #expect(lines.contains("512") && lines.contains("example.test"))
        #expect(lines.contains { $0.contains("Read-only file system") }, "root.readonly: \(lines)")
        #expect(lines.last == "0", "/proc/kcore is masked: \(lines)")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/exact"), "run deletes the container once its process ends")
    }

    @Test func hooksRunAtTheirPointsWithTheStateOnStdin() throws {
        let fixture = try OCIBundleFixture()
        let log = fixture.sandbox.path + "/hooks"
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        func hook(_ point: String) -> [String: Any] {
            ["path": "/bin/sh", "args": ["sh", "-c", "cat > \(log)/\(point); echo $HOOK_VAR >> \(log)/\(point)"], "env": ["HOOK_VAR=\(point)"]]
        }
        try fixture.edit { config in
            config["hooks"] = ["prestart": [hook("prestart")], "createRuntime": [hook("createRuntime")],
                               "createContainer": [hook("createContainer")],
                               "poststart": [hook("poststart")], "poststop": [hook("poststop")]]
        }
        try fixture.command(["sleep", "60"])
        #expect(try fixture.oci(["create", "--bundle", fixture.bundle, "hooked"]).status == 0)
        let created = (try? String(contentsOfFile: log + "/createRuntime", encoding: .utf8)) ?? ""
        #expect(created.contains("\"id\":\"hooked\"") && created.contains("\"status\":\"created\"") && created.hasSuffix("createRuntime\n"), "\(created)")
        #expect(FileManager.default.fileExists(atPath: log + "/prestart"))
        // createContainer runs in the container's mount namespace (the host's programs, the log
        // directory still reachable before pivot_root), with the state on stdin too.
        let inContainer = (try? String(contentsOfFile: log + "/createContainer", encoding: .utf8)) ?? ""
        #expect(inContainer.contains("\"id\":\"hooked\"") && inContainer.contains("\"pid\":"), "\(inContainer)")
        #expect(!FileManager.default.fileExists(atPath: log + "/poststart"), "poststart waits for start")
        #expect(try fixture.oci(["start", "hooked"]).status == 0)
        #expect(((try? String(contentsOfFile: log + "/poststart", encoding: .utf8)) ?? "").contains("\"status\":\"running\""))
        #expect(try fixture.oci(["delete", "--force", "hooked"]).status == 0)
        #expect(((try? String(contentsOfFile: log + "/poststop", encoding: .utf8)) ?? "").contains("\"status\":\"stopped\""))

        // A failing createRuntime hook stops the create, and leaves nothing.
        try fixture.edit { config in config["hooks"] = ["createRuntime": [["path": "/bin/false"]]] }
        let failed = try fixture.oci(["create", "--bundle", fixture.bundle, "failing"])
        #expect(failed.status != 0 && failed.stderr.contains("hooks.createRuntime[0]"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/failing"))

        // A hook inside the container that outlives its timeout is killed, and the create fails.
        try fixture.edit { config in config["hooks"] = ["createContainer": [["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1]]] }
        let slow = try fixture.oci(["create", "--bundle", fixture.bundle, "slow"])
        #expect(slow.status != 0 && slow.stderr.contains("hooks.createContainer[0]") && slow.stderr.contains("timed out"), "\(slow.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/slow"))
    }

    @Test func badBundlesAreRefusedAsRuncRefusesThemAndLeaveNothing() throws {
        let fixture = try OCIBundleFixture()
        let empty = fixture.sandbox.path + "/empty-bundle"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let missing = try fixture.oci(["create", "--bundle", empty, "bad"])
        #expect(missing.status != 0 && missing.stderr.contains("config.json"), "\(missing.stderr)")

        try fixture.edit { $0["ociVersion"] = "2.0.0" }
        let version = try fixture.oci(["create", "--bundle", fixture.bundle, "bad"])
        #expect(version.status != 0 && version.stderr.contains("ociVersion"), "\(version.stderr)")
        try fixture.edit { $0["ociVersion"] = "1.0.2" }

        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["intelRdt"] = ["closID": "x"]
            config["linux"] = linux
        }
        let unsupported = try fixture.oci(["--log", fixture.sandbox.path + "/log.json", "--log-format", "json", "create", "--bundle", fixture.bundle, "bad"])
        #expect(unsupported.status != 0 && unsupported.stderr.contains("linux.intelRdt"), "\(unsupported.stderr)")
        let logged = (try? String(contentsOfFile: fixture.sandbox.path + "/log.json", encoding: .utf8)) ?? ""
        #expect(logged.contains("\"level\":\"error\"") && logged.contains("linux.intelRdt"), "the shims read the error from --log: \(logged)")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/bad"))

        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["intelRdt"] = nil
            config["linux"] = linux
        }
        try fixture.command(["sleep", "60"])
        #expect(try fixture.oci(["create", "--bundle", fixture.bundle, "twice"]).status == 0)
        let again = try fixture.oci(["create", "--bundle", fixture.bundle, "twice"])
        #expect(again.status != 0 && again.stderr.contains("container with id exists: twice"), "\(again.stderr)")
        #expect(try fixture.oci(["state", "nothing-here"]).status != 0)
        #expect(try fixture.oci(["kill", "nothing-here"]).status != 0)
        let systemd = try fixture.oci(["--systemd-cgroup", "state", "twice"])
        #expect(systemd.status != 0 && systemd.stderr.contains("cgroupfs"), "\(systemd.stderr)")
    }

    @Test func execRunsInTheContainerInlineOrFromAProcessFile() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sleep", "60"])
        #expect(try fixture.oci(["create", "--bundle", fixture.bundle, "target"]).status == 0)
        #expect(try fixture.oci(["start", "target"]).status == 0)
        let inline = try fixture.oci(["exec", "--env", "EXTRA=1", "target", "sh", "-c", "echo $EXTRA; hostname; exit 3"])
        #expect(inline.status == 3 && inline.stdout == "1\nswrun\n", "\(inline.status) \(inline.stdout) \(inline.stderr)")
        let processFile = fixture.sandbox.path + "/process.json"
        try JSONSerialization.data(withJSONObject: ["args": ["sh", "-c", "id -u; pwd; cat /proc/1/cmdline"], "cwd": "/dev", "env": ["PATH=/bin"],
                                                    "user": ["uid": 33, "gid": 33]]).write(to: URL(fileURLWithPath: processFile))
        let fromFile = try fixture.oci(["exec", "--process", processFile, "target"])
        #expect(fromFile.status == 0 && fromFile.stdout.hasPrefix("33\n/dev\nsleep"), "\(fromFile.stdout) \(fromFile.stderr)")
        let pidFile = fixture.sandbox.path + "/exec.pid"
        let detached = try fixture.oci(["exec", "--detach", "--pid-file", pidFile, "target", "sleep", "30"])
        #expect(detached.status == 0)
        let execPID = try String(contentsOfFile: pidFile, encoding: .utf8)
        #expect(try fixture.oci(["ps", "--format", "json", "target"]).stdout.contains(execPID), "the exec'd process is in the container's cgroup")
        let missing = try fixture.oci(["exec", "target", "/no/such/program"])
        #expect(missing.status == 127, "\(missing.stderr)")
    }

    @Test func resourcesPauseAndUpdateReachTheCgroup() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sleep", "60"])
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": 64 << 20], "pids": ["limit": 50],
                                  "devices": [["allow": false, "access": "rwm"]]]
            config["linux"] = linux
        }
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "limited"]).status == 0)
        let memory = try fixture.oci(["exec", "limited", "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null"])
        #expect(memory.stdout.contains("67108864") && memory.stdout.contains("50"), "\(memory.stdout) \(memory.stderr)")
        let resources = fixture.sandbox.path + "/resources.json"
        try Data("{\"pids\": {\"limit\": 40}}".utf8).write(to: URL(fileURLWithPath: resources))
        #expect(try fixture.oci(["update", "--resources", resources, "limited"]).status == 0)
        let updated = try fixture.oci(["exec", "limited", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null"])
        #expect(updated.stdout.contains("40"), "\(updated.stdout)")

        #expect(try fixture.oci(["pause", "limited"]).status == 0)
        #expect((try fixture.state("limited"))["status"] as? String == "paused")
        #expect(try fixture.oci(["resume", "limited"]).status == 0)
        #expect((try fixture.state("limited"))["status"] as? String == "running")
        #expect(try fixture.oci(["delete", "--force", "limited"]).status == 0)
    }

    @Test func updatesSingleFlagsReachTheCgroupAsRuncs() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sleep", "60"])
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": 64 << 20], "pids": ["limit": 50]]
            config["linux"] = linux
        }
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "flags"]).status == 0)
        let updated = try fixture.oci(["update", "--memory", "32m", "--pids-limit=30", "flags"])
        #expect(updated.status == 0, "\(updated.stderr)")
        let read = try fixture.oci(["exec", "flags", "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null"])
        #expect(read.stdout.contains("33554432") && read.stdout.contains("30"), "\(read.stdout) \(read.stderr)")
        let rdt = try fixture.oci(["update", "--l3-cache-schema", "L3:0=ff", "flags"])
        #expect(rdt.status != 0 && rdt.stderr.contains("has no linux.intelRdt"), "a container without a resctrl group: \(rdt.stderr)")
        let none = try fixture.oci(["update", "flags"])
        #expect(none.status != 0 && none.stderr.contains("--resources"), "\(none.stderr)")
    }

    @Test func eventsPrintsStatsAndOOMKillsAsJSONLines() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sleep", "60"])
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": 16 << 20, "swap": 16 << 20], "pids": ["limit": 50]]
            config["linux"] = linux
        }
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "watched"]).status == 0)
        let once = try fixture.oci(["events", "--stats", "watched"])
        #expect(once.status == 0, "\(once.stderr)")
        let event = (try? JSONSerialization.jsonObject(with: Data(once.stdout.utf8))) as? [String: Any] ?? [:]
        let data = event["data"] as? [String: Any] ?? [:]
        #expect(event["type"] as? String == "stats" && event["id"] as? String == "watched", "\(once.stdout)")
        #expect((data["pids"] as? [String: Any])?["limit"] as? Int == 50, "\(once.stdout)")
        #expect(((data["memory"] as? [String: Any])?["usage"] as? [String: Any])?["limit"] as? Int == 16 << 20, "\(once.stdout)")
        // A process that outgrows the limit is killed: events reports it, then the container's end ends the stream.
        let hog = "x=a; while true; do x=$x$x; done"
        let events = Swrun.process(["oci", "--root", fixture.root, "events", "--interval", "200ms", "watched"])
        let stream = try Swrun.runProcess(events, timeout: 30) { _ in
            Thread.sleep(forTimeInterval: 0.5)
            _ = try fixture.oci(["exec", "--detach", "watched", "sh", "-c", hog])
            Thread.sleep(forTimeInterval: 3)
            _ = try fixture.oci(["kill", "watched", "KILL"])
        }
        #expect(stream.status == 0, "\(stream.stderr)")
        let types = stream.stdout.split(separator: "\n").compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["type"] as? String
        }
        #expect(types.contains("oom") && types.filter { $0 == "stats" }.count >= 3, "\(types) \(stream.stderr)")
        // The kernel's notice woke events while the container ran: not a check left for its end.
        #expect((types.firstIndex(of: "oom") ?? types.count) < (types.lastIndex(of: "stats") ?? 0), "\(types)")
        #expect(try fixture.oci(["delete", "--force", "watched"]).status == 0)
    }

    @Test func anIDMappedBindShowsTheSourcesFilesUnderTheMappedIDs() throws {
        let fixture = try OCIBundleFixture()
        let source = fixture.sandbox.path + "/shared"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: source + "/file", contents: Data("x".utf8))
        chown(source + "/file", 0, 0)
        // As 1000:2000, which owns /mapped through the map: what it makes there is root's on disk.
        try fixture.command(["sh", "-c", "stat -c '%u:%g' /mapped/file /plain/file; touch /mapped/new; stat -c '%u:%g' /mapped/new"],
                            ["user": ["uid": 1000, "gid": 2000]])
        try fixture.edit { config in
            var mounts = config["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/mapped", "type": "bind", "source": source, "options": ["rbind"],
                           "uidMappings": [["containerID": 0, "hostID": 1000, "size": 10]],
                           "gidMappings": [["containerID": 0, "hostID": 2000, "size": 10]]])
            mounts.append(["destination": "/plain", "type": "bind", "source": source, "options": ["rbind"]])
            config["mounts"] = mounts
        }
        let run = try fixture.oci(["run", "--bundle", fixture.bundle, "mapped"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n") == ["1000:2000", "0:0", "1000:2000"], "on-disk root shows as 1000:2000; \(run.stdout) \(run.stderr)")
        var status = stat()
        #expect(stat(source + "/new", &status) == 0 && status.st_uid == 0 && status.st_gid == 0, "a file made as 1000:2000 through the map is root's on disk")
    }

    @Test func aUserNamespaceIsJoinedByPathAndItsMapsAreRead() throws {
        let fixture = try OCIBundleFixture()
        // The namespace to join, held by a process of its own: root inside is 100000 on the host.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import ctypes, time; ctypes.CDLL(None).unshare(0x10000000); time.sleep(60)"]
        try holder.run()
        let pid = holder.processIdentifier
        defer { kill(pid, SIGKILL); holder.waitUntilExit() }
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/user")
        for _ in 0..<250 where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")) == ours { usleep(20_000) }
        try "0 100000 65536".write(toFile: "/proc/\(pid)/uid_map", atomically: false, encoding: .utf8)
        try "0 100000 65536".write(toFile: "/proc/\(pid)/gid_map", atomically: false, encoding: .utf8)
        // The namespace's root, 100000 on the host, must reach the rootfs.
        let rootfs = ((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.bundle + "/config.json"))) as? [String: Any])?["root"]
            as? [String: Any])?["path"] as? String ?? ""
        chmod(fixture.sandbox.path, 0o755)
        chmod((rootfs as NSString).deletingLastPathComponent, 0o755)
        try fixture.command(["sh", "-c", "cat /proc/self/uid_map; id -u; readlink /proc/self/ns/user"])
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            var namespaces = linux["namespaces"] as? [[String: Any]] ?? []
            namespaces.append(["type": "user", "path": "/proc/\(pid)/ns/user"])
            linux["namespaces"] = namespaces
            config["linux"] = linux
        }
        let run = try fixture.oci(["run", "--bundle", fixture.bundle, "joined-user"], timeout: 20)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        let joined = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")
        #expect(lines == ["0 100000 65536", "0", joined], "the holder's namespace, root inside: \(run.stdout) \(run.stderr)")
        #expect(try fixture.oci(["list", "-q"]).stdout.isEmpty, "run deleted it")
    }

    @Test func aSeccompProfileFromTheBundleFiltersByArguments() throws {
        let fixture = try OCIBundleFixture()
        // mkdir fails with EPERM; personality is allowed only for PER_LINUX (0), as Docker's profile does.
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
                ["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1],
                ["names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                 "args": [["index": 0, "value": 0, "op": "SCMP_CMP_NE"]]],
            ]]
            config["linux"] = linux
        }
        try fixture.command(["sh", "-c", "mkdir /tmp/d 2>&1; linux32 true 2>&1; echo done"])
        let ran = try fixture.oci(["run", "--bundle", fixture.bundle, "filtered"])
        #expect(ran.status == 0 && ran.stdout.contains("Operation not permitted") && ran.stdout.contains("Permission denied") && ran.stdout.hasSuffix("done\n"),
                "\(ran.stdout) \(ran.stderr)")
    }

    @Test func aSeccompNotifyFdGoesToTheListenerWithTheProcessState() throws {
        let fixture = try OCIBundleFixture()
        let agent = try SeccompAgent(in: fixture.sandbox.path, connections: 1)
        try fixture.edit(agent.notifyOnMkdir)
        try fixture.command(["sh", "-c", "mkdir /tmp/d 2>&1; echo done"])
        let ran = try fixture.oci(["run", "--bundle", fixture.bundle, "notified"], timeout: 20)
        #expect(ran.status == 0 && ran.stdout.contains("Function not implemented") && ran.stdout.hasSuffix("done\n"), "\(ran.stdout) \(ran.stderr)")
        let state = agent.message(0)
        #expect(state["received"] as? Int == 1 && state["fds"] as? [String] == ["seccompFd"] && state["metadata"] as? String == "from-the-test", "\(state)")
        #expect((state["state"] as? [String: Any])?["id"] as? String == "notified" && (state["pid"] as? Int ?? 0) > 0, "\(state)")
    }

    @Test func anExecdProcessSendsItsOwnNotifyFdToTheListener() throws {
        let fixture = try OCIBundleFixture()
        let agent = try SeccompAgent(in: fixture.sandbox.path, connections: 2)
        try fixture.edit(agent.notifyOnMkdir)
        try fixture.command(["sleep", "60"])
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "exec-notified"], timeout: 20).status == 0)
        let pidFile = fixture.sandbox.path + "/exec.pid"
        let ran = try fixture.oci(["exec", "--pid-file", pidFile, "exec-notified", "sh", "-c", "mkdir /tmp/d 2>&1; echo done"], timeout: 20)
        #expect(ran.status == 0 && ran.stdout.contains("Function not implemented") && ran.stdout.hasSuffix("done\n"), "\(ran.stdout) \(ran.stderr)")
        let initState = agent.message(0), execState = agent.message(1)
        let execPid = Int((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") ?? -1
        #expect(execState["received"] as? Int == 1 && execState["fds"] as? [String] == ["seccompFd"] && execState["metadata"] as? String == "from-the-test",
                "\(execState)")
        #expect(execState["pid"] as? Int == execPid && initState["pid"] as? Int != execPid, "the exec'd process's own pid: \(initState) \(execState)")
        #expect((execState["state"] as? [String: Any])?["status"] as? String == "running", "\(execState)")
    }

    @Test func theTerminalGoesToTheConsoleSocket() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sh", "-c", "tty; echo on-the-pty"], ["terminal": true])
        let socketPath = fixture.sandbox.path + "/console.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0 && listen(listener, 1) == 0)
        let missing = try fixture.oci(["create", "--bundle", fixture.bundle, "tty"])
        #expect(missing.status != 0 && missing.stderr.contains("--console-socket"), "a terminal needs the socket: \(missing.stderr)")
        let created = try fixture.oci(["create", "--bundle", fixture.bundle, "--console-socket", socketPath, "tty"])
        #expect(created.status == 0, "\(created.stderr)")
        let connection = accept(listener, nil, nil)
        #expect(connection >= 0)
        defer { close(connection) }
        var buffer = [UInt8](repeating: 0, count: 256)
        var master: Int32 = -1
        let count = buffer.withUnsafeMutableBytes { swrun_recv_with_fd(connection, $0.baseAddress, $0.count, &master) }
        #expect(count > 0 && master >= 0, "the pty's master comes over the socket")
        defer { close(master) }
        #expect(try fixture.oci(["start", "tty"]).status == 0)
        var output = ""
        for _ in 0..<50 where !output.contains("on-the-pty") {
            var pollEntry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&pollEntry, 1, 100) > 0 else { continue }
            let read = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if read <= 0 { break }
            output += String(decoding: buffer[0..<read], as: UTF8.self)
        }
        #expect(output.contains("/dev/pts/0") && output.contains("on-the-pty"), "\(output)")
    }

    @Test func ioPriorityAndSchedulerReachTheProcessAndExec() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sh", "-c", "ionice -p $$; grep -E '^policy' /proc/self/sched; cut -d' ' -f19 /proc/self/stat"], [
            "ioPriority": ["class": "IOPRIO_CLASS_IDLE", "priority": 0],
            "scheduler": ["policy": "SCHED_BATCH", "nice": 7],
        ])
        let ran = try fixture.oci(["run", "--bundle", fixture.bundle, "scheduled"])
        let lines = ran.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: " ", with: "") }
        #expect(ran.status == 0 && lines.count == 3, "\(ran.stdout) \(ran.stderr)")
        #expect(lines.first == "idle", "ionice shows the idle class: \(lines)")
        #expect(lines.dropFirst().first == "policy:3", "SCHED_BATCH is policy 3: \(lines)")
        #expect(lines.last == "7", "the nice value: \(lines)")

        // exec takes them from the container's process, or from its own process.json.
        try fixture.command(["sleep", "60"])
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "sched-target"]).status == 0)
        let inline = try fixture.oci(["exec", "sched-target", "sh", "-c", "ionice -p $$; grep -E '^policy' /proc/self/sched"])
        #expect(inline.status == 0 && inline.stdout.replacingOccurrences(of: " ", with: "") == "idle\npolicy:3\n", "\(inline.stdout) \(inline.stderr)")
        let processFile = fixture.sandbox.path + "/process.json"
        try JSONSerialization.data(withJSONObject: ["args": ["sh", "-c", "ionice -p $$; grep -E '^policy' /proc/self/sched"], "cwd": "/", "env": ["PATH=/bin"],
                                                    "ioPriority": ["class": "IOPRIO_CLASS_BE", "priority": 2],
                                                    "scheduler": ["policy": "SCHED_IDLE"]]).write(to: URL(fileURLWithPath: processFile))
        let fromFile = try fixture.oci(["exec", "--process", processFile, "sched-target"])
        #expect(fromFile.status == 0 && fromFile.stdout.replacingOccurrences(of: " ", with: "") == "best-effort:prio2\npolicy:5\n", "\(fromFile.stdout) \(fromFile.stderr)")
        #expect(try fixture.oci(["delete", "--force", "sched-target"]).status == 0)

        // A policy the spec does not name is refused before anything runs, by its key.
        try fixture.command(["true"], ["scheduler": ["policy": "SCHED_BOGUS"]])
        let bogus = try fixture.oci(["run", "--bundle", fixture.bundle, "bogus"])
        #expect(bogus.status != 0 && bogus.stderr.contains("process.scheduler.policy 'SCHED_BOGUS' is not a policy"), "\(bogus.stderr)")
    }

    /// Seconds since boot, as /proc/uptime's first field says it (the host's, or a container's output).
    static func uptime(_ text: String) -> Double { Double(text.split(separator: " ").first ?? "") ?? -1 }

    @Test func timeOffsetsMoveTheContainersClocksAndExecSeesThem() throws {
        let fixture = try OCIBundleFixture()
        let day = 86_400.0
        try fixture.command(["sh", "-c", "cat /proc/uptime; exec sleep 60"])
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []) + [["type": "time"]]
            linux["timeOffsets"] = ["boottime": ["secs": Int(day)], "monotonic": ["secs": 10, "nanosecs": 5]]
            config["linux"] = linux
        }
        #expect(try fixture.oci(["create", "--bundle", fixture.bundle, "timens"]).status == 0)
        let hostBefore = Self.uptime(try String(contentsOfFile: "/proc/uptime", encoding: .utf8))
        #expect(try fixture.oci(["start", "timens"]).status == 0)
        let exec = try fixture.oci(["exec", "timens", "cat", "/proc/uptime"])
        let hostAfter = Self.uptime(try String(contentsOfFile: "/proc/uptime", encoding: .utf8))
        let inside = Self.uptime(exec.stdout)
        #expect(inside >= hostBefore + day && inside <= hostAfter + day + 1, "the boottime offset: host \(hostBefore) inside \(inside) \(exec.stderr)")
        let namespaces = try fixture.oci(["exec", "timens", "sh", "-c", "readlink /proc/1/ns/time; readlink /proc/self/ns/time"]).stdout.split(separator: "\n")
        let host = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/time")) ?? ""
        #expect(namespaces.count == 2 && namespaces[0] == namespaces[1] && String(namespaces[0]) != host, "pid 1 and exec share one time namespace, not the host's: \(namespaces)")
        #expect(try fixture.oci(["delete", "--force", "timens"]).status == 0)

        // Offsets without a time namespace of the container's own are refused by name.
        try fixture.edit { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "time" }
            config["linux"] = linux
        }
        let refused = try fixture.oci(["run", "--bundle", fixture.bundle, "no-timens"])
        #expect(refused.status != 0 && refused.stderr.contains("linux.timeOffsets needs a time namespace"), "\(refused.stderr)")
    }

    @Test func lxcTimeOffsetsGiveTheContainerATimeNamespace() throws {
        let sandbox = try Sandbox()
        let name = sandbox.name("timens")
        try sandbox.create(name, config: sandbox.write("time.conf", "lxc.time.offset.boot = 2h\nlxc.time.offset.monotonic = -1500ms\n"))
        let before = Self.uptime(try String(contentsOfFile: "/proc/uptime", encoding: .utf8))
        let ran = try sandbox.execute(name, ["cat", "/proc/uptime"])
        let after = Self.uptime(try String(contentsOfFile: "/proc/uptime", encoding: .utf8))
        let inside = Self.uptime(ran.stdout)
        #expect(ran.status == 0 && inside >= before + 7200 && inside <= after + 7201, "host \(before) inside \(inside) \(ran.stderr)")
    }

    @Test func rroMakesTheMountsBelowABindReadOnlyToo() throws {
        let fixture = try OCIBundleFixture()
        let source = fixture.sandbox.path + "/shared"
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        try fixture.command(["sh", "-c", "touch /data/top 2>&1; touch /data/sub/nested 2>&1; cut -d' ' -f5,6 /proc/self/mountinfo | grep '^/data/sub '; echo done"])
        try fixture.edit { config in
            config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []) + [["destination": "/data", "type": "bind", "source": source, "options": ["rbind", "rro"]]]
        }
        // The nested tmpfs lives in a private mount namespace of the test's own, and goes with it.
        let ran = try shell("unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs \(source)/sub && \(Swrun.binary) oci --root \(fixture.root) run --bundle \(fixture.bundle) rro'")
        let lines = ran.stdout.split(separator: "\n").map(String.init)
        #expect(ran.status == 0 && lines.last == "done", "\(ran.stdout) \(ran.stderr)")
        #expect(lines.filter { $0.contains("Read-only file system") }.count == 2, "the bind and the tmpfs below it: \(lines)")
        #expect(lines.contains { $0.hasPrefix("/data/sub ro,") }, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: source + "/top"))
    }

    /// The CPUs this test process may run on, as /proc/self/status lists them.
    static var ownCPUs: String {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") } ?? ""
        return line.split(separator: "\t").last.map(String.init) ?? ""
    }

    @Test(.enabled(if: sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 && ownCPUs.hasPrefix("0-"), "needs CPUs 0 and 1"))
    func execCPUAffinityPinsExecButNotTheContainersProcess() throws {
        let fixture = try OCIBundleFixture()
        try fixture.command(["sleep", "60"], ["execCPUAffinity": ["initial": "0", "final": "1"]])
        #expect(try fixture.oci(["run", "--detach", "--bundle", fixture.bundle, "pinned"]).status == 0)
        let status = "grep Cpus_allowed_list /proc/self/status | cut -f2"
        let own = try fixture.oci(["exec", "pinned", "sh", "-c", "grep Cpus_allowed_list /proc/1/status | cut -f2"])
        #expect(own.stdout == Self.ownCPUs + "\n", "the spec leaves the container's own process alone: \(own.stdout) \(own.stderr)")
        let inline = try fixture.oci(["exec", "pinned", "sh", "-c", status])
        #expect(inline.status == 0 && inline.stdout == "1\n", "final, once in the container's cgroup: \(inline.stdout) \(inline.stderr)")
        let processFile = fixture.sandbox.path + "/process.json"
        try JSONSerialization.data(withJSONObject: ["args": ["sh", "-c", status], "cwd": "/", "env": ["PATH=/bin"],
                                                    "execCPUAffinity": ["initial": "1"]]).write(to: URL(fileURLWithPath: processFile))
        let initialOnly = try fixture.oci(["exec", "--process", processFile, "pinned"])
        // Without final the kernel decides: a cpuset controller resets the affinity as the process joins, else initial stays.
        #expect(initialOnly.status == 0 && ["1\n", Self.ownCPUs + "\n"].contains(initialOnly.stdout), "\(initialOnly.stdout) \(initialOnly.stderr)")
        #expect(try fixture.oci(["delete", "--force", "pinned"]).status == 0)
    }
}
