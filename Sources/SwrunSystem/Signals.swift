import CLinux
import Glibc

/// Signal names and numbers, as `kill -l` spells them.
public enum Signals {
    private static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("STKFLT", SIGSTKFLT), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP),
        ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ),
        ("VTALRM", SIGVTALRM), ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("PWR", SIGPWR),
        ("SYS", SIGSYS),
    ]

    /// "SIGTERM" for 15; "SIGRTMIN+3" for real-time signals.
    public static func name(_ signal: Int32) -> String {
        if let match = names.first(where: { $0.1 == signal }) { return "SIG" + match.0 }
        let rtmin = Int32(__libc_current_sigrtmin())
        if signal >= rtmin { return "SIGRTMIN+\(signal - rtmin)" }
        return "signal \(signal)"
    }

    /// Parses "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3", "RTMAX-1".
    public static func number(_ text: String) -> Int32? {
        if let value = Int32(text), value > 0, value < 65 { return value }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        if let match = names.first(where: { $0.0 == upper }) { return match.1 }
        let rtmin = Int32(__libc_current_sigrtmin()), rtmax = Int32(__libc_current_sigrtmax())
        for (base, origin, sign) in [("RTMIN", rtmin, Int32(1)), ("RTMAX", rtmax, Int32(-1))] where upper.hasPrefix(base) {
            let rest = upper.dropFirst(base.count)
            if rest.isEmpty { return origin }
            guard let first = rest.first, first == (sign > 0 ? "+" : "-"), let offset = Int32(rest.dropFirst()) else { return nil }
            let value = origin + sign * offset
            return value >= rtmin && value <= rtmax ? value : nil
        }
        return nil
    }
}

/// A set of signals delivered through a signalfd instead of handlers, so the
/// parent handles them in its poll loop with no async-signal-safety worries.
public struct SignalFD: ~Copyable {
    public let fd: Int32
    private var previousMask = sigset_t()

    /// Blocks `signals` and opens a signalfd for them.
    public init(_ signals: [Int32]) throws(SwrunError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        var previous = sigset_t()
        if sigprocmask(SIG_BLOCK, &set, &previous) != 0 { throw SwrunError.system("cannot block signals", Errno.current) }
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        if fd < 0 {
            let errno = Errno.current
            sigprocmask(SIG_SETMASK, &previous, nil)
            throw SwrunError.system("cannot create a signalfd", errno)
        }
        self.fd = fd
        self.previousMask = previous
    }

    /// The next pending signal, or nil when none is pending.
    public func next() -> Int32? {
        var info = signalfd_siginfo()
        let count = withUnsafeMutableBytes(of: &info) { read(fd, $0.baseAddress, $0.count) }
        guard count == MemoryLayout<signalfd_siginfo>.size else { return nil }
        return Int32(info.ssi_signo)
    }

    deinit {
        close(fd)
        var mask = previousMask
        sigprocmask(SIG_SETMASK, &mask, nil)
    }
}
