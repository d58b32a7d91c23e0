import CLinux
import Glibc
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// A stand-in for the kernel: every call is written down, paths resolve to made-up fds, and
/// nothing happens. `missing` paths do not exist in the rootfs; `files` are not directories.
final class RecordingCalls: ContainerCalls {
    private(set) var log: [String] = []
    var missing: Set<String> = []
    var files: Set<String> = []
    private var nextFD: Int32 = 100
    private var paths: [Int32: String] = [:]
    /// fds of host paths (the rootfs), which are "/" to paths resolved in them.
    private var roots: Set<Int32> = []

    private func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "NULL" }
    private func name(_ fd: Int32) -> String { paths[fd].map { "fd(\($0))" } ?? String(fd) }
    /// "/proc/self/fd/N" as the path it stands for.
    private func shown(_ pointer: UnsafePointer<CChar>?) -> String {
        let path = text(pointer)
        guard path.hasPrefix("/proc/self/fd/"), let fd = Int32(path.dropFirst("/proc/self/fd/".count)) else { return path }
        return name(fd)
    }
    private func open(path: String) -> Int32 {
        nextFD += 1
        paths[nextFD] = path
        return nextFD
    }

    func setns(_ fd: Int32, _ type: Int32) -> Int32 { log.append("setns(\(name(fd)), \(type))"); return 0 }
    func unshare(_ flags: Int32) -> Int32 { log.append("unshare(\(flags))"); return 0 }
    func becomeUser(_ id: UInt32) -> Int32 { log.append("become \(id)"); return 0 }
    func mount(_ source: UnsafePointer<CChar>?, _ target: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?,
               _ flags: UInt, _ data: UnsafePointer<CChar>?) -> Int32 {
        log.append("mount(\(shown(source)), \(shown(target)), \(text(type)), \(MountFlags(rawValue: flags).cNames), \(text(data)))")
        return 0
    }
    func setMountAttributes(_ fd: Int32, set: UInt64, clear: UInt64) -> Int32 {
        log.append("mount_setattr(\(name(fd)), AT_RECURSIVE, set \(set), clear \(clear))")
        return 0
    }
    func moveMount(_ fd: Int32, onto target: Int32) -> Int32 {
        log.append("move_mount(\(name(fd)), \(name(target)))")
        return 0
    }
    func open(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 {
        log.append("open(\(text(path)))")
        let fd = open(path: text(path))
        roots.insert(fd)
        return fd
    }
    func openInRoot(_ root: Int32, _ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 {
        let path = text(path)
        if missing.contains(path) {
            log.append("openat2(\(name(root)), \(path)) = ENOENT")
            return -ENOENT
        }
        return open(path: path)
    }
    func close(_ fd: Int32) { paths[fd] = nil }
    func isDirectory(_ fd: Int32) -> (error: Int32, directory: Bool) { (0, !files.contains(paths[fd] ?? "")) }
    func mkdirat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t) -> Int32 {
        log.append("mkdirat(\(self.name(directory)), \(text(name)), 0\(String(mode, radix: 8)))")
        missing.remove((roots.contains(directory) ? "" : paths[directory] ?? "") + "/" + text(name))
        return 0
    }
    func mknodat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t, _ device: dev_t) -> Int32 {
        log.append("mknodat(\(self.name(directory)), \(text(name)), 0\(String(mode, radix: 8)), \(device))")
        return 0
    }
    func fchownat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ uid: uid_t, _ gid: gid_t) -> Int32 {
        log.append("fchownat(\(self.name(directory)), \(text(name)), \(uid), \(gid))")
        return 0
    }
    func symlinkat(_ target: UnsafePointer<CChar>, _ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
        log.append("symlinkat(\(text(target)), \(self.name(directory)), \(text(name)))")
        return 0
    }
    func unlinkat(_ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
        log.append("unlinkat(\(self.name(directory)), \(text(name)))")
        return 0
    }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        log.append("write(\(name(fd)), \(String(decoding: bytes, as: UTF8.self)))")
        return 0
    }
    func chroot(_ path: UnsafePointer<CChar>) -> Int32 { log.append("chroot(\(text(path)))"); return 0 }
    func chdir(_ path: UnsafePointer<CChar>) -> Int32 { log.append("chdir(\(text(path)))"); return 0 }
    func fchdir(_ fd: Int32) -> Int32 { log.append("fchdir(\(name(fd)))"); return 0 }
    func pivotRootHere() -> Int32 { log.append("pivot_root(., .); umount2(., MNT_DETACH)"); return 0 }
    func sethostname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32 { log.append("sethostname(\(text(name)))"); return 0 }
    func setdomainname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32 { log.append("setdomainname(\(text(name)))"); return 0 }
    func openPtyPeer(_ master: Int32) -> Int32 { log.append("TIOCGPTPEER(\(name(master)))"); return open(path: "pty peer") }
    func loadSeccomp(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32 { log.append("seccomp(\(count) instructions)"); return 0 }
    func loadSeccompWithListener(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32 {
        log.append("seccomp(\(count) instructions, NEW_LISTENER)")
        return open(path: "seccomp notify")
    }
    func sendSync(_ message: SyncMessage, on socket: Int32, passing fd: Int32) -> Int32 {
        log.append("send(\(socket), kind \(message.kind), \(name(fd)))")
        return 0
    }
    func runHook(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                 _ environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, input: UnsafeRawBufferPointer?, timeout: Int32) -> Int32 {
        log.append("hook \(text(path))" + (input.map { " < \(String(decoding: $0, as: UTF8.self))" } ?? ""))
        return 0
    }
    func rootIsInitramfs() -> Bool { false }

    /// Capability numbers of a mask, for the log.
    private func capabilities(_ mask: UInt64) -> String { (0..<64).filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map(String.init).joined(separator: ",") }
    private func list(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> String {
        var items: [String] = []
        var index = 0
        while let item = pointer[index] { items.append(String(cString: item)); index += 1 }
        return items.joined(separator: " ")
    }
    /// Paths execve finds nothing at.
    var unexecutable: Set<String> = []

    func replaceStandardFDs(_ fds: UnsafeBufferPointer<Int32>) -> Int32 { log.append("dup2 onto 0,1,2: \(Array(fds))"); return 0 }
    func resetInheritedState() -> Int32 { log.append("reset signals, umask 022"); return 0 }
    func prctl(_ option: Int32, _ argument: UInt, _ argument3: UInt) -> Int32 {
        let names: [Int32: String] = [PR_SET_DUMPABLE: "PR_SET_DUMPABLE", PR_SET_KEEPCAPS: "PR_SET_KEEPCAPS", PR_CAPBSET_DROP: "PR_CAPBSET_DROP",
                                      PR_SET_NO_NEW_PRIVS: "PR_SET_NO_NEW_PRIVS", PR_CAP_AMBIENT: "PR_CAP_AMBIENT"]
        log.append("prctl(\(names[option] ?? String(option)), \(argument), \(argument3))")
        return 0
    }
    func forkSibling() -> Int32 { log.append("clone(CLONE_PARENT)"); return 0 }
    func handOn(_ pid: Int32, on channel: Int32) { log.append("report \(pid), _exit(0)") }
    func setsid() -> Int32 { log.append("setsid()"); return 0 }
    func setControllingTerminal(_ fd: Int32) -> Int32 { log.append("TIOCSCTTY(\(fd))"); return 0 }
    func dup2(_ fd: Int32, _ target: Int32) -> Int32 { log.append("dup2(\(fd), \(target))"); return 0 }
    func setgroups(_ groups: UnsafeBufferPointer<gid_t>) -> Int32 { log.append("setgroups(\(Array(groups)))"); return 0 }
    func capset(effective: UInt64, permitted: UInt64, inheritable: UInt64) -> Int32 {
        log.append("capset(e=\(capabilities(effective)) p=\(capabilities(permitted)) i=\(capabilities(inheritable)))")
        return 0
    }
    func setIOPriority(_ value: Int32) -> Int32 { log.append("ioprio_set(\(value))"); return 0 }
    func setScheduler(_ settings: SchedulerSettings) -> Int32 { log.append("sched_setattr(\(settings.policy), nice \(settings.nice))"); return 0 }
    func setCPUAffinity(_ mask: UnsafeRawBufferPointer) -> Int32 { log.append("sched_setaffinity(\(mask.count) bytes)"); return 0 }
    func setrlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32 { log.append("setrlimit(\(resource), \(soft), \(hard))"); return 0 }
    func umask(_ mode: mode_t) { log.append("umask(0\(String(mode, radix: 8)))") }
    func setresgid(_ gid: gid_t) -> Int32 { log.append("setresgid(\(gid))"); return 0 }
    func setresuid(_ uid: uid_t) -> Int32 { log.append("setresuid(\(uid))"); return 0 }
    func closeOnExec(from first: UInt32) -> Int32 { log.append("close_range(\(first), ~0, CLOEXEC)"); return 0 }
    func personality(_ persona: UInt) -> Int32 { log.append("personality(\(persona))"); return 0 }
    func execve(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
        let path = String(cString: path)
        log.append("execve(\(path), [\(list(argv))], [\(list(envp))])")
        return unexecutable.contains(path) ? ENOENT : 0
    }
}

/// The exact system calls a plan leads to, walked through the recording double: no root, no
/// container, no mount made.
@Suite struct ContainerCallsTests {
    /// Runs the plan's setup through `calls`, but for its netlink requests (they would reach
    /// this host's network) and the waits for swrun.
    static func walk(_ plan: StartPlan, with calls: RecordingCalls) -> [String] {
        let scratch = (UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8),
                       UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8),
                       UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8))
        defer { [scratch.0, scratch.1, scratch.2].forEach { $0.deallocate() } }
        let terminals = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 8)
        terminals.initialize(repeating: -1)
        defer { terminals.deallocate() }
        var executor = SetupExecutor(calls: calls, scratch: scratch, terminals: terminals, sync: -1)
        for step in plan.setup {
            switch step.action {
            case .netlinkRequest, .configureLink, .waitForParent: continue
            default: #expect(executor.perform(step.action) == 0, "\(step.summary)")
            }
        }
        return calls.log
    }

    /// Runs the plan's payload through `calls`: each step, up to and with the execve.
    static func walkPayload(_ plan: StartPlan, with calls: RecordingCalls) -> [String] {
        let executor = PayloadExecutor(calls: calls, consoleTerminal: 9, lastCapability: 40)
        for step in plan.payload {
            let error = executor.perform(step.action)
            if case .exec = step.action { break }
            #expect(error == 0, "\(step.summary)")
        }
        return calls.log
    }

    static let noCgroups = HostFacts(cgroupMode: nil, cgroupHierarchies: [], kernel: (6, 1))

    @Test func aBindMountWithOptionsIsTheseCalls() throws {
        let fixture = try StartPlanTests.Fixture()
        let plan = try fixture.plan("lxc.autodev = 0\nlxc.seccomp.profile =\nlxc.mount.entry = /srv srv none bind,ro,nosuid,create=dir 0 0\n",
                                    host: Self.noCgroups)
        let calls = RecordingCalls()
        calls.missing = ["/srv"]
        let rootfs = fixture.directory + "/rootfs"
        let log = Self.walk(plan, with: calls)
        let pivot = try #require(log.firstIndex(of: "pivot_root(., .); umount2(., MNT_DETACH)"))
        #expect(Array(log[..<pivot]) == [
            "mount(NULL, /, NULL, MS_REC|MS_PRIVATE, NULL)",
            "mount(\(rootfs), \(rootfs), NULL, MS_BIND|MS_REC, NULL)",
            "open(\(rootfs))",
            "mount(devpts, fd(/dev/pts), devpts, MS_NOSUID|MS_NOEXEC, newinstance,ptmxmode=0666,mode=0620,gid=5)",
            "openat2(fd(\(rootfs)), /srv) = ENOENT",  // the whole path first: most mount points exist
            "mkdirat(fd(\(rootfs)), srv, 0755)",  // under the root, the deepest that exists
            "mount(/srv, fd(/srv), NULL, MS_BIND, NULL)",
            "mount(NULL, fd(/srv), NULL, MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND, NULL)",
            "fchdir(fd(\(rootfs)))",
        ], "\(log)")
        let after = Array(log[(pivot + 1)...])
        #expect(after.count == 3 && after.prefix(2) == ["chdir(/)", "sethostname(web)"] && after[2].hasPrefix("seccomp("),
                "after pivot_root: the hostname, then (execute mode) init loads the filter itself: \(log)")
    }

    @Test func missingMountPointsAreMadeFromTheDeepestThatExists() throws {
        let fixture = try StartPlanTests.Fixture()
        let plan = try fixture.plan("lxc.autodev = 0\nlxc.seccomp.profile =\nlxc.mount.entry = /srv srv/www/site none bind,create=dir 0 0\n",
                                    host: Self.noCgroups)
        let calls = RecordingCalls()
        calls.missing = ["/srv/www", "/srv/www/site"]
        let log = Self.walk(plan, with: calls)
        let first = try #require(log.firstIndex(of: "openat2(fd(\(fixture.directory)/rootfs), /srv/www/site) = ENOENT"))
        #expect(Array(log[first...].prefix(5)) == [
            "openat2(fd(\(fixture.directory)/rootfs), /srv/www/site) = ENOENT",
            "openat2(fd(\(fixture.directory)/rootfs), /srv/www) = ENOENT",
            "mkdirat(fd(/srv), www, 0755)",
            "mkdirat(fd(/srv/www), site, 0755)",
            "mount(/srv, fd(/srv/www/site), NULL, MS_BIND, NULL)",
        ], "\(log)")
    }

    @Test func masksTellFilesFromDirectoriesWhenTheyRun() throws {
        let fixture = try StartPlanTests.Fixture()
        let calls = RecordingCalls()
        calls.files = ["/proc/kcore"]
        calls.missing = ["/proc/asound"]
        let log = Self.walk(try fixture.plan("lxc.mount.auto = proc:rw\n", host: Self.noCgroups), with: calls)
        #expect(log.contains("mount(/dev/null, fd(/proc/kcore), NULL, MS_BIND, NULL)"), "a file gets /dev/null: \(log)")
        #expect(log.contains("mount(tmpfs, fd(/proc/acpi), tmpfs, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, size=0,mode=0555)"), "a directory an empty tmpfs")
        #expect(!log.contains { $0.contains("fd(/proc/asound)") }, "a path this kernel lacks is skipped")
    }
}
