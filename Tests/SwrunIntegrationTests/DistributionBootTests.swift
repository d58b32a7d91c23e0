import Foundation
import Glibc
import Testing

/// A Debian 12 rootfs made by debootstrap (scripts/distro-rootfs.sh, which `make test` runs
/// first and caches in .build/distro), copied into a container of the test's own and booted
/// with its own init. Stopped, destroyed and removed when the test ends, pass or fail.
final class DistroContainer {
    let sandbox: Sandbox
    let name: String

    /// What LXC's common.conf gives a system container, with no network unless asked.
    static let baseConfig = """
        lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed
        lxc.autodev = 1
        lxc.tty.max = 4
        lxc.tty.dir = lxc
        lxc.pty.max = 1024
        lxc.cap.drop = mac_admin mac_override sys_time sys_module sys_rawio

        """

    static func cachedRootfs(_ flavour: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/distro/debian12-\(flavour)").path
        guard FileManager.default.fileExists(atPath: path + ".complete") else {
            Issue.record("no Debian rootfs at \(path): run scripts/distro-rootfs.sh \(flavour) (make test does)")
            throw POSIXError(.ENOENT)
        }
        return path
    }

    /// `createOptions` go to the `swrun create` that makes the container's directory (and
    /// its swrun.json, for -p); its config and rootfs are then replaced, as a user moving a
    /// rootfs in by hand would.
    init(_ flavour: String, base: String, config: String = "", createOptions: [String] = []) throws {
        sandbox = try Sandbox()
        name = sandbox.name(base)
        let made = try Swrun.run(["create", "-n", name, "-t", "busybox", "-P", sandbox.path, "-f", sandbox.emptyConfig] + createOptions)
        try #require(made.status == 0, "create failed: \(made.stderr)")
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        _ = sandbox.write("\(name)/config", "lxc.rootfs.path = dir:\(rootfs)\nlxc.uts.name = \(name)\n" + Self.baseConfig
                          + (config.contains("lxc.net.") ? "" : "lxc.net.0.type = empty\n") + config)
        let copied = try shell("rm -rf '\(rootfs)' && cp -a '\(try Self.cachedRootfs(flavour))' '\(rootfs)'")
        try #require(copied.status == 0, "\(copied.stderr)")
    }

    deinit {
        _ = try? swrun(["destroy", "-f"])
    }

    var rootfs: String { "\(sandbox.path)/\(name)/rootfs" }

    /// `swrun COMMAND -n NAME -P LXCPATH extra...`
    @discardableResult
    func swrun(_ command: [String], _ extra: [String] = []) throws -> Swrun.Result {
        try Swrun.run(command + ["-n", name, "-P", sandbox.path] + extra, timeout: 120)
    }

    func attach(_ command: String) throws -> Swrun.Result { try swrun(["attach"], ["--", "/bin/sh", "-c", command]) }

    /// Polls `command` in the container until its output is one of `outputs`; the last output.
    func waitFor(_ command: String, toPrint outputs: Set<String>, seconds: Double = 90) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try attach(command).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if outputs.contains(last) { return last }
            usleep(200_000)
        }
        return last
    }

    /// systemd's verdict once it has finished booting: running, degraded, or what it said last.
    func systemState() throws -> String {
        try waitFor("systemctl is-system-running", toPrint: ["running", "degraded", "maintenance", "stopping"])
    }

    var initPID: String { (try? swrun(["info", "-p", "-H"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "" }

    /// The container's cgroup directories, from its runtime record.
    var cgroups: [String] {
        let text = (try? String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("cgroups=") }.map { $0.dropFirst(8).split(separator: ",").map(String.init) } ?? []
    }

    /// Waits until a new init (not `old`) runs.
    func waitForRestart(from old: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let now = initPID
            if !now.isEmpty && now != old, (try? swrun(["info", "-s", "-H"]).stdout) == "RUNNING\n" { return true }
            usleep(200_000)
        }
        return false
    }

    var log: String { (try? String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.log", encoding: .utf8)) ?? "" }
}

/// Runs `script` with /bin/sh on the host.
func shell(_ script: String) throws -> Swrun.Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    return try Swrun.runProcess(process, timeout: 120)
}

/// Real distributions under `swrun start`: systemd and SysV init boot, halt and reboot.
@Suite(.serialized) struct DistributionBootTests {
    /// The cgroups directly below the roots of the hierarchies systemd writes, less swrun's
    /// own leaves (other tests make theirs meanwhile).
    static func hostCgroupRoots() -> Set<String> {
        var names: Set<String> = []
        for hierarchy in ["systemd", "pids", "devices", "unified", "memory"] {
            let root = "/sys/fs/cgroup/\(hierarchy)"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where !entry.hasPrefix("swrun-") {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(root)/\(entry)", isDirectory: &isDirectory), isDirectory.boolValue {
                    names.insert("\(hierarchy)/\(entry)")
                }
            }
        }
        return names
    }

    @Test func systemdBootsToRunningTakesALoginRebootsAndHaltsCleanly() throws {
        let before = Self.hostCgroupRoots()
        let container = try DistroContainer("systemd", base: "systemd")
        let started = try container.swrun(["start"])
        try #require(started.status == 0, "\(started.stderr)")
        let state = try container.systemState()
        #expect(state == "running", "\((try? container.attach("systemctl --failed --no-legend").stdout) ?? "")")
        #expect(try container.attach("systemctl --failed --no-legend --plain").stdout == "")
        // systemd made its cgroups in the container's own, and nothing at the host's roots.
        #expect(try container.attach("cat /proc/1/cgroup").stdout.contains("name=systemd:/init.scope"))
        let systemdCgroup = try #require(container.cgroups.first { $0.hasPrefix("/sys/fs/cgroup/systemd/") })
        #expect(FileManager.default.fileExists(atPath: systemdCgroup + "/init.scope"))
        #expect(Self.hostCgroupRoots() == before)

        // A root login on the console's getty (tty1), once root has a password.
        #expect(try container.attach("echo root:swrun-test | chpasswd").status == 0)
        let console = try ConsoleSession(["console", "-n", container.name, "-P", container.sandbox.path, "-t", "1"])
        console.read(until: "Connected")
        console.type("\r")
        #expect(console.read(until: "login:"), "\(console.output)")
        console.type("root\r")
        #expect(console.read(until: "Password:"), "\(console.output)")
        console.type("swrun-test\r")
        #expect(console.read(until: "# "), "a root shell's prompt: \(console.output)")
        console.type("echo logged-in-as-$(id -un)-on-$(tty)\r")
        #expect(console.read(until: "logged-in-as-root-on-/dev/pts/1"), "\(console.output)")
        console.type("exit\r")
        #expect(console.detach() == 0)

        // reboot inside: the monitor boots it again.
        let first = container.initPID
        _ = try container.attach("systemctl reboot")
        #expect(container.waitForRestart(from: first), "\(container.log)")
        #expect(try container.systemState() == "running")
        // ... and from outside.
        let second = container.initPID
        let rebooted = try container.swrun(["reboot"])
        #expect(rebooted.status == 0, "\(rebooted.stderr)")
        #expect(container.initPID != second)
        #expect(try container.systemState() == "running")

        // stop: SIGRTMIN+3 (systemd blocks it), and systemd halts by itself.
        let cgroups = container.cgroups
        let stopped = try container.swrun(["stop", "-t", "60"])
        #expect(stopped.status == 0 && !stopped.stderr.contains("killed"), "\(stopped.stderr)")
        #expect(container.log.contains("init killed by signal SIGINT"), "systemd halted (reboot(2) in a pid namespace ends init with SIGINT): \(container.log)")
        #expect(!container.log.contains("SIGKILL"))
        #expect(!cgroups.isEmpty && cgroups.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "\(cgroups)")
    }

    @Test func sshdAnswersOverTheBridgeAndThroughAPublishedPort() throws {
        let container = try DistroContainer("systemd", base: "sshd", createOptions: ["-p", "2222:22"])
        let keys = container.sandbox.path + "/id"
        let made = try shell("""
            ssh-keygen -q -t ed25519 -N '' -f '\(keys)' && install -d -m 700 '\(container.rootfs)/root/.ssh' \
            && install -m 600 '\(keys).pub' '\(container.rootfs)/root/.ssh/authorized_keys'
            """)
        try #require(made.status == 0, "\(made.stderr)")
        let ssh = "ssh -i '\(keys)' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5"
        // The test's own network: a bridge, and an "outside" network namespace behind a veth
        // (held by a sleep), as a machine elsewhere would reach the host.
        let result = try NetworkTests().inOwnNetwork(container.sandbox, """
            \(NetworkTests.bridge)
            sysctl -qw net.ipv4.ip_forward=1
            "$SWRUN" start -n \(container.name) -P "$P" \(NetworkTests().veth("10.99.0.2/24")) || exit 1
            for i in $(seq 300); do "$SWRUN" attach -n \(container.name) -P "$P" -- systemctl is-active -q ssh && break; sleep 0.2; done
            \(ssh) root@10.99.0.2 'echo bridge: $(hostname -I)'
            unshare -n sleep 120 & outside=$!
            sleep 0.2
            ip link add vo0 type veth peer name vo1 netns $outside
            ip addr add 10.98.0.1/24 dev vo0 && ip link set vo0 up
            nsenter -t $outside -n sh -c 'ip link set lo up; ip addr add 10.98.0.2/24 dev vo1; ip link set vo1 up; ip route add default via 10.98.0.1'
            nsenter -t $outside -n \(ssh) -p 2222 root@10.98.0.1 'echo published: $SSH_CONNECTION' | cut -d' ' -f1,2
            kill $outside
            "$SWRUN" stop -n \(container.name) -P "$P"
            """, timeout: 180)
        #expect(result.stdout == "bridge: 10.99.0.2\npublished: 10.98.0.2\n", "\(result.stdout) \(result.stderr)")
    }

    @Test func sysvInitBootsToItsRunlevelAndHaltsOnSIGPWR() throws {
        let container = try DistroContainer("sysvinit", base: "sysv")
        // As LXC's Debian template prepares inittab: a power failure halts at once, and
        // gettys only on the ttys the container has.
        let prepared = try shell("""
            sed -i -e 's|^pf::powerwait:.*|pf::powerwait:/sbin/shutdown -t1 -a -h now|' -e '/^[5-6]:23:respawn/d' '\(container.rootfs)/etc/inittab'
            """)
        try #require(prepared.status == 0, "\(prepared.stderr)")
        let started = try container.swrun(["start"])
        try #require(started.status == 0, "\(started.stderr)")
        #expect(try container.waitFor("runlevel", toPrint: ["N 2"]) == "N 2")
        #expect(try container.waitFor("pidof -q sshd && echo sshd", toPrint: ["sshd"]) == "sshd")
        #expect(try container.attach("cat /proc/1/comm").stdout == "init\n")
        let stopped = try container.swrun(["stop", "-t", "60"])
        #expect(stopped.status == 0 && !stopped.stderr.contains("killed"), "\(stopped.stderr)")
        #expect(container.log.contains("init killed by signal SIGINT"), "init halted by itself: \(container.log)")
    }
}
