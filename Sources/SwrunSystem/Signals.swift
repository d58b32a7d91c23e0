import CLinux
import Glibc

/// Signal names and numbers, as `kill -l` spells them.
public enum Signals {
    /// Without the SIG prefix; the canonical name of a number comes first, aliases (IOT, CLD, POLL) after.
    public static let names: [(name: String, number: Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("STKFLT", SIGSTKFLT), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP),
        ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ),
        ("VTALRM", SIGVTALRM), ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("PWR", SIGPWR),
        ("SYS", SIGSYS), ("IOT", SIGIOT), ("CLD", SIGCHLD), ("POLL", SIGPOLL),
    ]

    /// glibc keeps the first real-time signals for itself, so SIGRTMIN is a function call.
    public static var realtimeMin: Int32 { __libc_current_sigrtmin() }
    public static var realtimeMax: Int32 { __libc_current_sigrtmax() }

    /// "SIGTERM" for 15; "SIGRTMIN+3" for real-time signals.
    public static func name(_ signal: Int32) -> String {
        if let match = names.first(where: { $0.number == signal }) { return "SIG" + match.name }
        if signal >= realtimeMin && signal <= realtimeMax { return "SIGRTMIN+\(signal - realtimeMin)" }
        return "signal \(signal)"
    }
}

/// A set of signals delivered through a signalfd instead of handlers, so the
/// parent handles them in its poll loop with no async-signal-safety worries.
public struct SignalFD: ~Copyable {
    public let fd: Int32
    private var previousMask = sigset_t()

    /// What swrun takes over while a container's command runs in the foreground: the signals
    /// it forwards, the window size, and its children's exits.
    public static let relayed = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD]

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
    public func next() -> Int32? { Self.next(from: fd) }

    /// The next signal pending on the signalfd `fd`, or nil.
    public static func next(from fd: Int32) -> Int32? {
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
