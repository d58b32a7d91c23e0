import Foundation
import Glibc
import Testing

/// Unprivileged containers: lxc.idmap, a user namespace, and a rootfs in the mapped host ids.
@Suite struct UnprivilegedTests {
    static let maps = "lxc.idmap = u 0 300000 65536\nlxc.idmap = g 0 300000 65536\n"

    /// A sandbox the mapped root can walk through (mkdtemp makes it 0700).
    func sandbox() throws -> Sandbox {
        let sandbox = try Sandbox()
        chmod(sandbox.path, 0o755)
        return sandbox
    }

    func owner(_ path: String) -> (uid_t, gid_t) {
        var st = stat()
        lstat(path, &st)
        return (st.st_uid, st.st_gid)
    }

    @Test func rootInsideIsAMappedHostIDAndOwnsWhatItMakes() throws {
        let sandbox = try sandbox(), name = sandbox.name("unpriv")
        let created = try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path,
                                     "-f", sandbox.write("maps.conf", Self.maps)])
        #expect(created.status == 0, "\(created.stderr)")
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        #expect(owner(rootfs + "/bin/busybox") == (300000, 300000))
        #expect(owner(rootfs + "/bin/sh") == (300000, 300000), "symlinks move too")
        let result = try sandbox.execute(name, ["sh", "-c", "id -u; cat /proc/self/uid_map; touch /root/made"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["0", "0 300000 65536"])
        #expect(owner(rootfs + "/root/made") == (300000, 300000))
    }

    @Test func rootInsideCannotReadARootOnlyHostFile() throws {
        let sandbox = try sandbox(), name = sandbox.name("secret")
        let secret = sandbox.write("secret", "host secret\n")
        chmod(secret, 0o600)
        let config = sandbox.write("secret.conf", Self.maps + "lxc.mount.entry = \(secret) mnt/secret none bind,create=file 0 0\n")
        #expect(try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path, "-f", config]).status == 0)
        let result = try sandbox.execute(name, ["sh", "-c", "cat /mnt/secret"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Permission denied"), "\(result.stderr)")
        #expect(!result.stdout.contains("host secret"))
    }

    /// In a user namespace init cannot enter its v1 cgroup itself: swrun moves it there, and
    /// the limit holds.
    @Test func unprivilegedContainerIsHeldToItsMemoryLimit() throws {
        let sandbox = try sandbox(), name = sandbox.name("unlimit")
        #expect(try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path,
                               "-f", sandbox.write("maps.conf", Self.maps)]).status == 0)
        let result = try sandbox.execute(name, ["sh", "-c", "tail /dev/zero > /dev/null; echo status=$?"], options: ["--memory", "32M"])
        #expect(result.stdout == "status=137\n", "tail is OOM-killed at the limit: \(result.stdout) \(result.stderr)")
    }

    @Test func bootedUnprivilegedContainerRunsAndAttachJoinsItsUserNamespace() throws {
        let sandbox = try sandbox(), name = sandbox.name("unboot")
        #expect(try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path,
                               "-f", sandbox.write("maps.conf", Self.maps)]).status == 0)
        defer { _ = try? Swrun.run(["destroy", "-f", "-n", name, "-P", sandbox.path]) }
        let started = try Swrun.run(["start", "-n", name, "-P", sandbox.path])
        #expect(started.status == 0, "\(started.stderr)")
        let attached = try Swrun.run(["attach", "-n", name, "-P", sandbox.path, "--", "sh", "-c", "id -u; cat /proc/1/uid_map"])
        #expect(attached.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") } == ["0", "0 300000 65536"],
                "\(attached.stderr)")
        #expect(try Swrun.run(["stop", "-n", name, "-P", sandbox.path, "-t", "20"]).status == 0)
    }

    @Test func overlappingMapsAreRefusedBeforeStart() throws {
        let sandbox = try sandbox(), name = sandbox.name("overlap")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["true"], options: ["-s", "lxc.idmap=u 0 300000 65536", "-s", "lxc.idmap=u 70000 300100 10",
                                                                   "-s", "lxc.idmap=g 0 300000 65536"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("overlap"), "\(result.stderr)")
    }

    static let rootHasNoSubordinateIDs = !((try? String(contentsOfFile: "/etc/subuid", encoding: .utf8)) ?? "").contains("root:")

    @Test(.enabled(if: rootHasNoSubordinateIDs, "a host that delegates ids to root would create the container"))
    func unprivilegedCreateWithoutAnyRangeSaysWhereToGetOne() throws {
        let sandbox = try sandbox(), name = sandbox.name("norange")
        let result = try Swrun.run(["create", "-n", name, "-t", "busybox", "--unprivileged", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/etc/subuid"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }
}
