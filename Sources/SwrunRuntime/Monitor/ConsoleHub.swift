import CLinux
import Glibc
import SwrunSystem

/// The monitor's side of a booted container's ptys: it reads every pty master (so the
/// container never blocks on a full console), logs the console, and relays each pty to
/// whoever is attached to it (`swrun console`, or the user's terminal for `start -F`).
final class ConsoleHub {
    /// One attached reader and writer of a pty.
    struct Client {
        var terminal: Int
        var input: Int32
        var output: Int32
        /// Whether swrun opened these fds (and closes them when the client goes).
        var owned: Bool
    }

    private var masters: [Int32]
    /// The container's ends, held open so that a pty nobody has opened yet (a tty before
    /// its getty) does not hang up and spin in poll.
    private var peers: [Int32] = []
    private(set) var clients: [Client] = []
    private let logFD: Int32
    /// LOG.times: "OFFSET SECONDS.NANOSECONDS" for each chunk of the log, so that `swrun logs
    /// --timestamps` can tell when each line came (the log itself stays LXC's plain bytes).
    private let timesFD: Int32
    private var buffer = [UInt8](repeating: 0, count: 16384)
    /// The console's last output, for the error of an init that dies while it starts.
    private var recent: [UInt8] = []
    private static let recentLimit = 8192

    init(masters: [Int32], logPath: String?) throws(SwrunError) {
        self.masters = masters
        // Never block on a pty: input for a tty nobody reads is dropped, not waited for.
        for master in masters where master >= 0 { _ = fcntl(master, F_SETFL, O_NONBLOCK) }
        for master in masters {
            peers.append(master >= 0 ? swrun_ioctl_int(master, swrun_TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1)
        }
        if let logPath {
            logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if logFD < 0 { throw SwrunError.system("cannot open the console log \(logPath)", Errno.current, hint: "check lxc.console.logfile") }
            timesFD = open(ConsoleLogTimes.path(ofLog: logPath), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        } else {
            logFD = -1
            timesFD = -1
        }
    }

    deinit {
        for client in clients where client.owned { close(client.input) }
        for fd in peers where fd >= 0 { close(fd) }
        if logFD >= 0 { close(logFD) }
        if timesFD >= 0 { close(timesFD) }
    }

    var terminalCount: Int { masters.count }

    /// The last `count` lines the console showed, escape sequences and carriage returns taken out.
    func recentConsoleLines(_ count: Int) -> [String] {
        let text = String(decoding: recent.filter { $0 != 0x0D }, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { Self.plain(String($0)) }.filter { !$0.isEmpty }
        return Array(lines.suffix(count))
    }

    /// A console line without its ANSI escape sequences (colours, cursor moves).
    static func plain(_ line: String) -> String {
        var result = ""
        var escaping = false
        for scalar in line.unicodeScalars {
            if escaping {
                if (0x40...0x7E).contains(scalar.value) && scalar != "[" { escaping = false }
            } else if scalar == "\u{1B}" {
                escaping = true
            } else if scalar.value >= 0x20 || scalar == "\t" {
                result.unicodeScalars.append(scalar)
            }
        }
        return result.trimmingCharacters(in: " \t")
    }

    func attach(_ client: Client) {
        clients.append(client)
        if client.terminal < masters.count, let size = Terminal.windowSize(of: client.input) {
            Terminal.setWindowSize(size, on: masters[client.terminal])
        }
    }

    /// The fds to poll: every master, every client's input (until it ends).
    var pollSet: [pollfd] {
        masters.filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            + clients.filter { $0.input >= 0 }.map { pollfd(fd: $0.input, events: Int16(POLLIN), revents: 0) }
    }

    /// Handles a readable fd of the poll set; false when the fd is not the hub's.
    func handle(_ fd: Int32) -> Bool {
        if let terminal = masters.firstIndex(of: fd) {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return true }
            let bytes = buffer[0..<count]
            if terminal == 0 {
                if logFD >= 0 {
                    if timesFD >= 0 { Relay.writeAll(timesFD, ConsoleLogTimes.entry(offset: lseek(logFD, 0, SEEK_END))[...]) }
                    Relay.writeAll(logFD, bytes)
                }
                recent += bytes
                if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
            }
            for client in clients where client.terminal == terminal { Relay.writeAll(client.output, bytes) }
            return true
        }
        if let index = clients.firstIndex(where: { $0.input == fd }) {
            let client = clients[index]
            if !Relay.copy(from: fd, to: masters[client.terminal], buffer: &buffer) {
                if client.owned {
                    // A `swrun console` client's socket: it has gone.
                    close(client.input)
                    clients.remove(at: index)
                } else {
                    // `start -F` with stdin at its end (a pipe, /dev/null): the console still shows.
                    clients[index].input = -1
                }
            }
            return true
        }
        return false
    }

    func resize(from fd: Int32, terminal: Int) {
        if terminal < masters.count, let size = Terminal.windowSize(of: fd) { Terminal.setWindowSize(size, on: masters[terminal]) }
    }

    /// Sets pty `terminal`'s window size (a `swrun console` client's terminal, told over the socket).
    func resize(terminal: Int, rows: UInt16, columns: UInt16) {
        guard terminal < masters.count else { return }
        Terminal.setWindowSize(winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0), on: masters[terminal])
    }
}
