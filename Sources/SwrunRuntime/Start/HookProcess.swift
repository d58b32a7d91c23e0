import CLinux
import Glibc

/// A hook that init or the payload runs inside the container's namespaces (lxc.hook.mount,
/// lxc.hook.start): forked, reset, exec'd as `/bin/sh -c ...`, and waited for. Raw system
/// calls only: it runs in a forked child of swrun.
enum HookProcess {
    /// 0 when the hook exits 0; ENOENT when there is no /bin/sh to run it; ECANCELED when it fails.
    static func run(argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
        let pid = swrun_raw_fork()
        if pid < 0 { return errno }
        if pid == 0 {
            // Nothing of init's but stdio: not its sync socket, nor a fd swrun was handed.
            _ = swrun_close_range(3, UInt32.max, 0)
            var signal: Int32 = 1
            while signal < 65 {
                if signal != SIGKILL && signal != SIGSTOP { Glibc.signal(signal, SIG_DFL) }
                signal += 1
            }
            var none = sigset_t()
            sigemptyset(&none)
            sigprocmask(SIG_SETMASK, &none, nil)
            umask(0o022)
            execve("/bin/sh", argv, environment)
            _exit(127)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return errno }
        }
        if swrun_wifexited(status) != 0 && swrun_wexitstatus(status) == 0 { return 0 }
        return swrun_wifexited(status) != 0 && swrun_wexitstatus(status) == 127 ? ENOENT : ECANCELED
    }
}
