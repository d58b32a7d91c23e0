import Glibc
import SwrunSystem

/// A command in the foreground (execute, attach): swrun forwards the signals it gets to
/// the child, relays the console pty (or the pipes that stand in for its terminal) to its
/// own stdin and stdout, and waits until the child has exited and its output is drained.
final class ForegroundRelay {
    let child: pid_t
    private var console: Int32
    private let pipes: StdioPipes?
    private let signals: Int32
    /// Where the child reports the command's status (init's sync socket), or -1.
    private var statusChannel: Int32
    private let explainer: Explainer
    private(set) var childStatus: ProcessStatus?
    private var reportedStatus: ProcessStatus?

    /// Takes over `console` (closes it when drained) and the pipes; `signals` is a signalfd
    /// that includes SIGCHLD.
    init(child: pid_t, console: Int32, pipes: StdioPipes? = nil, signals: Int32, statusChannel: Int32, explainer: Explainer) {
        self.child = child
        self.console = console
        self.pipes = pipes
        self.signals = signals
        self.statusChannel = statusChannel
        self.explainer = explainer
    }

    /// Where swrun's stdin goes: the pty, else the stdin pipe; -1 when nowhere.
    private var inputTarget: Int32 { console >= 0 ? console : pipes?.input ?? -1 }

    func run() throws(SwrunError) -> ProcessStatus {
        var relayInput = inputTarget >= 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        reap()
        // Until the child is reaped, its status read (init sends it before it exits, so a
        // command that ends at once may be reaped before the message is read), and the
        // console and output pipes drained.
        while childStatus == nil || (statusChannel >= 0 && reportedStatus == nil) || console >= 0 || !(pipes?.outputs.isEmpty ?? true) {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if statusChannel >= 0 { fds.append(pollfd(fd: statusChannel, events: Int16(POLLIN), revents: 0)) }
            if console >= 0 { fds.append(pollfd(fd: console, events: Int16(POLLIN), revents: 0)) }
            for output in pipes?.outputs ?? [] { fds.append(pollfd(fd: output.source, events: Int16(POLLIN), revents: 0)) }
            if relayInput && inputTarget >= 0 { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
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
                case 0:
                    if !Relay.copy(from: 0, to: inputTarget, buffer: &buffer) {
                        relayInput = false
                        pipes?.closeInput()  // the command's stdin ends with swrun's
                    }
                default:
                    guard let output = pipes?.outputs.first(where: { $0.source == entry.fd }) else { continue }
                    if !Relay.copy(from: output.source, to: output.destination, buffer: &buffer) { pipes?.closeOutput(output.source) }
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
