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
    /// Read as bytes: every start asks this of several processes.
    private static func status(of pid: pid_t) -> (identity: ProcessIdentity, zombie: Bool)? {
        guard pid > 0, let bytes = try? FileSystem.readBytes("/proc/\(pid)/stat"),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // The words after the command name (which may hold spaces): the state (field 3 of
        // the line) is word 0, the start time (field 22) word 19.
        var word = -1
        var state: UInt8 = 0
        var start: UInt64 = 0
        var digits = 0
        for byte in bytes[(close + 1)...] {
            if byte == UInt8(ascii: " ") {
                if word == 19 { break }
                word += 1
                continue
            }
            if word == 0 && state == 0 { state = byte }
            if word == 19 {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                start = start &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                digits += 1
            }
        }
        guard digits > 0 else { return nil }
        return (ProcessIdentity(pid: pid, startTime: start), state == UInt8(ascii: "Z"))
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
