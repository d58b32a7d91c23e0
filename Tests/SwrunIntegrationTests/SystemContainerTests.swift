import CLinux
import Foundation
import Glibc
import Testing

/// start -d, stop, info, attach, console, wait: booted busybox containers, as root.
@Suite struct SystemContainerTests {
    /// A started container that is stopped (killed) and destroyed when the test ends, pass or fail.
    final class Booted {
        let sandbox: Sandbox
        let name: String

        init(_ base: String, config: String? = nil, start: Bool = true) throws {
            sandbox = try Sandbox()
            name = sandbox.name(base)
            try sandbox.create(name, config: config)
            if start {
                let started = try swrun(["start"])
                #expect(started.status == 0, "start failed: \(started.stderr)")
            }
        }

        deinit {
            _ = try? swrun(["destroy", "-f"])
        }

        /// `swrun COMMAND -n NAME -P LXCPATH extra...`
        @discardableResult
        func swrun(_ command: [String], _ extra: [String] = []) throws -> Swrun.Result {
            try Swrun.run(command + ["-n", name, "-P", sandbox.path] + extra)
        }

        var record: [String: String] {
            let text = (try? String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8)) ?? ""
            return Dictionary(text.split(separator: "\n").compactMap { line in
                line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
            }, uniquingKeysWith: { $1 })
        }
    }

    /// Whether `pid` runs; a zombie does not count (an orphaned init is reaped by the host's
    /// init, whenever that gets to it).
    static func processExists(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    @Test func startReachesRunningWithBusyboxInitAsPID1AndStopEndsIt() throws {
        let container = try Booted("boot")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "RUNNING\n")
        let pid1 = try container.swrun(["attach"], ["--", "sh", "-c", "cat /proc/1/comm; readlink /proc/1/exe"])
        #expect(pid1.stdout == "init\n/bin/busybox\n", "\(pid1.stderr)")
        let initPID = try #require(pid_t(container.record["init_pid"] ?? ""))
        let stopped = try container.swrun(["stop", "-t", "20"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
        #expect(!Self.processExists(initPID))
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(container.sandbox.path)/\(container.name)")
        #expect(!left.contains("swrun.state") && !left.contains("swrun.sock"), "\(left)")
    }

    /// `stop` sends the halt signal the start read (kept in the record), as lxc-stop sends
    /// what its monitor loaded: an edit of the config meanwhile changes the next start only.
    @Test func stopSendsTheHaltSignalTheStartRead() throws {
        let container = try Booted("halt")
        let configPath = "\(container.sandbox.path)/\(container.name)/config"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(config.contains("lxc.signal.halt = SIGUSR1\n"), "busybox init halts on SIGUSR1: \(config)")
        // SIGCONT does nothing to busybox init: sent, it would end in a kill after the timeout.
        try config.replacingOccurrences(of: "lxc.signal.halt = SIGUSR1\n", with: "lxc.signal.halt = SIGCONT\n")
            .write(toFile: configPath, atomically: false, encoding: .utf8)
        let stopped = try container.swrun(["stop", "-t", "5"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(!stopped.stderr.contains("did not halt"), "\(stopped.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
    }

    /// `start -d` itself runs from the host's binary (it enters no container), but the monitor
    /// it spawns forks the container's init: that one runs from the protected view, a
    /// read-only detached mount (readlink shows "/"), and names itself swrun in ps.
    @Test func theMonitorRunsFromAProtectedViewOfTheBinary() throws {
        let container = try Booted("view")
        let monitor = try #require(pid_t(container.record["monitor_pid"] ?? ""))
        let binary = open("/proc/\(monitor)/exe", O_RDONLY | O_CLOEXEC)
        try #require(binary >= 0)
        defer { close(binary) }
        var info = statvfs()
        #expect(fstatvfs(binary, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0, "the monitor's binary is on a read-only mount")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(monitor)/exe") == "/")
        #expect(try String(contentsOfFile: "/proc/\(monitor)/comm", encoding: .utf8) == "swrun\n")
    }

    /// lxc.hook.pre-start and post-stop run on the host, as LXC runs them: `HOOK NAME lxc TYPE`
    /// with LXC's variables, around `execute` and around a started container's whole life.
    @Test func preStartAndPostStopHooksRunAsLXCRunsThem() throws {
        let sandbox = try Sandbox(), name = sandbox.name("hooks")
        let log = sandbox.path + "/hooks.log"
        let hook = sandbox.write("hook.sh", "#!/bin/sh\necho \"$LXC_HOOK_TYPE $LXC_NAME $* ${LXC_ROOTFS_PATH##*/} ${LXC_CONFIG_FILE##*/}\" >> \(log)\n")
        chmod(hook, 0o755)
        try sandbox.create(name, config: sandbox.write("hooks.conf", "lxc.hook.pre-start = \(hook)\nlxc.hook.post-stop = \(hook)\n"))
        #expect(try sandbox.execute(name, ["sh", "-c", "echo ran"]).stdout == "ran\n")
        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        #expect(try Swrun.run(["stop", "-k", "-n", name, "-P", sandbox.path]).status == 0)
        // With its monitor killed, the stop that clears up after it runs the post-stop hook.
        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        let record = try String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8)
        let monitor = try #require(record.split(separator: "\n").first { $0.hasPrefix("monitor_pid=") }.flatMap { pid_t($0.dropFirst(12)) })
        kill(monitor, SIGKILL)
        #expect(try Swrun.run(["stop", "-k", "-n", name, "-P", sandbox.path]).status == 0)
        let line = { (type: String) in "\(type) \(name) \(name) lxc \(type) rootfs config" }
        let ran = try String(contentsOfFile: log, encoding: .utf8)
        #expect(ran == [line("pre-start"), line("post-stop"), line("pre-start"), line("post-stop"),
                        line("pre-start"), line("post-stop")].joined(separator: "\n") + "\n", "\(ran)")

        // A pre-start hook that fails stops the start before anything is made.
        let failing = sandbox.write("fail.sh", "#!/bin/sh\nexit 3\n")
        chmod(failing, 0o755)
        for start in [["execute", "-n", name, "-P", sandbox.path, "-s", "lxc.hook.pre-start=\(failing)", "--", "true"],
                      ["start", "-n", name, "-P", sandbox.path, "-s", "lxc.hook.pre-start=\(failing)"]] {
            let refused = try Swrun.run(start)
            #expect(refused.status != 0 && refused.stderr.contains("lxc.hook.pre-start = \(failing) failed (exit 3)"), "\(refused.stderr)")
        }
        #expect(try Swrun.run(["info", "-s", "-H", "-n", name, "-P", sandbox.path]).stdout == "STOPPED\n")

        // pre-start runs before anything is planned: it may make the rootfs the start then needs.
        let elsewhere = sandbox.path + "/made-by-hook"
        let maker = sandbox.write("make-rootfs.sh", "#!/bin/sh\n[ -d \"$LXC_ROOTFS_PATH\" ] || cp -a \"${LXC_CONFIG_FILE%/config}/rootfs\" \"$LXC_ROOTFS_PATH\"\n")
        chmod(maker, 0o755)
        let made = try Swrun.run(["execute", "-n", name, "-P", sandbox.path, "-s", "lxc.rootfs.path=dir:\(elsewhere)",
                                  "-s", "lxc.hook.pre-start=\(maker)", "--", "echo", "ran"])
        #expect(made.status == 0 && made.stdout == "ran\n", "\(made.stderr)")
    }

    /// lxc.hook.mount runs once the container's mounts are made, with the host's tree still
    /// there; lxc.hook.start runs inside the container before its command; a failing one stops it.
    @Test func mountAndStartHooksRunInTheContainersNamespaces() throws {
        let sandbox = try Sandbox(), name = sandbox.name("inhooks")
        try sandbox.create(name)
        let log = sandbox.path + "/mount-hook.log"
        let mountHook = sandbox.write("mount.sh", "#!/bin/sh\necho \"$LXC_HOOK_TYPE $3 $(test -d \"$LXC_ROOTFS_MOUNT/proc/1\" && echo proc-mounted)\" > \(log)\n")
        chmod(mountHook, 0o755)
        let startHook = sandbox.path + "/\(name)/rootfs/start-hook.sh"
        let script = "#!/bin/sh\nhostname > /tmp/seen-by-start-hook\ngrep CapBnd /proc/self/status | cut -f2 >> /tmp/seen-by-start-hook\n"
        FileManager.default.createFile(atPath: startHook, contents: Data(script.utf8))
        chmod(startHook, 0o755)
        // autodev after /dev is made; start-host on the host once the container is set up, with its init's pid.
        let autodevHook = sandbox.write("autodev.sh", "#!/bin/sh\n[ -c \"$LXC_ROOTFS_MOUNT/dev/null\" ] && echo \"$LXC_HOOK_TYPE dev-made\" >> \(log)\n")
        let hostHook = sandbox.write("start-host.sh", "#!/bin/sh\necho \"$LXC_HOOK_TYPE $(cat /proc/$LXC_PID/comm)\" >> \(log)\n")
        chmod(autodevHook, 0o755)
        chmod(hostHook, 0o755)
        let result = try sandbox.execute(name, ["cat", "/tmp/seen-by-start-hook"],
                                         options: ["-s", "lxc.hook.mount=\(mountHook)", "-s", "lxc.hook.autodev=\(autodevHook)",
                                                   "-s", "lxc.hook.start-host=\(hostHook)", "-s", "lxc.hook.start=/start-hook.sh"])
        let lines = result.stdout.split(separator: "\n")
        #expect(result.status == 0 && lines.first.map(String.init) == name, "the start hook ran inside: \(result.stdout) \(result.stderr)")
        let bounding = lines.last.flatMap { UInt64($0, radix: 16) } ?? UInt64.max
        #expect(bounding & (1 << 16) == 0, "as with LXC, the start hook runs with the container's capabilities dropped (sys_module): \(result.stdout)")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "mount mount proc-mounted\nautodev dev-made\nstart-host swrun-init\n")
        let refused = try sandbox.execute(name, ["true"], options: ["-s", "lxc.hook.start=/bin/false"])
        #expect(refused.status == 125 && refused.stderr.contains("cannot run lxc.hook.start = /bin/false"), "\(refused.stderr)")
    }

    /// Every container has a cgroup of its own in every hierarchy, so freeze works on this
    /// hybrid host too (through its v2 or v1 freezer): a counter in it stands still while it is
    /// frozen and goes on after unfreeze.
    @Test func freezeHoldsEveryProcessUntilUnfreeze() throws {
        let container = try Booted("freeze")
        let counter = "\(container.sandbox.path)/\(container.name)/rootfs/tmp/count"
        let started = try container.swrun(["attach"], ["--", "/bin/sh", "-c", "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done) </dev/null >/dev/null 2>&1 &"])
        #expect(started.status == 0, "\(started.stderr)")
        func count() -> String { (try? String(contentsOfFile: counter, encoding: .utf8)) ?? "" }
        func changes(within seconds: Double) -> Bool {
            let first = count()
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                usleep(50_000)
                if count() != first && !count().isEmpty { return true }
            }
            return false
        }
        #expect(changes(within: 5), "the counter runs before the freeze")
        let frozen = try container.swrun(["freeze"])
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "FROZEN\n")
        #expect(!changes(within: 0.5), "nothing runs while frozen")
        #expect(try container.swrun(["unfreeze"]).status == 0)
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "RUNNING\n")
        #expect(changes(within: 5), "the counter goes on after unfreeze")
        let stopped = try Booted("frozen-stopped", start: false)
        #expect(try stopped.swrun(["unfreeze"]).stderr.contains("is not running"))
    }

    @Test func infoShowsStateAndPIDAsTextAndJSON() throws {
        let container = try Booted("info")
        let pid = try #require(container.record["init_pid"])
        let text = try container.swrun(["info"])
        #expect(text.stdout.contains("State:          RUNNING") && text.stdout.contains("PID:            \(pid)"), "\(text.stdout)")
        // Every container has a cgroup of its own, limits or not: CPU from cpuacct here.
        #expect(text.stdout.contains("CPU use:") && text.stdout.contains("Memory use:"), "\(text.stdout)")
        let json = try container.swrun(["info"], ["--format", "json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(decoded?["state"] as? String == "RUNNING")
        #expect((decoded?["pid"] as? Int).map(String.init) == pid)
        let listing = try Swrun.run(["ls", "--fancy", "-F", "name,state,pid", "-P", container.sandbox.path])
        #expect(listing.stdout.contains("\(container.name)  RUNNING  \(pid)"), "\(listing.stdout)")
    }

    @Test func attachJoinsTheContainersNamespacesAndReturnsTheStatus() throws {
        let container = try Booted("attach")
        let initPID = try #require(container.record["init_pid"])
        let inside = try container.swrun(["attach"], ["--", "sh", "-c", "hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; echo $container"])
        let hostView = try ["pid", "mnt"].map { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/\($0)") }
        #expect(inside.stdout == "\(container.name)\n\(hostView[0])\n\(hostView[1])\nlxc\n", "\(inside.stderr)")
        #expect(try container.swrun(["attach"], ["--", "sh", "-c", "exit 5"]).status == 5)
        #expect(try container.swrun(["attach"], ["-v", "GREETING=hi", "--", "sh", "-c", "echo $GREETING"]).stdout == "hi\n")
        let missing = try container.swrun(["attach"], ["--", "/no/such/program"])
        #expect(missing.status == 127 && missing.stderr.contains("/no/such/program"))
    }

    @Test func initThatIgnoresTheHaltSignalIsKilledAfterTheTimeout() throws {
        let container = try Booted("stubborn", start: false)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("rootfs-fixtures/ignore-halt.sh").path
        try FileManager.default.copyItem(atPath: fixture, toPath: "\(container.sandbox.path)/\(container.name)/rootfs/ignore-halt.sh")
        #expect(try container.swrun(["start"], ["--", "/ignore-halt.sh"]).status == 0)
        let began = Date()
        let stopped = try container.swrun(["stop", "-t", "1"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("killed"))
        #expect(Date().timeIntervalSince(began) >= 1)
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
    }

    @Test func consoleOutputGoesToTheConsoleLogFile() throws {
        let container = try Booted("log", start: false)
        #expect(try container.swrun(["start"], ["-s", "lxc.console.logfile=console.log"]).status == 0)
        #expect(try container.swrun(["attach"], ["--", "sh", "-c", "echo written-to-the-console > /dev/console"]).status == 0)
        let log = "\(container.sandbox.path)/\(container.name)/console.log"
        var text = ""
        for _ in 0..<50 where !text.contains("written-to-the-console") {
            usleep(20_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("written-to-the-console"), "\(text)")
    }

    @Test func secondStartIsRefused() throws {
        let container = try Booted("twice")
        let again = try container.swrun(["start"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already running"))
    }

    @Test func killedMonitorLeavesAContainerThatInfoStopAndDestroyHandle() throws {
        let container = try Booted("orphan")
        let monitor = try #require(pid_t(container.record["monitor_pid"] ?? ""))
        let initPID = try #require(pid_t(container.record["init_pid"] ?? ""))
        kill(monitor, SIGKILL)
        for _ in 0..<100 where Self.processExists(monitor) { usleep(20_000) }
        let info = try container.swrun(["info"])
        #expect(info.stdout.contains("RUNNING") && info.stdout.contains("Monitor:"), "\(info.stdout)")
        #expect(try container.swrun(["start"]).status == 1, "a container without its monitor still runs")
        #expect(try container.swrun(["stop", "-t", "20"]).status == 0)
        #expect(!Self.processExists(initPID))
        #expect(try container.swrun(["destroy"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(container.sandbox.path)/\(container.name)"))
    }

    @Test func staleStateFromACrashIsRecognisedAndCleared() throws {
        let container = try Booted("stale", start: false)
        // What a crashed monitor leaves: a record whose processes are long gone.
        let record = "state=RUNNING\nmode=boot\ninit_pid=999999\ninit_start_time=1\nmonitor_pid=999998\nmonitor_start_time=1\n"
        try record.write(toFile: "\(container.sandbox.path)/\(container.name)/swrun.state", atomically: true, encoding: .utf8)
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
        #expect(try container.swrun(["start"]).status == 0)
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "RUNNING\n")
        #expect(container.record["init_pid"] != "999999")
    }

    @Test func destroyOfARunningContainerNeedsForce() throws {
        let container = try Booted("force")
        let initPID = try #require(pid_t(container.record["init_pid"] ?? ""))
        let refused = try container.swrun(["destroy"])
        #expect(refused.status == 1 && refused.stderr.contains("running"))
        #expect(try container.swrun(["destroy", "-f"]).status == 0)
        #expect(!Self.processExists(initPID))
        #expect(!FileManager.default.fileExists(atPath: "\(container.sandbox.path)/\(container.name)"))
    }

    /// An init that dies as the container starts fails the start, with its status and what it
    /// wrote to the console, and leaves nothing running or made.
    @Test func anInitThatDiesStartingFailsTheStartWithItsStatusAndConsole() throws {
        let container = try Booted("dies", start: false)
        let started = try container.swrun(["start"], ["--", "/bin/sh", "-c", "echo going-down; exit 3"])
        #expect(started.status == 1, "\(started.stderr)")
        #expect(started.stderr.contains("stopped as it started: its init (/bin/sh -c 'echo going-down; exit 3') exited with status 3"), "\(started.stderr)")
        #expect(started.stderr.contains("going-down"), "\(started.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
        let log = (try? String(contentsOfFile: "\(container.sandbox.path)/\(container.name)/swrun.log", encoding: .utf8)) ?? ""
        #expect(log.contains("init exited with status 3"), "the monitor logs every init exit: \(log)")
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(container.sandbox.path)/\(container.name)")
        #expect(!left.contains("swrun.state") && !left.contains("swrun.sock"), "\(left)")
        #expect(!(try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)).isEmpty)
        #expect(Self.leftoverCgroups(of: container.name).isEmpty)
    }

    /// The container's cgroup directories anywhere under /sys/fs/cgroup (three levels down).
    static func leftoverCgroups(of name: String) -> [String] {
        let found = try? shell("find /sys/fs/cgroup -maxdepth 4 -type d -name 'swrun-\(name)-*'")
        return (found?.stdout ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aRootfsWithoutItsInitFailsTheStartNamingTheKeyAndLeavesNothing() throws {
        let container = try Booted("noinit", start: false)
        let started = try container.swrun(["start"], ["-s", "lxc.init.cmd=/sbin/no-such-init"])
        #expect(started.status == 1, "\(started.stderr)")
        #expect(started.stderr.contains("has no init to boot: /sbin/no-such-init (lxc.init.cmd) is not in its rootfs"), "\(started.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(container.sandbox.path)/\(container.name)")
        #expect(!left.contains("swrun.state") && !left.contains("swrun.sock"), "\(left)")
        #expect(Self.leftoverCgroups(of: container.name).isEmpty)
    }

    /// `start -F` with stdin and stdout not a terminal (a CI job's pipe) still shows the console.
    @Test func foregroundStartWithoutATerminalRelaysTheConsole() throws {
        let container = try Booted("fg", start: false)
        let started = try container.swrun(["start", "-F"], ["--", "/bin/sh", "-c", "sleep 0.2; echo console-says-hello"])
        #expect(started.stdout.contains("console-says-hello"), "\(started.stdout) \(started.stderr)")
        #expect(started.status == 0, "\(started.stderr)")
    }

    @Test func stopTakesSeveralContainersOrAll() throws {
        let sandbox = try Sandbox()
        let names = (0..<4).map { _ in sandbox.name("many") }
        for name in names {
            try sandbox.create(name)
            #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        }
        defer { for name in names { _ = try? Swrun.run(["destroy", "-f", "-n", name, "-P", sandbox.path]) } }
        func state(_ name: String) throws -> String { try Swrun.run(["info", "-s", "-H", "-n", name, "-P", sandbox.path]).stdout }
        let two = try Swrun.run(["stop", "-P", sandbox.path, "-t", "20", "-n", names[0], names[1]])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(try state(names[0]) == "STOPPED\n" && state(names[1]) == "STOPPED\n" && state(names[2]) == "RUNNING\n")
        let all = try Swrun.run(["stop", "-P", sandbox.path, "-t", "20", "--all"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(try names.allSatisfy { try state($0) == "STOPPED\n" })
        #expect(try Swrun.run(["stop", "-P", sandbox.path, "--all", "-n", names[0]]).status == 1, "--all with names is an error")
    }

    /// A container that LXC runs answers on LXC's abstract command socket: swrun does not start
    /// a second init on its rootfs. (A listener on that socket stands for lxc-start here.)
    @Test func aContainerThatLXCRunsIsNotStartedTwice() throws {
        let container = try Booted("lxcowned", start: false)
        let socketName = "\(container.sandbox.path)/\(container.name)/command"
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listener.arguments = ["-c", "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(b'\\0'+sys.argv[1].encode()); s.listen(); print('ready', flush=True); time.sleep(30)", socketName]
        let ready = Pipe()
        listener.standardOutput = ready
        try listener.run()
        defer { listener.terminate(); listener.waitUntilExit() }
        _ = ready.fileHandleForReading.availableData
        let started = try container.swrun(["start"])
        #expect(started.status == 1 && started.stderr.contains("is running under LXC"), "\(started.stderr)")
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "STOPPED\n")
        listener.terminate()
        listener.waitUntilExit()
        #expect(try container.swrun(["start"]).status == 0, "without LXC it starts")
    }

    @Test func aThirtyTwoBitArchitectureRunsUnderItsPersonality() throws {
        let container = try Booted("i686", start: false)
        let machine = try container.swrun(["execute"], ["-s", "lxc.arch=i686", "--", "uname", "-m"])
        #expect(machine.stdout == "i686\n", "\(machine.stderr)")
        // A 32-bit program's calls are i386 calls: the seccomp filter judges them by their own
        // numbers (init_module refused as on x86_64) in an i686 container, and fails them all
        // (ENOSYS: nothing is printed) in a 64-bit one, where no 32-bit program belongs.
        try AttackPrograms.build("i386-calls", to: "\(container.sandbox.path)/\(container.name)/rootfs/i386-calls", static: true, flags: ["-m32"])
        let thirtyTwo = try container.swrun(["execute"], ["-s", "lxc.arch=i686", "--", "/i386-calls"])
        #expect(thirtyTwo.stdout == "i686 init_module=Operation not permitted\n", "\(thirtyTwo.stdout) \(thirtyTwo.stderr)")
        let sixtyFour = try container.swrun(["execute"], ["--", "/i386-calls"])
        #expect(sixtyFour.stdout == "", "\(sixtyFour.stdout)")
        let foreign = try container.swrun(["execute"], ["-s", "lxc.arch=aarch64", "--", "true"])
        #expect(foreign.status == 125 && foreign.stderr.contains("cannot run 'aarch64' programs"), "\(foreign.stderr)")
    }

    /// Whatever the mode, the container sees and writes only its own cgroups: cgroup:rw once
    /// showed the host's hierarchies, where a container's systemd made its cgroups.
    @Test func cgroupRWShowsAndWritesOnlyTheContainersOwnCgroups() throws {
        let container = try Booted("cgrw", start: false)
        let result = try container.swrun(["execute"], ["-s", "lxc.mount.auto=cgroup:rw proc:mixed", "--", "sh", "-c",
                                                       "mkdir /sys/fs/cgroup/pids/probe && echo made; ls /sys/fs/cgroup/pids | grep -c '^swrun-'; grep :pids: /proc/self/cgroup"])
        #expect(result.stdout.hasPrefix("made\n0\n") && result.stdout.hasSuffix(":pids:/\n"), "\(result.stdout) \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/probe"), "nothing was made at the host's root")
        #expect(Self.leftoverCgroups(of: container.name).isEmpty, "the container's cgroup, probe and all, is gone")
    }

    @Test func waitReturnsOnceTheStateIsReachedOrTimesOut() throws {
        let container = try Booted("wait")
        #expect(try container.swrun(["wait", "-s", "RUNNING|FROZEN", "-t", "5"]).status == 0)
        #expect(try container.swrun(["wait", "-s", "STOPPED", "-t", "0.3"]).status == 1)
    }

    @Test func stopOfAStoppedContainerExitsWith2() throws {
        let container = try Booted("idle", start: false)
        #expect(try container.swrun(["stop"]).status == 2)
    }

    @Test func consoleReachesTheShellOnTheConsoleAndDetachesWithCtrlAQ() throws {
        let container = try Booted("console")
        let console = try ConsoleSession(["console", "-n", container.name, "-P", container.sandbox.path])
        console.read(until: "Connected")
        console.type("\r")
        usleep(300_000)
        console.type("echo sum=$((40+2))\r")
        console.read(until: "sum=42")
        #expect(console.output.contains("sum=42"), "\(console.output)")
        #expect(console.detach() == 0)
        #expect(try container.swrun(["info", "-s", "-H"]).stdout == "RUNNING\n", "detaching leaves the container running")
    }

    @Test func tenContainersStartAndStopAtOnceLeavingNothing() throws {
        let sandbox = try Sandbox()
        let names = (0..<10).map { _ in sandbox.name("ten") }
        for name in names { try sandbox.create(name) }
        let starts = try names.map { try Swrun.Running(Swrun.process(["start", "-n", $0, "-P", sandbox.path])) }
        #expect(try starts.map { try $0.finish() }.allSatisfy { $0.status == 0 })
        let initPIDs = names.compactMap { name in
            (try? String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("init_pid=") }.flatMap { pid_t($0.dropFirst(9)) }
        }
        #expect(initPIDs.count == 10)
        let stops = try names.map { try Swrun.Running(Swrun.process(["stop", "-n", $0, "-P", sandbox.path, "-t", "20"])) }
        #expect(try stops.map { try $0.finish() }.allSatisfy { $0.status == 0 })
        #expect(initPIDs.allSatisfy { !Self.processExists($0) })
        for name in names {
            let left = try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.path)/\(name)")
            // Its files, and how its last run ended (for `swrun ps -a`): nothing of the run itself.
            #expect(Set(left).isSubset(of: ["config", "rootfs", "swrun.json", "swrun.lock", "swrun.log", "swrun.exit"]), "\(left)")
            #expect(try Swrun.run(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
        }
        #expect(!(try hostMountInfo()).contains(sandbox.path))
        let monitors = try Swrun.runProcess({ let p = Process(); p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep"); p.arguments = ["-f", sandbox.path]; return p }())
        #expect(monitors.stdout.isEmpty, "no monitor outlives its container: \(monitors.stdout)")
    }
}

@Suite struct AutostartTests {
    @Test func autostartStartsMarkedContainersInOrderAndStopsThem() throws {
        let sandbox = try Sandbox()
        let first = sandbox.name("first"), second = sandbox.name("second"), manual = sandbox.name("manual"), grouped = sandbox.name("grouped")
        try sandbox.create(first, config: sandbox.write("first.conf", "lxc.start.auto = 1\nlxc.start.order = 20\n"))
        try sandbox.create(second, config: sandbox.write("second.conf", "lxc.start.auto = 1\nlxc.start.order = 10\n"))
        try sandbox.create(manual, config: sandbox.write("manual.conf", "lxc.start.auto = 0\n"))
        try sandbox.create(grouped, config: sandbox.write("grouped.conf", "lxc.start.auto = 1\nlxc.group = web\n"))
        defer {
            for name in [first, second, manual, grouped] { _ = try? Swrun.run(["destroy", "-f", "-n", name, "-P", sandbox.path]) }
        }
        #expect(try Swrun.run(["autostart", "-L", "-P", sandbox.path]).stdout == "\(first) 0\n\(second) 0\n")
        #expect(try Swrun.run(["autostart", "-L", "-g", "web", "-P", sandbox.path]).stdout == "\(grouped) 0\n")
        #expect(try Swrun.run(["autostart", "-L", "-a", "-P", sandbox.path]).stdout.split(separator: "\n").count == 3)

        let started = try Swrun.run(["autostart", "-P", sandbox.path])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout == "started \(first)\nstarted \(second)\n")
        func state(_ name: String) throws -> String { try Swrun.run(["info", "-s", "-H", "-n", name, "-P", sandbox.path]).stdout }
        #expect(try state(first) == "RUNNING\n" && state(second) == "RUNNING\n")
        #expect(try state(manual) == "STOPPED\n" && state(grouped) == "STOPPED\n")

        let stopped = try Swrun.run(["autostart", "-s", "-t", "20", "-P", sandbox.path])
        #expect(stopped.stdout == "stopped \(second)\nstopped \(first)\n", "the reverse order")
        #expect(try state(first) == "STOPPED\n" && state(second) == "STOPPED\n")
    }
}
