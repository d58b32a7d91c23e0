import CLinux
import Glibc

/// The container's PID 1. It builds the container (mounts, pivot_root, hostname, lo).
/// Then, to execute a command (lxc-execute), it forks the command and stays as a tiny
/// init that forwards signals to it and reaps every orphan, as lxc-init and tini do;
/// when the command exits, init reports its status and exits, and the kernel ends the
/// rest of the pid namespace. To boot a system container (lxc-start), it becomes the
/// command itself: the rootfs's init is PID 1.
///
/// Runs in the child of clone3: raw system calls only, and it never returns.
enum ContainerInit {
    static func run(_ plan: StartPlan, sync: Int32) -> Never {
        // swrun's own fds (its lock, signalfd, sockets, the CLONE_INTO_CGROUP directory) go
        // first of all: nothing in the container may reach them through /proc/1/fd.
        closeAllBut(plan.initKeptFDs)
        // No core dumps of swrun's memory, /proc/1 owned by root, and no ptrace but with
        // CAP_SYS_PTRACE: in every mode (a booted init's exec makes it dumpable again).
        _ = swrun_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        if plan.mode == .execute {
            _ = swrun_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)  // a foreground command dies with swrun
            _ = swrun_prctl(PR_SET_NAME, UInt(bitPattern: plan.initName.baseAddress), 0, 0, 0)
            renameCommandLine(plan.hostArguments, to: plan.initName)
        }
        setsid()  // out of the host's session: the terminal's signals reach swrun alone, which forwards them
        umask(0)  // device nodes and mount points get exactly the modes the plan gives them

        var setup = SetupExecutor(calls: LinuxCalls(), scratch: plan.initScratch, terminals: plan.terminalFDs, sync: sync, hookState: plan.hookState)
        for index in plan.setup.indices {
            let step = plan.setup[index]
            if plan.explain { writeAll(2, step.explanation) }
            let error = setup.perform(step.action)
            if error != 0 { fail(sync, .setupFailed, Int32(index), error) }
        }
        for index in 0..<plan.terminalCount {
            SyncMessage(.terminalReady, Int32(index)).send(on: sync, passing: setup.master(index))
            close(setup.master(index))
            if index > 0 { close(setup.terminal(index)) }  // a getty opens /dev/ttyN itself
        }
        SyncMessage(.ready).send(on: sync)
        if plan.waitsForGoAhead {
            guard let answer = SyncMessage.receive(on: sync), answer.message.kind == SyncMessage.Kind.go.rawValue else { _exit(1) }
        }
        if plan.mode == .boot && plan.request.startGate >= 0 {
            // OCI create: swrun has returned; `start` connects when the command is to run, and
            // hears of a failure on that connection (or sees it close with the exec).
            let connection = accept(plan.request.startGate, nil, nil)
            guard connection >= 0, fcntl(connection, F_SETFD, FD_CLOEXEC) == 0, let answer = SyncMessage.receive(on: connection),
                  answer.message.kind == SyncMessage.Kind.go.rawValue else { _exit(1) }
            close(plan.request.startGate)
            close(sync)
            become(plan, console: setup.terminal(0), sync: connection)
        }
        if plan.mode == .boot {
            become(plan, console: setup.terminal(0), sync: sync)
        }

        // Every signal waits in the queue for sigwaitinfo below, and none is lost before the loop.
        var all = sigset_t()
        sigfillset(&all)
        sigprocmask(SIG_SETMASK, &all, nil)

        // swrun's terminal never reaches the command: it gets the pipes that stand for it (StdioPipes).
        _ = ContainerChild.replaceStandardFDs(plan.stdioFDs)
        var report: (Int32, Int32) = (-1, -1)
        let payload = startPayload(plan, console: setup.terminal(0), report: &report, afterFork: plan.lastCapability)
        if payload < 0 { fail(sync, .payloadFailed, -1, errno) }
        if report.0 >= 0 {
            SyncMessage(.payloadFailed, report.0, report.1).send(on: sync)
        } else {
            SyncMessage(.running, payload).send(on: sync)
        }
        if setup.terminal(0) >= 0 { close(setup.terminal(0)) }
        let channel = keepOnly(sync)
        reap(payload, channel: channel, signals: &all)
    }

    /// Forks the command and waits until it has exec'd (its end of a close-on-exec
    /// pipe closes) or reported the step that failed: (step index, errno).
    /// With `afterFork` (init's case: the highest capability), the parent drops its own
    /// capabilities once the child exists, and the child waits for that before its first
    /// step: nothing it runs (lxc.hook.start) ever sees a parent with root's capabilities,
    /// which CAP_SYS_PTRACE could otherwise take over.
    static func startPayload(_ plan: StartPlan, console: Int32, report: inout (Int32, Int32), afterFork lastCapability: Int32? = nil) -> pid_t {
        var pipeFDs: (Int32, Int32) = (-1, -1)
        var goFDs: (Int32, Int32) = (-1, -1)
        let piped = withUnsafeMutableBytes(of: &pipeFDs) { swrun_pipe_cloexec($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        if piped != 0 { return -1 }
        if lastCapability != nil, withUnsafeMutableBytes(of: &goFDs, { swrun_pipe_cloexec($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }) != 0 {
            return -1
        }
        let pid = swrun_raw_fork()
        if pid < 0 { return -1 }
        if pid == 0 {
            close(pipeFDs.0)
            if goFDs.0 >= 0 {
                close(goFDs.1)
                var byte: UInt8 = 0
                if read(goFDs.0, &byte, 1) != 1 { _exit(1) }  // init died before letting it go
                close(goFDs.0)
            }
            runPayload(plan, console: console, errorPipe: pipeFDs.1)
        }
        close(pipeFDs.1)
        if let lastCapability {
            dropAllCapabilities(upTo: lastCapability)
            // Init needs the caller's stdio and the console no more: the command has them.
            _ = swrun_close_range(0, 2, 0)
            if console > 2 { close(console) }
            close(goFDs.0)
            var byte: UInt8 = 1
            _ = write(goFDs.1, &byte, 1)
            close(goFDs.1)
        }
        var failure: (Int32, Int32) = (-1, -1)
        let count = withUnsafeMutableBytes(of: &failure) { read(pipeFDs.0, $0.baseAddress, $0.count) }
        close(pipeFDs.0)
        if count == MemoryLayout<(Int32, Int32)>.size { report = failure }
        return pid
    }

    private static func runPayload(_ plan: StartPlan, console: Int32, errorPipe: Int32) -> Never {
        var failure = performPayload(plan, console: console)
        _ = withUnsafeBytes(of: &failure) { write(errorPipe, $0.baseAddress, $0.count) }
        if failure.0 == Int32(plan.payload.count - 1) { _exit(failure.1 == ENOENT ? 127 : 126) }  // the execve
        _exit(1)
    }

    /// Boot mode: the payload's steps run in init itself and the rootfs's init replaces it.
    /// Success closes the sync socket (close-on-exec): that end of file is swrun's sign.
    private static func become(_ plan: StartPlan, console: Int32, sync: Int32) -> Never {
        let failure = performPayload(plan, console: console, sync: sync)
        fail(sync, .payloadFailed, failure.0, failure.1)
    }

    /// Runs the payload's steps, the last of which is execve; returns only on failure,
    /// with (step index, errno).
    private static func performPayload(_ plan: StartPlan, console: Int32, sync: Int32 = -1) -> (Int32, Int32) {
        let executor = PayloadExecutor(calls: LinuxCalls(), consoleTerminal: console, lastCapability: plan.lastCapability, hookState: plan.hookState,
                                       syncChannel: sync)
        for index in plan.payload.indices {
            let step = plan.payload[index]
            if plan.explain { writeAll(2, step.explanation) }
            let error = executor.perform(step.action)
            if error != 0 { return (Int32(index), error) }
        }
        return (Int32(plan.payload.count - 1), ENOEXEC)  // not reached: the last step is execve
    }

    /// Overwrites argv's strings with init's name and NULs.
    private static func renameCommandLine(_ area: UnsafeMutableRawBufferPointer, to name: UnsafeRawBufferPointer) {
        guard area.count > 0 else { return }
        area.initializeMemory(as: UInt8.self, repeating: 0)
        let count = min(area.count, name.count)
        area.baseAddress?.copyMemory(from: name.baseAddress!, byteCount: count)
    }

    /// Closes every fd above stdio but those of `kept` (sorted, -1 after the last).
    private static func closeAllBut(_ kept: UnsafeMutableBufferPointer<Int32>) {
        var next: UInt32 = 3
        for fd in kept where fd >= 0 {
            if UInt32(fd) > next { _ = swrun_close_range(next, UInt32(fd) - 1, 0) }
            next = max(next, UInt32(fd) + 1)
        }
        _ = swrun_close_range(next, UInt32.max, 0)
    }

    /// Moves the sync socket to fd 3 and closes everything else, host stdio included.
    private static func keepOnly(_ sync: Int32) -> Int32 {
        var channel = sync
        if sync != 3 {
            channel = swrun_dup_cloexec(sync, 3) < 0 ? sync : 3
        }
        _ = swrun_close_range(0, UInt32(channel - 1), 0)
        _ = swrun_close_range(UInt32(channel + 1), UInt32.max, 0)
        return channel
    }

    /// Init reaps and forwards signals: it keeps CAP_KILL (the command may run as another
    /// user) and nothing else, not even in its bounding set.
    private static func dropAllCapabilities(upTo lastCapability: Int32) {
        let kill: UInt64 = 1 << 5  // CAP_KILL
        var capability: Int32 = 0
        while capability <= lastCapability {
            if capability != 5 { _ = swrun_prctl(PR_CAPBSET_DROP, UInt(capability), 0, 0, 0) }
            capability += 1
        }
        _ = swrun_capset(kill, kill, 0)
    }

    private static func reap(_ payload: pid_t, channel: Int32, signals: inout sigset_t) -> Never {
        var info = siginfo_t()
        while true {
            let signal = swrun_sigwait_all(&signals, &info)
            if signal == SIGCHLD {
                var status: Int32 = 0
                var payloadStatus: Int32? = nil
                while true {
                    let pid = wait4(-1, &status, WNOHANG, nil)
                    if pid <= 0 { break }
                    if pid == payload { payloadStatus = status }
                }
                if let payloadStatus {
                    SyncMessage(.exited, payloadStatus).send(on: channel)
                    _exit(0)
                }
            } else if signal > 0 {
                kill(payload, signal)
            }
        }
    }

    private static func fail(_ sync: Int32, _ kind: SyncMessage.Kind, _ step: Int32, _ error: Int32) -> Never {
        SyncMessage(kind, step, error).send(on: sync)
        _exit(1)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count <= 0 { return }
            offset += count
        }
    }
}
