import Glibc
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// `events`' OOM notices, on stand-in cgroup files in a temporary directory (no root): the
/// kernel's side is played by writes to memory.events (v2) and to the eventfd (v1).
@Suite struct OOMNotifierTests {
    final class Directory {
        private let scratch: ScratchDirectory
        var path: String { scratch.path }
        init() throws { scratch = try ScratchDirectory("oom") }

        /// Rewrites the file in place, as the kernel changes a cgroup file (a rename would
        /// leave the watch on the old one).
        func write(_ name: String, _ text: String) {
            let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }

    /// Whether poll() finds `fd` readable now (the notices are queued by the write itself).
    static func readable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }

    @Test func v2WatchesMemoryEventsAndCountsOnlyNewOOMKills() throws {
        let cgroup = try Directory()
        cgroup.write("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\n")
        let notifier = try #require(try OOMNotifier.open(cgroupDirectories: [cgroup.path + "/none", cgroup.path]))
        #expect(notifier.kind == .memoryEvents)
        #expect(!Self.readable(notifier.fd) && !notifier.tookOOM(), "kills from before events started are not news")
        cgroup.write("memory.events", "low 0\nhigh 0\nmax 5\noom 0\noom_kill 2\n")
        #expect(Self.readable(notifier.fd) && !notifier.tookOOM(), "another counter changed: a wake-up, not an OOM")
        cgroup.write("memory.events", "low 0\nhigh 0\nmax 6\noom 1\noom_kill 3\n")
        #expect(Self.readable(notifier.fd) && notifier.tookOOM())
        #expect(!Self.readable(notifier.fd) && !notifier.tookOOM(), "one kill is told once")
    }

    @Test func v1RegistersAnEventfdForMemoryOOMControl() throws {
        let cgroup = try Directory()
        cgroup.write("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n")
        cgroup.write("cgroup.event_control", "")
        let notifier = try #require(try OOMNotifier.open(cgroupDirectories: [cgroup.path]))
        #expect(notifier.kind == .eventControl)
        let registered = (try? FileSystem.readText(cgroup.path + "/cgroup.event_control")) ?? ""
        let fds = registered.split(separator: " ").compactMap { Int32($0) }
        #expect(fds.count == 2 && fds[0] == notifier.fd, "'EVENTFD OOM_CONTROL_FD' as the kernel reads it: \(registered)")
        #expect(fcntl(notifier.fd, F_GETFD) & FD_CLOEXEC != 0 && fcntl(fds[1], F_GETFD) & FD_CLOEXEC != 0)
        #expect(!notifier.tookOOM())
        var one: UInt64 = 1
        _ = Glibc.write(notifier.fd, &one, 8)  // what the kernel does on an OOM in the cgroup
        #expect(Self.readable(notifier.fd) && notifier.tookOOM())
        #expect(!Self.readable(notifier.fd) && !notifier.tookOOM())
        unlink(cgroup.path + "/cgroup.event_control")
        _ = Glibc.write(notifier.fd, &one, 8)  // and once more when the cgroup is removed
        #expect(!notifier.tookOOM(), "the cgroup's end is not an OOM")
    }

    @Test func aCgroupWithoutMemoryControllerHasNoNotifier() throws {
        let cgroup = try Directory()
        #expect(try OOMNotifier.open(cgroupDirectories: [cgroup.path]) == nil)
        cgroup.write("memory.oom_control", "oom_kill_disable 0\n")
        #expect(throws: SwrunError.self, "v1 without cgroup.event_control: refused by path") {
            try OOMNotifier.open(cgroupDirectories: [cgroup.path])
        }
    }
}
