import Foundation
import Testing

/// Overlay rootfs in LXC's layout (LXCPATH/NAME/overlay/delta over read-only lowers): swrun
/// starts what LXC's tools make and LXC starts what swrun makes; the mount lives only in the
/// start's own mount namespace, so nothing stays mounted on the host, crash or not.
@Suite struct StorageTests {
    /// A busybox container `base` and `name` on an overlay of its rootfs, as lxc-copy -s makes it.
    func overlayClone(_ sandbox: Sandbox, _ name: String) throws -> (base: String, delta: String) {
        let base = sandbox.name("base")
        try sandbox.create(base)
        let config = try String(contentsOfFile: "\(sandbox.path)/\(base)/config", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                if line.hasPrefix("lxc.rootfs.path") { return "lxc.rootfs.path = overlay:\(sandbox.path)/\(base)/rootfs:\(sandbox.path)/\(name)/overlay/delta" }
                if line.hasPrefix("lxc.uts.name") { return "lxc.uts.name = \(name)" }
                return String(line)
            }.joined(separator: "\n")
        try FileManager.default.createDirectory(atPath: "\(sandbox.path)/\(name)", withIntermediateDirectories: false)
        try config.write(toFile: "\(sandbox.path)/\(name)/config", atomically: false, encoding: .utf8)
        return (base, "\(sandbox.path)/\(name)/overlay/delta")
    }

    @Test func swrunAndLXCStartTheSameOverlayContainer() throws {
        let sandbox = try Sandbox(), name = sandbox.name("clone")
        let (base, delta) = try overlayClone(sandbox, name)
        let written = try sandbox.execute(name, ["sh", "-c", "echo from-swrun > /mark; rm /etc/hostname; hostname"])
        #expect(written.status == 0 && written.stdout == "\(name)\n", "\(written.stderr)")
        #expect((try? String(contentsOfFile: delta + "/mark", encoding: .utf8)) == "from-swrun\n")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(base)/rootfs/etc/hostname"), "the lower layer is untouched")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(base)/rootfs/mark"))
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/overlay/work"), "LXC's work directory, beside the delta")

        // LXC mounts the same layers in a mount namespace of the test's own.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-m", "--propagation", "private", "lxc-execute", "-P", sandbox.path, "-n", name,
                             "--", "sh", "-c", "cat /mark; test -e /etc/hostname || echo hidden; echo from-lxc > /mark2"]
        let lxc = try Swrun.runProcess(process)
        #expect(lxc.status == 0 && lxc.stdout == "from-swrun\nhidden\n", "\(lxc.stdout) \(lxc.stderr)")
        let read = try sandbox.execute(name, ["cat", "/mark2"])
        #expect(read.stdout == "from-lxc\n", "\(read.stderr)")
    }

    @Test func anOverlayIsNeverMountedOnTheHost() throws {
        let sandbox = try Sandbox(), name = sandbox.name("hidden")
        _ = try overlayClone(sandbox, name)
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        let seen = try Swrun.run(["attach", "-n", name, "-P", sandbox.path, "--", "ls", "/bin/busybox"])
        #expect(seen.status == 0 && seen.stdout == "/bin/busybox\n", "the container sees its rootfs: \(seen.stderr)")
        #expect(!(try hostMountInfo()).contains(rootfs), "the host does not")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rootfs).isEmpty)
        // A crash of monitor and init together leaves no mount behind either.
        let record = try String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8)
        let pids = record.split(separator: "\n").filter { $0.hasPrefix("monitor_pid=") || $0.hasPrefix("init_pid=") }
            .compactMap { pid_t($0.split(separator: "=")[1]) }
        #expect(pids.count == 2)
        for pid in pids { kill(pid, SIGKILL) }
        for _ in 0..<100 where pids.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        #expect(try Swrun.run(["info", "-s", "-H", "-n", name, "-P", sandbox.path]).stdout == "STOPPED\n")
        #expect(!(try hostMountInfo()).contains(rootfs))
        #expect(try Swrun.run(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    @Test func aMissingLayerIsNamedWithAWayOut() throws {
        let sandbox = try Sandbox(), name = sandbox.name("lost")
        let (base, _) = try overlayClone(sandbox, name)
        try FileManager.default.removeItem(atPath: "\(sandbox.path)/\(base)/rootfs")
        let failed = try sandbox.execute(name, ["true"])
        #expect(failed.status != 0 && failed.stderr.contains("the rootfs layer \(sandbox.path)/\(base)/rootfs is missing"), "\(failed.stderr)")
    }
}
