import Glibc
import SwrunSystem

/// A command in the foreground (execute, attach): swrun forwards the signals it gets to
/// the child, relays the console pty to its own stdin and stdout, and waits until the
/// child has exited and the console is drained.
final class ForegroundRelay {
    let child: pid_t
    private var console: Int32
    private let signals: Int32
    /// Where the child reports the command's status (init's sync socket), or -1.
    private var statusChannel: Int32
    private let explainer: Explainer
    private(set) var childStatus: ProcessStatus?
    private var reportedStatus: ProcessStatus?

    /// Takes over `console` (closes it when drained); `signals` is a signalfd that includes SIGCHLD.
    init(child: pid_t, console: Int32, signals: Int32, statusChannel: Int32, explainer: Explainer) {
        self.child = child
        self.console = console
        self.signals = signals
        self.statusChannel = statusChannel
        self.explainer = explainer
    }

    func run() throws(SwrunError) -> ProcessStatus {
        var relayInput = console >= 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        reap()
        // Until the child is reaped, its status read (init sends it before it exits, so a
        // command that ends at once may be reaped before the message is read), and the console drained.
        while childStatus == nil || (statusChannel >= 0 && reportedStatus == nil) || console >= 0 {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if statusChannel >= 0 { fds.append(pollfd(fd: statusChannel, events: Int16(POLLIN), revents: 0)) }
            if console >= 0 {
                fds.append(pollfd(fd: console, events: Int16(POLLIN), revents: 0))
                if relayInput { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                throw SwrunError.system("poll failed", Errno.current)
            }
            for entry in fds where entry.revents != 0 {
                switch entry.fd {
                case signals:
                    handleSignals()
                case statusChannel:
                    if let (message, _) = SyncMessage.receive(on: statusChannel), message.kind == SyncMessage.Kind.exited.rawValue {
                        reportedStatus = ProcessStatus(waitStatus: message.a)
                    } else {
                        statusChannel = -1
                    }
                case console:
                    if !Relay.copy(from: console, to: 1, buffer: &buffer) {
                        close(console)
                        console = -1
                    }
                default:
                    if !Relay.copy(from: 0, to: console, buffer: &buffer) { relayInput = false }
                }
            }
        }
        guard let status = reportedStatus ?? childStatus else {
            throw SwrunError(.system, "process \(child) ended without a status")
        }
        return status
    }

    private func reap() {
        var status: Int32 = 0
        if childStatus == nil, waitpid(child, &status, WNOHANG) == child { childStatus = ProcessStatus(waitStatus: status) }
    }

    private func handleSignals() {
        while let signal = SignalFD.next(from: signals) {
            switch signal {
            case SIGCHLD:
                reap()
            case SIGWINCH:
                if console >= 0, let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: console) }
            default:
                explainer.say("kill(\(child), \(Signals.name(signal)))", "forward the signal to the container's process")
                kill(child, signal)
            }
        }
    }
}
