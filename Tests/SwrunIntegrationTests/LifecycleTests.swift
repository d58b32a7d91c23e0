import Foundation
import Glibc
import Testing

/// create, destroy, ls, run, and bad input that must leave nothing behind.
@Suite struct LifecycleTests {
    @Test func createWritesLXCLayoutAndDestroyLeavesNothing() throws {
        let sandbox = try Sandbox(), name = sandbox.name("life")
        try sandbox.create(name)
        let config = try String(contentsOfFile: "\(sandbox.path)/\(name)/config", encoding: .utf8)
        #expect(config.contains("lxc.rootfs.path = dir:\(sandbox.path)/\(name)/rootfs"))
        #expect(config.contains("lxc.uts.name = \(name)"))
        #expect(config.contains("lxc.net.0.type = empty"), "LXC reading this config must not share the host's network")
        #expect(FileManager.default.isExecutableFile(atPath: "\(sandbox.path)/\(name)/rootfs/bin/busybox"))
        let ran = try sandbox.execute(name, ["true"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let destroyed = try Swrun.run(["destroy", "-n", name, "-P", sandbox.path])
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { $0 != "empty.conf" }
        #expect(left.isEmpty, "\(left)")
        #expect(!(try hostMountInfo()).contains(sandbox.path))
    }

    @Test func lsListsNamesAndJSON() throws {
        let sandbox = try Sandbox()
        let names = [sandbox.name("a"), sandbox.name("b")].sorted()
        for name in names { try sandbox.create(name) }
        let plain = try Swrun.run(["ls", "-1", "-P", sandbox.path])
        #expect(plain.stdout == names.joined(separator: "\n") + "\n")
        let json = try Swrun.run(["ls", "--format", "json", "-P", sandbox.path])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.compactMap { $0["name"] as? String } == names)
        #expect(decoded?.allSatisfy { $0["state"] as? String == "STOPPED" } == true)
    }

    @Test func unknownConfigKeyNamesFileAndLineAndCreatesNothing() throws {
        let sandbox = try Sandbox(), name = sandbox.name("bad")
        let config = sandbox.write("bad.conf", "# a comment\nlxc.no_such_key = 1\n")
        let result = try Swrun.run(["create", "-n", name, "-t", "busybox", "-P", sandbox.path, "-f", config])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(config):2"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    @Test func existingNameIsRefused() throws {
        let sandbox = try Sandbox(), name = sandbox.name("dup")
        try sandbox.create(name)
        let again = try Swrun.run(["create", "-n", name, "-t", "busybox", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/rootfs/bin/busybox"), "the first one is untouched")
    }

    @Test(arguments: [["destroy", "-n", "ghost"], ["execute", "-n", "ghost", "--", "true"]])
    func missingContainerIsReported(arguments: [String]) throws {
        let sandbox = try Sandbox()
        let result = try Swrun.run(arguments + ["-P", sandbox.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("container 'ghost' does not exist"), "\(result.stderr)")
    }

    @Test func missingRootfsIsReported() throws {
        let sandbox = try Sandbox(), name = sandbox.name("norootfs")
        try sandbox.create(name)
        try FileManager.default.removeItem(atPath: "\(sandbox.path)/\(name)/rootfs")
        let result = try sandbox.execute(name, ["true"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("rootfs"), "\(result.stderr)")
    }

    @Test func malformedConfigLineInContainerConfigStopsExecute() throws {
        let sandbox = try Sandbox(), name = sandbox.name("malformed")
        try sandbox.create(name)
        let configPath = "\(sandbox.path)/\(name)/config"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: configPath))
        handle.seekToEndOfFile()
        handle.write(Data("this line has no equals sign\n".utf8))
        try handle.close()
        let lines = try String(contentsOfFile: configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        let result = try sandbox.execute(name, ["true"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("\(configPath):\(lines)"), "\(result.stderr)")
    }

    @Test func runCreatesExecutesAndRemovesWithRm() throws {
        let sandbox = try Sandbox()
        let result = try Swrun.run(["run", "--rm", "--name", "once", "-P", sandbox.path, "-f", sandbox.emptyConfig,
                                    "busybox", "--", "sh", "-c", "echo hi"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "hi\n")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/once"))
    }

    /// lxc.ephemeral = 1 (in the config, or given with -s): execute removes the container after
    /// its command, whatever the command's status; without it the container stays.
    @Test(arguments: [("config", true), ("setting", true), ("none", false)])
    func executeRemovesAnEphemeralContainer(given: String, removed: Bool) throws {
        let sandbox = try Sandbox(), name = sandbox.name("eph")
        let config = given == "config" ? sandbox.write("ephemeral.conf", "lxc.net.0.type = empty\nlxc.ephemeral = 1\n") : nil
        try sandbox.create(name, config: config)
        let ran = try sandbox.execute(name, ["sh", "-c", "exit 3"], options: given == "setting" ? ["-s", "lxc.ephemeral=1"] : [])
        #expect(ran.status == 3, "\(ran.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)") != removed)
    }

    @Test func runWithoutRmKeepsTheContainerForExec() throws {
        let sandbox = try Sandbox()
        let first = try Swrun.run(["run", "--name", "keep", "-P", sandbox.path, "-f", sandbox.emptyConfig, "busybox", "sh", "-c", "echo 1 > /root/mark"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Swrun.run(["execute", "-n", "keep", "-P", sandbox.path, "--", "cat", "/root/mark"])
        #expect(second.stdout == "1\n", "\(second.stderr)")
    }

    @Test func configPrintsSystemSettingsAsLXCConfigDoes() throws {
        let list = try Swrun.run(["config", "-l"])
        #expect(list.stdout.split(separator: "\n").contains("lxc.lxcpath"))
        let path = try Swrun.run(["config", "lxc.default_config"])
        #expect(path.status == 0 && path.stdout.hasPrefix("/"), "\(path.stderr)")
        let unknown = try Swrun.run(["config", "lxc.no_such_setting"])
        #expect(unknown.status == 1 && unknown.stderr.contains("lxc.no_such_setting"))
    }

    @Test func checkconfigReportsTheNamespacesAContainerNeeds() throws {
        let result = try Swrun.run(["checkconfig", "--format", "json"])
        #expect(result.status == 0, "\(result.stdout)")
        let items = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
        let namespaces = items.filter { $0["section"] == "Namespaces" && $0["needed_for"]?.hasPrefix("every container") == true }
        #expect(namespaces.count == 6 && namespaces.allSatisfy { $0["result"] == "enabled" }, "\(namespaces)")
        #expect(items.contains { $0["name"] == "Cgroup mode" })
    }

    @Test func unknownImageIsAnError() throws {
        let sandbox = try Sandbox()
        // A registry on loopback that is not there: no packet leaves the host.
        let result = try Swrun.run(["run", "-P", sandbox.path, "127.0.0.1:9/no-such-image"], environment: ["SWRUN_CACHE_PATH": sandbox.path + "/cache"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("no-such-image"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path) == ["empty.conf"], "no container, cache directory or lock is left")
    }

    @Test func nonRootIsRefused() throws {
        let sandbox = try Sandbox()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Swrun.binary, "run", "-P", sandbox.path, "busybox", "true"]
        let result = try Swrun.runProcess(process)
        #expect(result.status == 125)
        #expect(result.stderr.contains("needs root"), "\(result.stderr)")
    }
}

/// lxc.mount.entry: binds from the host, with targets that stay inside the rootfs.
@Suite struct MountEntryTests {
    @Test func bindMountEntryShowsAHostDirectoryReadOnly() throws {
        let sandbox = try Sandbox(), name = sandbox.name("bind")
        let shared = sandbox.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        _ = sandbox.write("shared/file", "from the host\n")
        let config = sandbox.write("bind.conf", "lxc.mount.entry = \(shared) mnt/shared none ro,bind,create=dir 0 0\n")
        try sandbox.create(name, config: config)
        let result = try sandbox.execute(name, ["sh", "-c", "cat /mnt/shared/file; touch /mnt/shared/new 2>/dev/null && echo writable || echo read-only"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "from the host\nread-only\n")
        #expect(!FileManager.default.fileExists(atPath: shared + "/new"))
    }

    @Test func symlinkInTheRootfsCannotLeadAMountOutOfIt() throws {
        let sandbox = try Sandbox(), name = sandbox.name("escape")
        let hostTarget = sandbox.path + "/host-target"
        try FileManager.default.createDirectory(atPath: hostTarget, withIntermediateDirectories: true)
        let config = sandbox.write("escape.conf", "lxc.mount.entry = tmpfs evil tmpfs create=dir 0 0\n")
        try sandbox.create(name, config: config)
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        // An absolute symlink that, followed on the host, would point at a host directory;
        // followed as if the rootfs were /, it points at the rootfs's own copy of that path.
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/evil", withDestinationPath: hostTarget)
        try FileManager.default.createDirectory(atPath: rootfs + hostTarget, withIntermediateDirectories: true)
        let result = try sandbox.execute(name, ["sh", "-c", "grep -c ' \(hostTarget) .* tmpfs ' /proc/self/mountinfo"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1\n", "the tmpfs is on the rootfs's \(hostTarget), so it is visible inside")
    }
}
