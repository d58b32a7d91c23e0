import Foundation
import Glibc
import Testing

/// swrun attach against a hostile container: what it reads, which namespaces and privileges
/// it takes, and what the container can see of it.
@Suite struct AttachSecurityTests {
    typealias Booted = SystemContainerTests.Booted

    /// The container's /etc/passwd links to a host file: attach must not read the host's file
    /// (here it would name a login shell that is not in the container).
    @Test func loginShellIsReadInsideTheContainerNeverThroughItsLinks() throws {
        let container = try Booted("passwd", start: false)
        let rootfs = "\(container.sandbox.path)/\(container.name)/rootfs"
        let hostFile = container.sandbox.write("host-passwd", "root:x:0:0:root:/root:/bin/HOSTSHELL\n")
        try FileManager.default.removeItem(atPath: rootfs + "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/etc/passwd", withDestinationPath: hostFile)
        #expect(try container.swrun(["start"]).status == 0)
        let attached = try Swrun.run(["attach", "-n", container.name, "-P", container.sandbox.path], input: "echo shell=$0\n")
        #expect(attached.stdout == "shell=/bin/sh\n", "\(attached.stdout) \(attached.stderr)")
    }

    /// Lines of /proc/PID/status (as seen in the container) for the fields that say what a
    /// process may do.
    static let privilegeFields = "CapBnd|CapEff|CapPrm|NoNewPrivs|Seccomp|Seccomp_filters|Uid|Gid"

    /// A container started with settings its config does not have (-s; or a config edited
    /// since): attach gives its command what the container's processes have, read from what
    /// the start recorded and from init's namespaces, not from the config.
    @Test func attachTakesThePrivilegesTheContainerRunsWithNotItsConfig() throws {
        let container = try Booted("runs-with", start: false)
        let profile = container.sandbox.write("deny-sethostname.seccomp", "2\ndenylist\nsethostname errno 1\n")
        let started = try container.swrun(["start"], ["-s", "lxc.cap.drop=sys_admin sys_module net_raw", "-s", "lxc.no_new_privs=1",
                                                      "-s", "lxc.seccomp.profile=\(profile)"])
        #expect(started.status == 0, "\(started.stderr)")
        let script = "grep -E '^(\(Self.privilegeFields)):' /proc/1/status > /tmp/init; grep -E '^(\(Self.privilegeFields)):' /proc/self/status > /tmp/self; "
            + "diff /tmp/init /tmp/self && echo same; hostname renamed 2>/dev/null || echo sethostname refused"
        let attached = try container.swrun(["attach"], ["--", "sh", "-c", script])
        #expect(attached.stdout == "same\nsethostname refused\n", "\(attached.stdout) \(attached.stderr)")
    }

    /// The user namespace too comes from the running init: a container started with id maps
    /// its config does not have is attached inside them, never as the host's root.
    @Test func attachEntersTheUserNamespaceOfTheRunningContainer() throws {
        let sandbox = try Sandbox(), name = sandbox.name("userns")
        chmod(sandbox.path, 0o755)
        let maps = ["lxc.idmap = u 0 300000 65536", "lxc.idmap = g 0 300000 65536"]
        let created = try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path,
                                     "-f", sandbox.write("maps.conf", maps.joined(separator: "\n") + "\n")])
        #expect(created.status == 0, "\(created.stderr)")
        defer { _ = try? Swrun.run(["destroy", "-f", "-n", name, "-P", sandbox.path]) }
        // The maps leave the config, and come with the start instead.
        let config = "\(sandbox.path)/\(name)/config"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.split(separator: "\n").filter { !$0.hasPrefix("lxc.idmap") }.joined(separator: "\n").appending("\n")
            .write(toFile: config, atomically: false, encoding: .utf8)
        let started = try Swrun.run(["start", "-n", name, "-P", sandbox.path] + maps.flatMap { ["-s", $0.replacingOccurrences(of: " = ", with: "=")] })
        #expect(started.status == 0, "\(started.stderr)")
        let attached = try Swrun.run(["attach", "-n", name, "-P", sandbox.path, "--", "sh", "-c", "cat /proc/self/uid_map; id -u"])
        #expect(attached.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") } == ["0 300000 65536", "0"],
                "\(attached.stdout) \(attached.stderr)")
    }

    /// Container root holding CAP_SYS_PTRACE may trace any process that appears in its pid
    /// namespace from its first instruction on. A tracer on the host stands for it here, and
    /// sees every process swrun attach makes as it is born: none that the container can see
    /// may hold more than the container's own processes (bounding set, capabilities, filter).
    @Test func attachIsNeverVisibleInTheContainerWithMorePrivilegesThanIt() throws {
        let container = try Booted("visible")
        let tracer = container.sandbox.path + "/birth-tracer", log = container.sandbox.path + "/births"
        try AttackPrograms.build("birth-tracer", to: tracer, static: false)
        let initPID = try #require(pid_t(container.record["init_pid"] ?? ""))
        let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/pid")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tracer)
        process.arguments = [log, namespace, Swrun.binary, "attach", "-n", container.name, "-P", container.sandbox.path, "--", "true"]
        let traced = try Swrun.runProcess(process)
        #expect(traced.status == 0, "\(traced.stderr)")
        let status = try String(contentsOfFile: "/proc/\(initPID)/status", encoding: .utf8).split(separator: "\n")
        let expected = ["CapBnd:", "CapEff:", "Seccomp:", "NoNewPrivs:"].compactMap { key in status.first { $0.hasPrefix(key) } }
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
        let births = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(!births.isEmpty, "the tracer saw no process of swrun attach in the container")
        for birth in births {
            let fields = birth.split(separator: "|").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            for line in expected { #expect(fields.contains(line), "born as \(birth), but the container's init has \(line)") }
        }
    }
}

