import CLinux
import Glibc

/// Performs the payload's steps in the process that becomes the command.
/// Raw system calls only; each action returns 0 or an errno.
struct PayloadExecutor {
    let consoleTerminal: Int32
    let lastCapability: Int32
    /// Where the process reports the pid of the child it forks (attach), or -1.
    var statusChannel: Int32 = -1
    /// The state the OCI hooks read on stdin.
    var hookState: HookStateInput?

    func perform(_ action: PayloadAction) -> Int32 {
        switch action {
        case .replaceStandardFDs(let fds):
            return ContainerChild.replaceStandardFDs(fds)
        case let .enterNamespaces(pidfd, flags):
            _ = swrun_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            return swrun_setns(pidfd, flags) == 0 ? 0 : errno
        case .spawnInPidNamespace:
            let child = swrun_raw_fork_sibling()
            if child < 0 { return errno }
            if child > 0 {
                SyncMessage(.running, child).send(on: statusChannel)
                _exit(0)
            }
            return 0
        case .newSession:
            return setsid() < 0 ? errno : 0
        case .joinCgroups(let fds):
            var zero: UInt8 = 0x30  // "0": the writing process
            for fd in fds.bindMemory(to: Int32.self) where write(fd, &zero, 1) != 1 { return errno }
            return 0
        case .resetInheritedState:
            return ContainerChild.resetInheritedState()
        case .attachConsole(let controlling):
            if controlling {
                // A process attached to a booted container may lead its session already (EPERM).
                if setsid() < 0 && errno != EPERM { return errno }
                if swrun_ioctl_int(consoleTerminal, swrun_TIOCSCTTY, 0) != 0 { return errno }
            }
            for target: Int32 in 0...2 where dup2(consoleTerminal, target) < 0 { return errno }
            if consoleTerminal > 2 { close(consoleTerminal) }
            return 0
        case .dropBoundingSet(let mask):
            var capability: Int32 = 0
            while capability <= lastCapability {
                if mask & (UInt64(1) << UInt64(capability)) != 0,
                   swrun_prctl(PR_CAPBSET_DROP, UInt(capability), 0, 0, 0) != 0 { return errno }
                capability += 1
            }
            return 0
        case .clearGroups:
            return setgroups(0, nil) == 0 ? 0 : errno
        case .setGroups(let groups):
            return setgroups(groups.count, groups.baseAddress) == 0 ? 0 : errno
        case .keepCapabilities:
            return swrun_prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0 ? 0 : errno
        case .setCapabilities(let sets):
            if swrun_capset(sets.effective, sets.permitted, sets.inheritable) != 0 { return errno }
            if swrun_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0) != 0 { return errno }
            // The kernel raises an ambient capability only if it is permitted and inheritable; runc
            // skips the others, and so do we.
            let ambient = sets.ambient & sets.permitted & sets.inheritable
            var capability: Int32 = 0
            while capability <= lastCapability {
                if ambient & (UInt64(1) << UInt64(capability)) != 0,
                   swrun_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt(capability), 0, 0) != 0 { return errno }
                capability += 1
            }
            return 0
        case .setIOPriority(let value):
            return swrun_ioprio_set_self(value) == 0 ? 0 : errno
        case .setScheduler(let settings):
            return swrun_sched_setattr_self(settings.policy.rawValue, settings.flags, settings.nice, settings.priority,
                                            settings.runtime, settings.deadline, settings.period) == 0 ? 0 : errno
        case .setCPUAffinity(let mask):
            return swrun_sched_setaffinity_self(mask.baseAddress, mask.count) == 0 ? 0 : errno
        case let .setResourceLimit(resource, soft, hard):
            var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
            return setrlimit(__rlimit_resource_t(UInt32(bitPattern: resource)), &limit) == 0 ? 0 : errno
        case let .changeProfileOnExec(path, fallback, request):
            var fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 && errno == ENOENT { fd = open(fallback, O_WRONLY | O_CLOEXEC) }
            if fd < 0 { return errno }
            let written = write(fd, request.baseAddress, request.count)
            let error = written == request.count ? 0 : (written < 0 ? errno : EIO)
            close(fd)
            return error
        case .setUmask(let mode):
            umask(mode)
            return 0
        case .setGID(let gid):
            return swrun_setresgid(gid) == 0 ? 0 : errno
        case .setUID(let uid):
            return swrun_setresuid(uid) == 0 ? 0 : errno
        case .limitCapabilities(let keep):
            if swrun_capset(keep, keep, 0) != 0 { return errno }
            return swrun_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0) == 0 ? 0 : errno
        case .setNoNewPrivileges:
            return swrun_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno
        case let .loadSeccomp(program, count):
            return swrun_load_seccomp_filter(program.baseAddress, count) == 0 ? 0 : errno
        case .changeDirectory(let path):
            return chdir(path) == 0 ? 0 : errno
        case let .runHook(path, argv, environment, readsState, timeout):
            return ContainerChild.runHook(path: path, argv: argv, environment: environment, input: readsState ? hookState?.bytes() : nil,
                                          timeout: timeout)
        case .closeInheritedDescriptors(let first):
            return swrun_close_range(first, UInt32.max, SWRUN_CLOSE_RANGE_CLOEXEC) == 0 ? 0 : errno
        case .setPersonality(let persona):
            return swrun_personality(persona) < 0 ? errno : 0
        case let .exec(candidates, argv, envp):
            return exec(candidates, argv, envp)
        }
    }

    /// Tries each candidate as execvp does: a missing file moves on, a permission
    /// error is remembered (it wins over "not found"), anything else stops.
    private func exec(_ candidates: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
        var result = ENOENT
        var index = 0
        while let candidate = candidates[index] {
            execve(candidate, argv, envp)
            switch errno {
            case ENOENT, ENOTDIR: break
            case EACCES: result = EACCES
            default: return errno
            }
            index += 1
        }
        return result
    }
}
