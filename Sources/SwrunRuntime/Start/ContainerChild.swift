import CLinux
import Glibc

/// What init and the payload do to the programs they start in the container. Raw system
/// calls only: they run in forked children of swrun.
enum ContainerChild {
    /// A hook (lxc.hook.mount, lxc.hook.start): forked, reset, exec'd as `/bin/sh -c ...`, and
    /// waited for. 0 when it exits 0; ENOENT when there is no /bin/sh to run it; ECANCELED
    /// when it fails.
    /// With `input`, the hook reads it on stdin (an OCI hook, the container's state).
    static func runHook(path: UnsafeMutablePointer<CChar>, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                        environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, input: UnsafeRawBufferPointer? = nil,
                        timeout: Int32 = 0) -> Int32 {
        var stdin: (Int32, Int32) = (-1, -1)
        if input != nil, withUnsafeMutableBytes(of: &stdin, { swrun_pipe_cloexec($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }) != 0 {
            return errno
        }
        let pid = swrun_raw_fork()
        if pid < 0 { return errno }
        if pid == 0 {
            if stdin.0 >= 0 && dup2(stdin.0, 0) < 0 { _exit(126) }
            // Nothing of init's but stdio: not its sync socket, nor a fd swrun was handed.
            _ = swrun_close_range(3, UInt32.max, 0)
            _ = resetInheritedState()
            execve(path, argv, environment)
            _exit(127)
        }
        if let input, stdin.1 >= 0 {
            close(stdin.0)
            var offset = 0
            while offset < input.count {
                let count = write(stdin.1, input.baseAddress! + offset, input.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }  // a hook that reads nothing is no failure
                offset += count
            }
            close(stdin.1)
        }
        var status: Int32 = 0
        if timeout > 0 {
            // An OCI hook's timeout: polled, as nothing here may set up a timer or a thread.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let deadline = (now.tv_sec + Int(timeout)) * 1_000_000_000 + now.tv_nsec
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            while true {
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid { break }
                if reaped < 0 && errno != EINTR { return errno }
                clock_gettime(CLOCK_MONOTONIC, &now)
                if now.tv_sec * 1_000_000_000 + now.tv_nsec >= deadline {
                    kill(pid, SIGKILL)
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    return ETIMEDOUT
                }
                nanosleep(&pause, nil)
            }
        } else {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return errno }
            }
        }
        if swrun_wifexited(status) != 0 && swrun_wexitstatus(status) == 0 { return 0 }
        return swrun_wifexited(status) != 0 && swrun_wexitstatus(status) == 127 ? ENOENT : ECANCELED
    }

    /// dup2 each fd of `fds` that is >= 0 onto 0, 1, 2 in turn: the container's processes get
    /// swrun's pipes where swrun has a terminal, and never the terminal itself.
    static func replaceStandardFDs(_ fds: UnsafeBufferPointer<Int32>) -> Int32 {
        var target: Int32 = 0
        while target < 3 {
            let fd = fds[Int(target)]
            if fd >= 0 && dup2(fd, target) < 0 { return errno }
            target += 1
        }
        return 0
    }

    /// What swrun's process state must not pass on to a program it runs in the container:
    /// every signal back to its default and unblocked (swrun ignores SIGPIPE, and init blocks
    /// the signals it reads from a signalfd), and umask 022 (init builds /dev with umask 0).
    static func resetInheritedState() -> Int32 {
        umask(0o022)
        var signal: Int32 = 1
        while signal < 65 {
            if signal != SIGKILL && signal != SIGSTOP { Glibc.signal(signal, SIG_DFL) }
            signal += 1
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        return sigprocmask(SIG_SETMASK, &empty, nil) == 0 ? 0 : errno
    }
}
