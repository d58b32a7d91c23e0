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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        // dup2 onto 1 clears close-on-exec there; both pipe ends close in the child at exec.
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)

        // Signals the caller may block or ignore must not leak into the program.
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
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgv = argv.map { strdup($0) }
        defer { for pointer in cArgv { free(pointer) } }
        var argvArray: [UnsafeMutablePointer<CChar>?] = cArgv + [nil]

        var pid: pid_t = 0
        let result = argvArray.withUnsafeMutableBufferPointer { buffer in
            program.contains("/")
                ? posix_spawn(&pid, program, &actions, &attributes, buffer.baseAddress!, environ)
                : posix_spawnp(&pid, program, &actions, &attributes, buffer.baseAddress!, environ)
        }
        close(writeEnd)
        if result != 0 {
            let errno = Errno(rawValue: result)
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
    /// and stdout on /dev/null, stderr appended to `logPath`, and `passing` (if any) as its fd 3.
    /// Returns its pid; the caller does not wait for it (it is reparented when the caller exits).
    public static func spawnDaemon(_ argv: [String], executable: String? = nil, passing fd: Int32? = nil,
                                   logPath: String) throws(SwrunError) -> pid_t {
        let executable = executable ?? argv[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if let fd { posix_spawn_file_actions_adddup2(&actions, fd, 3) }  // clears close-on-exec on fd 3 only
        // The daemon outlives its caller: it must not hold the caller's fds (a pipe its
        // caller's caller waits on, a lock) open for as long as it runs.
        swrun_spawn_close_from(&actions, fd == nil ? 3 : 4)
        swrun_spawn_chdir(&actions, "/")  // nor pin the caller's working directory

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK) | swrun_POSIX_SPAWN_SETSID)

        let cArgv = argv.map { strdup($0) }
        defer { for pointer in cArgv { free(pointer) } }
        var argvArray: [UnsafeMutablePointer<CChar>?] = cArgv + [nil]
        var pid: pid_t = 0
        let result = argvArray.withUnsafeMutableBufferPointer { buffer in
            posix_spawn(&pid, executable, &actions, &attributes, buffer.baseAddress!, environ)
        }
        if result != 0 { throw SwrunError.system("cannot start \(executable)", Errno(rawValue: result)) }
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
