import CLinux
import Foundation
import Glibc
import Testing

/// The caller's terminal never reaches a container's processes: with a terminal on any of
/// swrun's standard fds the command gets a pty of its own (or, with -T, pipes), in a session
/// of its own, so nothing it does can type into the caller's shell (TIOCSTI).
@Suite struct TerminalTests {
    /// Runs `swrun ARGS -- /tiocsti` as the session leader of `terminal` (its controlling
    /// terminal, as for an interactive shell), with stdin on it and stdout a file.
    func typeInto(_ terminal: TestTerminal, _ arguments: [String]) throws -> Swrun.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["--ctty", "--wait", Swrun.binary] + arguments + ["--", "/tiocsti"]
        return try Swrun.runProcess(process, stdin: FileHandle(fileDescriptor: terminal.peer, closeOnDealloc: false))
    }

    func containerWithTypist(_ sandbox: Sandbox, _ name: String) throws {
        try sandbox.create(name)
        try AttackPrograms.build("tiocsti", to: "\(sandbox.path)/\(name)/rootfs/tiocsti", static: true)
    }

    @Test(arguments: [[], ["-T"]])
    func executeNeverHandsTheCallersTerminalToTheCommand(options: [String]) throws {
        let sandbox = try Sandbox(), name = sandbox.name("tiocsti")
        try containerWithTypist(sandbox, name)
        let terminal = try TestTerminal()
        let result = try typeInto(terminal, ["execute", "-n", name, "-P", sandbox.path] + options)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(terminal.pendingInput() == "", "the container typed into the caller's terminal: \(result.stdout)")
    }

    @Test(arguments: [[], ["-T"]])
    func attachNeverHandsTheCallersTerminalToTheCommand(options: [String]) throws {
        let sandbox = try Sandbox(), name = sandbox.name("tiocsti")
        try containerWithTypist(sandbox, name)
        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        defer { _ = try? Swrun.run(["destroy", "-f", "-n", name, "-P", sandbox.path]) }
        let terminal = try TestTerminal()
        let result = try typeInto(terminal, ["attach", "-n", name, "-P", sandbox.path] + options)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(terminal.pendingInput() == "", "the container typed into the caller's terminal: \(result.stdout)")
    }

    /// With -T and a terminal on stdin, the command reads what swrun reads, through a pipe.
    @Test func noTTYStillPassesTheCallersInputThrough() throws {
        let sandbox = try Sandbox(), name = sandbox.name("notty")
        try sandbox.create(name)
        let terminal = try TestTerminal()
        let typed = "hello from the terminal\n"
        _ = typed.withCString { write(terminal.master, $0, strlen($0)) }
        let process = Swrun.process(["execute", "-n", name, "-P", sandbox.path, "-T", "--", "sh", "-c", "read line; echo got: $line; test -t 0 || echo not a terminal"])
        let result = try Swrun.runProcess(process, stdin: FileHandle(fileDescriptor: terminal.peer, closeOnDealloc: false))
        #expect(result.stdout == "got: hello from the terminal\nnot a terminal\n", "\(result.stdout) \(result.stderr)")
    }
}

/// A pty pair made by a test, to stand for the terminal of the user who runs swrun.
final class TestTerminal {
    let master: Int32
    /// The end a process gets as its stdin.
    let peer: Int32
    /// Another open of the same end, non-blocking, to see what input waits there.
    private let watcher: Int32

    init() throws {
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        peer = swrun_open_pty_peer(master)
        watcher = swrun_open_pty_peer(master)
        try #require(master >= 0 && peer >= 0 && watcher >= 0 && fcntl(watcher, F_SETFL, O_NONBLOCK) == 0)
    }

    deinit {
        close(watcher)
        close(peer)
        close(master)
    }

    /// What waits to be read as typed input (a shell reading this terminal would run it).
    func pendingInput() -> String {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(watcher, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : ""
    }
}
