import CLinux
import Glibc
import SwrunSystem

/// The kernel's word on OOM in a container's memory cgroup, as one fd for poll(): `events`
/// sleeps on it instead of reading the cgroup's files over and over.
/// - cgroup v1: an eventfd registered through cgroup.event_control with memory.oom_control;
///   the kernel signals it on each OOM in the cgroup (and once more when the cgroup goes).
/// - cgroup v2: an inotify watch (IN_MODIFY) on memory.events, which the kernel touches on
///   each of its counters; oom_kill is what counts.
final class OOMNotifier {
    enum Kind: Equatable { case eventControl, memoryEvents }

    let kind: Kind
    /// The fd to poll for POLLIN (non-blocking, close-on-exec).
    let fd: Int32
    /// v1: memory.oom_control, held open while its event is registered, as runc does.
    private let watched: Int32
    private let directory: String
    /// v2: the oom_kill count last seen.
    private var kills: UInt64

    /// The notifier of the first of `directories` with a memory controller; nil where none has.
    static func open(cgroupDirectories directories: [String]) throws(SwrunError) -> OOMNotifier? {
        for directory in directories {
            if FileSystem.exists(FileSystem.join(directory, "memory.events")) { return try OOMNotifier(memoryEvents: directory) }
            if FileSystem.exists(FileSystem.join(directory, "memory.oom_control")) { return try OOMNotifier(eventControl: directory) }
        }
        return nil
    }

    /// v2 (and what a unit test can watch without root: any directory with a memory.events).
    init(memoryEvents directory: String) throws(SwrunError) {
        let path = FileSystem.join(directory, "memory.events")
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0 { throw SwrunError.system("cannot make an inotify instance to watch \(path)", Errno.current) }
        if inotify_add_watch(fd, path, UInt32(IN_MODIFY)) < 0 {
            let error = Errno.current
            close(fd)
            throw SwrunError.system("cannot watch \(path) with inotify", error, hint: "the container's cgroup may be gone")
        }
        (self.kind, self.fd, self.watched, self.directory) = (.memoryEvents, fd, -1, directory)
        self.kills = Self.oomKills(in: directory) ?? 0
    }

    /// v1: needs write access to the cgroup's cgroup.event_control.
    init(eventControl directory: String) throws(SwrunError) {
        let path = FileSystem.join(directory, "memory.oom_control")
        let watched = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if watched < 0 { throw SwrunError.system("cannot open \(path)", Errno.current, hint: "the container's cgroup may be gone") }
        let fd = swrun_eventfd_nonblocking()
        if fd < 0 {
            let error = Errno.current
            close(watched)
            throw SwrunError.system("cannot make an eventfd for \(path)", error)
        }
        do throws(SwrunError) {
            try FileSystem.writeExisting(FileSystem.join(directory, "cgroup.event_control"), "\(fd) \(watched)",
                                         hint: "events needs to register for OOM notices in the container's memory cgroup")
        } catch {
            close(fd)
            close(watched)
            throw error
        }
        (self.kind, self.fd, self.watched, self.directory, self.kills) = (.eventControl, fd, watched, directory, 0)
    }

    deinit {
        close(fd)
        if watched >= 0 { close(watched) }
    }

    /// Whether an OOM happened since the last call (reads what is pending without blocking,
    /// so it may also be asked when poll() said nothing, as at the container's end).
    func tookOOM() -> Bool {
        switch kind {
        case .eventControl:
            var count: UInt64 = 0
            guard read(fd, &count, 8) == 8 else { return false }
            // As runc: each signal is an OOM, but for the last one when the cgroup is removed.
            return count > 1 || FileSystem.exists(FileSystem.join(directory, "cgroup.event_control"))
        case .memoryEvents:
            var buffer = [UInt8](repeating: 0, count: 1024)
            while read(fd, &buffer, buffer.count) > 0 {}  // the inotify records: the count says what changed
            guard let now = Self.oomKills(in: directory), now > kills else { return false }
            kills = now
            return true
        }
    }

    private static func oomKills(in directory: String) -> UInt64? {
        OCIEvents.oomKills { name in try? FileSystem.readText(FileSystem.join(directory, name)) }
    }
}
