import Glibc
import SwrunSystem

/// `swrun console` (lxc-console): attach this terminal to a pty of a started container
/// through its monitor. Ctrl-a q detaches; Ctrl-a Ctrl-a sends a Ctrl-a.
public struct ConsoleClient {
    public let store: ContainerStore
    public let name: String
    /// 0: the console; N: /dev/ttyN (lxc.tty.max).
    public var terminal = 0
    public static let escape: UInt8 = 0x01  // Ctrl-a

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    /// Connects and relays until the user detaches or the container stops.
    public func run(tell: (String) -> Void) throws(SwrunError) {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state != .stopped, status.record?.mode == .boot else {
            throw SwrunError(.notFound, "container '\(name)' is not running as a system container",
                             hint: "start it with `swrun start -n \(name) -P \(store.lxcPath)`")
        }
        let request = try CommandSocket.connect(to: store.socketPath(of: name))
        defer { close(request) }
        guard CommandSocket.send("console \(terminal)" + windowSize, on: request), let (reply, fd) = CommandSocket.receive(on: request) else {
            throw SwrunError(.system, "the monitor of container '\(name)' did not answer")
        }
        guard reply == "ok", fd >= 0 else {
            if fd >= 0 { close(fd) }
            throw SwrunError(.notFound, reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : reply,
                             hint: "the console is tty 0; ttys 1 to lxc.tty.max exist")
        }
        defer { close(fd) }
        tell("Connected to \(terminal == 0 ? "the console" : "tty \(terminal)") of \(name). Type Ctrl+a q to detach, Ctrl+a Ctrl+a for a Ctrl+a.\r")
        let rawMode = Terminal.isTerminal(0) ? try RawTerminalMode.enter(fd: 0) : nil
        defer { withExtendedLifetime(rawMode) {} }
        let resizes = try SignalFD([SIGWINCH])
        relay(fd, resizes: resizes.fd)
        tell("\r\nDetached from \(name).")
    }

    /// " ROWS COLUMNS" of this terminal, or nothing when stdin is not one.
    private var windowSize: String {
        Terminal.windowSize(of: 0).map { " \($0.ws_row) \($0.ws_col)" } ?? ""
    }

    /// Tells the monitor this terminal's new size (a connection of its own).
    private func sendResize() {
        guard !windowSize.isEmpty, let fd = try? CommandSocket.connect(to: store.socketPath(of: name)) else { return }
        defer { close(fd) }
        if CommandSocket.send("resize \(terminal)" + windowSize, on: fd) { _ = CommandSocket.receive(on: fd) }
    }

    private func relay(_ socket: Int32, resizes: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var input = [UInt8](repeating: 0, count: 4096)
        var escaped = false
        var readingInput = true
        while true {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: resizes, events: Int16(POLLIN), revents: 0)]
            if readingInput { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 && !Relay.copy(from: socket, to: 1, buffer: &buffer) { return }
            if fds[1].revents != 0 {
                while SignalFD.next(from: resizes) != nil {}
                sendResize()
            }
            guard readingInput, fds.count > 2, fds[2].revents != 0 else { continue }
            let count = input.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count <= 0 {
                readingInput = false
                continue
            }
            var out: [UInt8] = []
            for byte in input[0..<count] {
                if escaped {
                    escaped = false
                    if byte == UInt8(ascii: "q") { return }
                    out.append(byte)  // Ctrl-a Ctrl-a (or any other key) goes through
                } else if byte == Self.escape {
                    escaped = true
                } else {
                    out.append(byte)
                }
            }
            Relay.writeAll(socket, out[...])
        }
    }
}
