import CLinux
import Glibc

extension ContainerLauncher {
    /// Clones init inside the user namespace `user` (an OCI bundle's user namespace path), as
    /// runc's intermediate process does: a helper forks, joins it (a process with threads
    /// cannot, swrun may have them), and clone3s init with CLONE_PARENT, so that init's new
    /// namespaces are the joined namespace's and init is still swrun's child. The helper
    /// reports init's pid on a pipe and exits. Raw calls only in the helper. Init's pid, or -1
    /// with errno set.
    static func cloneInUserNamespace(_ user: Int32, _ plan: StartPlan, flags: UInt64, cloneInto: Int32,
                                     parentEnd: Int32, childEnd: Int32) -> pid_t {
        var report: [Int32] = [-1, -1]
        guard swrun_pipe_cloexec(&report) == 0 else { return -1 }
        let helper = fork()
        if helper == 0 {
            Glibc.close(report[0])
            var answer: Int32
            if swrun_setns(user, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWUSER)) != 0 {
                answer = -errno
            } else {
                // clone3 takes no exit signal with CLONE_PARENT: init's is the helper's, SIGCHLD.
                let pid = swrun_clone3(flags | SWRUN_CLONE_PARENT, 0, cloneInto)
                if pid == 0 {
                    Glibc.close(report[1])
                    Glibc.close(parentEnd)
                    ContainerInit.run(plan, sync: childEnd)
                }
                answer = pid > 0 ? pid : -errno
            }
            _ = withUnsafeBytes(of: &answer) { Glibc.write(report[1], $0.baseAddress, 4) }
            _exit(0)
        }
        let forkError = errno
        Glibc.close(report[1])
        defer { Glibc.close(report[0]) }
        guard helper > 0 else {
            errno = forkError
            return -1
        }
        var answer: Int32 = -EPIPE
        let count = withUnsafeMutableBytes(of: &answer) { Glibc.read(report[0], $0.baseAddress, 4) }
        var status: Int32 = 0
        _ = waitpid(helper, &status, 0)
        if count != 4 { answer = -EPIPE }
        guard answer > 0 else {
            errno = -answer
            return -1
        }
        return answer
    }
}
