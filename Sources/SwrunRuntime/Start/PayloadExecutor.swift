import CLinux
import Glibc

/// Performs the payload's steps in the process that becomes the command. Raw system calls
/// only, through `calls` (LinuxCalls in the child, a recording double in tests): no
/// allocation, no Swift errors. Each action returns 0 or an errno.
struct PayloadExecutor<Calls: ContainerCalls> {
    let calls: Calls
    let consoleTerminal: Int32
    let lastCapability: Int32
    /// Where the process reports the pid of the child it forks (attach), or -1.
    var statusChannel: Int32 = -1
    /// The state the OCI hooks read on stdin.
    var hookState: HookStateInput?
    /// Where a seccomp notify fd goes (the sync socket to the runtime), or -1.
    var syncChannel: Int32 = -1

    init(calls: Calls, consoleTerminal: Int32, lastCapability: Int32, statusChannel: Int32 = -1, hookState: HookStateInput? = nil,
         syncChannel: Int32 = -1) {
        self.calls = calls
        self.syncChannel = syncChannel
        self.consoleTerminal = consoleTerminal
        self.lastCapability = lastCapability
        self.statusChannel = statusChannel
        self.hookState = hookState
    }

    func perform(_ action: PayloadAction) -> Int32 {
        switch action {
        case .replaceStandardFDs(let fds):
            return calls.replaceStandardFDs(fds)
        case let .enterNamespaces(pidfd, flags):
            _ = calls.prctl(PR_SET_DUMPABLE, 0, 0)
            return calls.setns(pidfd, flags)
        case .spawnInPidNamespace:
            let child = calls.forkSibling()
            if child < 0 { return -child }
            if child > 0 { calls.handOn(child, on: statusChannel) }
            return 0
        case .newSession:
            return calls.setsid()
        case .joinCgroups(let fds):
            var zero: UInt8 = 0x30  // "0": the writing process
            for fd in fds.bindMemory(to: Int32.self) {
                let error = withUnsafeBytes(of: &zero) { calls.write(fd, $0) }
                if error != 0 { return error }
            }
            return 0
        case .resetInheritedState:
            return calls.resetInheritedState()
        case .attachConsole(let controlling):
            return attachConsole(controlling: controlling)
        case .dropBoundingSet(let mask):
            return forEachCapability(in: mask) { calls.prctl(PR_CAPBSET_DROP, UInt($0), 0) }
        case .clearGroups:
            return calls.setgroups(UnsafeBufferPointer(start: nil, count: 0))
        case .setGroups(let groups):
            return calls.setgroups(groups)
        case .keepCapabilities:
            return calls.prctl(PR_SET_KEEPCAPS, 1, 0)
        case .setCapabilities(let sets):
            var error = calls.capset(effective: sets.effective, permitted: sets.permitted, inheritable: sets.inheritable)
            if error == 0 { error = calls.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0) }
            if error != 0 { return error }
            // The kernel raises an ambient capability only if it is permitted and inheritable; runc
            // skips the others, and so do we.
            let ambient = sets.ambient & sets.permitted & sets.inheritable
            return forEachCapability(in: ambient) { calls.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt($0)) }
        case .setIOPriority(let value):
            return calls.setIOPriority(value)
        case .setScheduler(let settings):
            return calls.setScheduler(settings)
        case .setCPUAffinity(let mask):
            return calls.setCPUAffinity(mask)
        case let .setResourceLimit(resource, soft, hard):
            return calls.setrlimit(resource, soft: soft, hard: hard)
        case let .changeProfileOnExec(path, fallback, request):
            var fd = calls.open(path, O_WRONLY)
            if fd == -ENOENT { fd = calls.open(fallback, O_WRONLY) }
            if fd < 0 { return -fd }
            let error = calls.write(fd, request)
            calls.close(fd)
            return error
        case .setUmask(let mode):
            calls.umask(mode)
            return 0
        case .setGID(let gid):
            return calls.setresgid(gid)
        case .setUID(let uid):
            return calls.setresuid(uid)
        case .limitCapabilities(let keep):
            let error = calls.capset(effective: keep, permitted: keep, inheritable: 0)
            return error != 0 ? error : calls.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0)
        case .setNoNewPrivileges:
            return calls.prctl(PR_SET_NO_NEW_PRIVS, 1, 0)
        case let .loadSeccomp(program, count):
            return calls.loadSeccomp(program, count)
        case let .loadSeccompWithListener(program, count):
            if syncChannel < 0 { return EBADF }  // no runtime to hand the fd to (execute mode's payload)
            let listener = calls.loadSeccompWithListener(program, count)
            if listener < 0 { return -listener }
            let error = calls.sendSync(SyncMessage(.seccompListener), on: syncChannel, passing: listener)
            calls.close(listener)
            return error
        case .changeDirectory(let path):
            return calls.chdir(path)
        case let .runHook(path, argv, environment, readsState, timeout):
            return calls.runHook(path, argv, environment, input: readsState ? hookState?.bytes() : nil, timeout: timeout)
        case .closeInheritedDescriptors(let first):
            return calls.closeOnExec(from: first)
        case .setPersonality(let persona):
            return calls.personality(persona)
        case let .exec(candidates, argv, envp):
            return exec(candidates, argv, envp)
        }
    }

    /// The console as 0, 1 and 2, and for a command its controlling terminal.
    private func attachConsole(controlling: Bool) -> Int32 {
        if controlling {
            // A process attached to a booted container may lead its session already (EPERM).
            let error = calls.setsid()
            if error != 0 && error != EPERM { return error }
            let ttyError = calls.setControllingTerminal(consoleTerminal)
            if ttyError != 0 { return ttyError }
        }
        for target: Int32 in 0...2 {
            let error = calls.dup2(consoleTerminal, target)
            if error != 0 { return error }
        }
        if consoleTerminal > 2 { calls.close(consoleTerminal) }
        return 0
    }

    /// `call` for each capability number in `mask`, up to the kernel's last; the first error.
    private func forEachCapability(in mask: UInt64, _ call: (Int32) -> Int32) -> Int32 {
        var capability: Int32 = 0
        while capability <= lastCapability {
            if mask & (UInt64(1) << UInt64(capability)) != 0 {
                let error = call(capability)
                if error != 0 { return error }
            }
            capability += 1
        }
        return 0
    }

    /// Tries each candidate as execvp does: a missing file moves on, a permission
    /// error is remembered (it wins over "not found"), anything else stops.
    private func exec(_ candidates: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
        var result = ENOENT
        var index = 0
        while let candidate = candidates[index] {
            let error = calls.execve(candidate, argv, envp)
            switch error {
            case ENOENT, ENOTDIR: break
            case EACCES: result = EACCES
            default: return error
            }
            index += 1
        }
        return result
    }
}
