import CLinux
import Glibc
import SystemPackage

/// Runs a short helper program on the host and collects what it prints.
/// For the parent process only (it allocates); not for a forked child.
public enum Subprocess {
    /// Runs `argv` (argv[0] is a path, or a name looked up in PATH) with stdin
    /// from /dev/null, stdout captured and stderr inherited, and waits for it.
    /// Returns the shell's exit status (128+N when killed by signal N) and stdout.
    /// Throws when the program cannot be started at all. `quiet` sends its stderr to /dev/null.
    public static func run(_ argv: [String], quiet: Bool = false) throws(SwrunError) -> (status: Int32, output: [UInt8]) {
        guard let program = argv.first, !program.isEmpty else {
            throw SwrunError(.invalidArgument, "cannot run a command with no program name")
        }
        let (readEnd, writeEnd) = try FileSystem.makePipe()
        var readEndOpen = true
        defer { if readEndOpen { close(readEnd) } }
        let pid: pid_t
        do {
            pid = try spawn(argv, stdout: .fd(writeEnd), stderr: quiet ? .null : .inherit)
        } catch let errno {
            close(writeEnd)
            switch errno {
            case .noSuchFileOrDirectory:
                throw SwrunError(.commandNotFound, "cannot run \(program): not found", errno: errno,
                                 hint: "check that \(program) is installed")
            case .permissionDenied, .execFormatError:
                throw SwrunError(.commandNotExecutable, "cannot run \(program): not executable here", errno: errno)
            default:
                throw SwrunError.system("cannot run \(program)", errno)
            }
        }
        close(writeEnd)

        let captured = Result { () throws(SwrunError) in try FileSystem.readAll(readEnd, chunkSize: 16384) }
        close(readEnd)
        readEndOpen = false

        let status = try waitForProcess(pid)
        guard case .success(let output) = captured else {
            throw SwrunError(.system, "cannot read the output of \(program)")
        }
        return (status.shellExitCode, output)
    }

    /// Starts `executable` (default: argv[0], a path) as a daemon in a session of its own: stdin
    /// and stdout on /dev/null, stderr appended to `logPath`, and `passing` (if any) as its fd 3,
    /// with / as its working directory (it must not pin the caller's). Returns its pid; the
    /// caller does not wait for it (it is reparented when the caller exits).
    public static func spawnDaemon(_ argv: [String], executable: String? = nil, executableFD: Int32? = nil, passing fd: Int32? = nil,
                                   logPath: String) throws(SwrunError) -> pid_t {
        let executable = executable ?? argv[0]
        do {
            return try spawn(argv, executable: executable, executableFD: executableFD, stdout: .null, stderr: .append(logPath),
                             passing: fd, daemon: true)
        } catch let errno {
            throw SwrunError.system("cannot start \(executable)", errno)
        }
    }

    /// Where a spawned program's standard stream comes from.
    public enum Stream: Sendable {
        /// The caller's own.
        case inherit
        /// /dev/null.
        case null
        /// An fd of the caller's.
        case fd(Int32)
        /// A file, created if need be and appended to (output streams only).
        case append(String)
    }

    /// posix_spawn of `executable` (default argv[0]; looked up in PATH when it has no slash)
    /// with `environment` ("NAME=value"; default: the caller's). The program gets the given streams (stdin: /dev/null
    /// unless given), `passing` as its fd 3 and no other fd of the caller's, every signal
    /// unblocked and those that end a program at their defaults, whatever the caller ignores
    /// or blocks. A `daemon` gets a session of its own and / as its working directory.
    /// `executableFD`, where given, is the program instead: a file open close-on-exec (a
    /// protected view of swrun's binary, which no path names), exec'd as /proc/self/fd/N.
    /// Throws the errno of a program that could not be started.
    public static func spawn(_ argv: [String], executable: String? = nil, executableFD: Int32? = nil, stdin: Stream = .null,
                             stdout: Stream = .inherit, stderr: Stream = .inherit, passing: Int32? = nil, daemon: Bool = false,
                             environment: [String]? = nil) throws(Errno) -> pid_t {
        let firstClosed: Int32 = passing == nil ? 3 : 4
        // Above the fds the child's stdio and fd 3 take, so that no dup2 replaces it.
        let view = executableFD.map { $0 >= firstClosed ? $0 : fcntl($0, F_DUPFD_CLOEXEC, firstClosed) }
        if view == -1 { throw Errno.current }
        defer { if let view, view != executableFD { close(view) } }
        let program = view.map { "/proc/self/fd/\($0)" } ?? executable ?? argv.first ?? ""
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the target only; every other fd of ours closes at exec
        // anyway, and close_from makes sure of it.
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .fd(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .append(let path): posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            }
        }
        if let passing { posix_spawn_file_actions_adddup2(&actions, passing, 3) }
        if let view {
            // The view stays open until the exec resolves its path; close-on-exec ends it there.
            for fd in firstClosed..<view where fcntl(fd, F_GETFD) >= 0 { posix_spawn_file_actions_addclose(&actions, fd) }
            swrun_spawn_close_from(&actions, view + 1)
        } else {
            swrun_spawn_close_from(&actions, firstClosed)
        }
        if daemon { swrun_spawn_chdir(&actions, "/") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var defaultSet = sigset_t()
        sigemptyset(&defaultSet)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&defaultSet, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &defaultSet)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | (daemon ? swrun_POSIX_SPAWN_SETSID : 0))

        let cArgv = argv.map { strdup($0) }
        let cEnvironment = environment?.map { strdup($0) }
        defer { for pointer in cArgv + (cEnvironment ?? []) { free(pointer) } }
        var argvArray: [UnsafeMutablePointer<CChar>?] = cArgv + [nil]
        var environmentArray: [UnsafeMutablePointer<CChar>?] = (cEnvironment ?? []) + [nil]
        var pid: pid_t = 0
        let result = argvArray.withUnsafeMutableBufferPointer { buffer in
            environmentArray.withUnsafeMutableBufferPointer { given in
                guard let base = buffer.baseAddress, let variables = cEnvironment == nil ? environ : given.baseAddress else { return EINVAL }
                return program.contains("/") ? posix_spawn(&pid, program, &actions, &attributes, base, variables)
                                             : posix_spawnp(&pid, program, &actions, &attributes, base, variables)
            }
        }
        if result != 0 { throw Errno(rawValue: result) }
        return pid
    }

    /// Names this process in ps and top (its comm, 15 bytes at most): one started through
    /// /proc/self/exe would be "exe".
    public static func setProcessName(_ name: String) {
        _ = name.withCString { swrun_prctl(PR_SET_NAME, UInt(bitPattern: $0), 0, 0, 0) }
    }

    /// swrun itself, to run again: the running executable's own file, whatever path started
    /// it (once sealed, its read-only view, which no path on the host names).
    public static let currentExecutable = "/proc/self/exe"
}
