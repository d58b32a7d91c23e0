import CLinux
import Glibc

/// How a process ended, decoded from a wait status.
public enum ProcessStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public init(waitStatus: Int32) {
        if swrun_wifsignaled(waitStatus) != 0 {
            self = .signaled(swrun_wtermsig(waitStatus))
        } else {
            self = .exited(swrun_wexitstatus(waitStatus))
        }
    }

    /// The shell's convention, as Docker and LXC use it: the exit code, or 128+N for signal N.
    public var shellExitCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let signal): return "killed by signal \(Signals.name(signal))"
        }
    }
}

/// waitpid that retries on EINTR; returns the decoded status.
public func waitForProcess(_ pid: pid_t) throws(SwrunError) -> ProcessStatus {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if Errno.current != .interrupted { throw SwrunError.system("cannot wait for process \(pid)", Errno.current) }
    }
    return ProcessStatus(waitStatus: status)
}
