import CLinux
import Glibc

/// The host's terminal: raw mode for the length of a session, window size.
public enum Terminal {
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    public static func windowSize(of fd: Int32) -> winsize? {
        var size = winsize()
        return swrun_ioctl_ptr(fd, swrun_TIOCGWINSZ, &size) == 0 ? size : nil
    }

    @discardableResult
    public static func setWindowSize(_ size: winsize, on fd: Int32) -> Bool {
        var size = size
        return swrun_ioctl_ptr(fd, swrun_TIOCSWINSZ, &size) == 0
    }
}

/// Puts a terminal in raw mode and gives back its settings when dropped,
/// so that every exit path (errors included) leaves the user's shell usable.
public final class RawTerminalMode {
    private let fd: Int32
    private let saved: termios

    /// Switches `fd` to raw mode; the returned value restores it when dropped.
    public static func enter(fd: Int32) throws(SwrunError) -> RawTerminalMode {
        var settings = termios()
        if tcgetattr(fd, &settings) != 0 { throw SwrunError.system("cannot read the terminal settings", Errno.current) }
        let saved = settings
        cfmakeraw(&settings)
        if tcsetattr(fd, TCSADRAIN, &settings) != 0 { throw SwrunError.system("cannot put the terminal in raw mode", Errno.current) }
        return RawTerminalMode(fd: fd, saved: saved)
    }

    private init(fd: Int32, saved: termios) {
        self.fd = fd
        self.saved = saved
    }

    deinit {
        var settings = saved
        tcsetattr(fd, TCSADRAIN, &settings)
    }
}
