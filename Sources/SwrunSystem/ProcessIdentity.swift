import CLinux
import Glibc

/// A process named so that a recycled pid cannot pass for it: its pid and its start
/// time (field 22 of /proc/PID/stat, in clock ticks since boot).
public struct ProcessIdentity: Sendable, Equatable {
    public let pid: pid_t
    public let startTime: UInt64

    public init(pid: pid_t, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of the live process `pid`; nil when there is none.
    public static func of(_ pid: pid_t) -> ProcessIdentity? { status(of: pid)?.identity }

    /// The identity of `pid` and whether it is a zombie, from one read of /proc/PID/stat.
    private static func status(of pid: pid_t) -> (identity: ProcessIdentity, zombie: Bool)? {
        guard pid > 0, let text = try? FileSystem.readText("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = UInt64(fields[19]) else { return nil }
        return (ProcessIdentity(pid: pid, startTime: start), fields[0] == "Z")
    }

    public static var current: ProcessIdentity? { of(getpid()) }

    /// Whether this very process still runs (a zombie does not count).
    public var isAlive: Bool {
        guard let now = Self.status(of: pid) else { return false }
        return now.identity.startTime == startTime && !now.zombie
    }

    /// A pidfd for this process, checked against the start time after opening so that
    /// signals sent through it cannot reach a process that took over the pid.
    public func openPidFD() throws(SwrunError) -> Int32 {
        let fd = swrun_pidfd_open(pid)
        if fd < 0 { throw SwrunError.system("cannot open a pidfd for process \(pid)", Errno.current) }
        guard isAlive else {
            close(fd)
            throw SwrunError(.notFound, "process \(pid) has exited")
        }
        return fd
    }
}
