import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// `swrun stop`: the halt signal (see ShutdownSignals) to each container's init, SIGKILL
/// to those not ended after the timeout. Several containers are stopped together: every
/// signal goes out first, then one wait covers them all. Init is signalled through a
/// pidfd, so this works whether or not the monitor still lives, and a recycled pid is never
/// hit. With the monitor gone, it clears the runtime files itself.
public struct ContainerStopper {
    public let store: ContainerStore
    public let name: String

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    public enum Outcome: Equatable { case halted, killed }

    /// Stops the container: halts it and waits `timeout` seconds, or kills it at once (with
    /// lxc.signal.stop when set).
    @discardableResult
    public func stop(timeout: Int, killAtOnce: Bool, explain: Explainer = Explainer(enabled: false),
                     warn: (String) -> Void = { _ in }) throws(SwrunError) -> Outcome {
        try Self.stop([name], store: store, timeout: timeout, killAtOnce: killAtOnce, explain: explain, warn: warn)[0].outcome.get()
    }

    /// Stops `names` together and reports each: the halt signals go out at once, and the
    /// timeout runs for all of them together.
    public static func stop(_ names: [String], store: ContainerStore, timeout: Int, killAtOnce: Bool,
                            explain: Explainer = Explainer(enabled: false),
                            warn: (String) -> Void = { _ in }) -> [(name: String, outcome: Result<Outcome, SwrunError>)] {
        var results: [String: Result<Outcome, SwrunError>] = [:]
        var stopping: [Stopping] = []
        for name in names {
            do {
                stopping.append(try ContainerStopper(store: store, name: name).signal(killAtOnce: killAtOnce, explain: explain))
            } catch {
                results[name] = .failure(error)
            }
        }
        defer { for each in stopping { close(each.pidfd) } }
        // A custom lxc.signal.stop may be ignored: it has the timeout too, as a halt has.
        let firstWait = stopping.allSatisfy { $0.signal == SIGKILL } ? 10 : timeout
        let survivors = waitForExit(stopping.map(\.pidfd), seconds: firstWait)
        for index in survivors where stopping[index].signal != SIGKILL {
            explain.say("pidfd_send_signal(pidfd of \(stopping[index].pid), SIGKILL)", "init did not end within \(firstWait) s")
            _ = swrun_pidfd_send_signal(stopping[index].pidfd, SIGKILL)
            stopping[index].killed = true
        }
        let stuck = Set(survivors.isEmpty ? [] : waitForExit(survivors.map { stopping[$0].pidfd }, seconds: 10).map { survivors[$0] })
        for (index, each) in stopping.enumerated() {
            let stopper = ContainerStopper(store: store, name: each.name)
            if stuck.contains(index) {
                results[each.name] = .failure(SwrunError(.system, "the init of container '\(each.name)' (pid \(each.pid)) survives SIGKILL",
                                                         hint: "it may be stuck in the kernel (D state); look at /proc/\(each.pid)/stack"))
                continue
            }
            do {
                try stopper.finishCleanup(after: each.record, warn: warn)
                results[each.name] = .success(each.killed || each.signal == SIGKILL ? .killed : .halted)
            } catch {
                results[each.name] = .failure(error)
            }
        }
        return names.map { ($0, results[$0] ?? .failure(SwrunError(.system, "container '\($0)' was not stopped"))) }
    }

    /// Sends `signal` to the container's init and returns (docker kill). SIGKILL and the halt
    /// signal count as a stop asked for: --restart does not start the container again.
    public func kill(signal: Int32) throws(SwrunError) {
        let (record, initProcess, _) = try runningInit()
        let pidfd = try initProcess.openPidFD()
        defer { close(pidfd) }
        if signal == SIGKILL || signal == ShutdownSignals.halt(ShutdownSignals.configured(store, name, record: record), initPID: initProcess.pid) {
            try? FileSystem.writeAtomically(store.stopRequestPath(of: name), "\(getpid())\n")
        }
        if swrun_pidfd_send_signal(pidfd, signal) != 0 && errno != ESRCH {
            throw SwrunError.system("cannot signal the init of container '\(name)' (pid \(initProcess.pid))", Errno.current)
        }
    }

    /// A container whose init has been sent its signal.
    struct Stopping {
        let name: String
        let record: RuntimeRecord
        let pid: pid_t
        let pidfd: Int32
        let signal: Int32
        var killed = false
    }

    /// Opens init's pidfd, thaws a frozen container, and sends the halt (or stop) signal.
    private func signal(killAtOnce: Bool, explain: Explainer) throws(SwrunError) -> Stopping {
        let (record, initProcess, frozen) = try runningInit()
        let pidfd = try initProcess.openPidFD()
        do throws(SwrunError) {
            // A frozen init cannot act on the halt signal, and a v1 freezer holds back even SIGKILL.
            if frozen, let freezer = CgroupFreezer(directories: store.ownCgroups(of: name, in: record)) {
                explain.say("write(cgroup.freeze or freezer.state, thawed)", "the container is frozen: it must run to stop")
                try freezer.set(frozen: false)
            }
            // Before the signal: the monitor may reap init at once, and must know it was asked to.
            try? FileSystem.writeAtomically(store.stopRequestPath(of: name), "\(getpid())\n")
            let signals = ShutdownSignals.configured(store, name, record: record)
            let signal = killAtOnce ? ShutdownSignals.stop(signals) : ShutdownSignals.halt(signals, initPID: initProcess.pid)
            // The record stays the monitor's to write: a copy written back here could undo its
            // changes, or bring back a record it has just removed.
            explain.say("pidfd_send_signal(pidfd of \(initProcess.pid), \(Signals.name(signal)))",
                        killAtOnce ? "stop the container's init (lxc.signal.stop): the kernel ends every process of its pid namespace with it"
                                   : "ask the container's init to shut down (lxc.signal.halt, or SIGRTMIN+3 for an init that waits for it, as systemd does)")
            if swrun_pidfd_send_signal(pidfd, signal) != 0 && errno != ESRCH {
                throw SwrunError.system("cannot signal the init of container '\(name)' (pid \(initProcess.pid))", Errno.current)
            }
            return Stopping(name: name, record: record, pid: initProcess.pid, pidfd: pidfd, signal: signal)
        } catch {
            close(pidfd)
            throw error
        }
    }

    /// The running container's record and init, and whether it is frozen (one read of the status).
    private func runningInit() throws(SwrunError) -> (RuntimeRecord, ProcessIdentity, frozen: Bool) {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state != .stopped, let record = status.record, let initProcess = record.initProcess else {
            throw SwrunError(.notFound, "container '\(name)' is not running", hint: "start it with `swrun start -n \(name) -P \(store.lxcPath)`")
        }
        return (record, initProcess, status.state == .frozen)
    }

    /// `stop -r`: the reboot signal (lxc.signal.reboot, else SIGINT) to init, which shuts
    /// down and reboots; the monitor then boots the container again. Returns once a new init
    /// runs, or throws after `timeout` seconds.
    public func reboot(timeout: Int, explain: Explainer = Explainer(enabled: false)) throws(SwrunError) {
        let (record, initProcess, _) = try runningInit()
        guard let monitor = record.monitor, monitor.isAlive else {
            throw SwrunError(.notFound, "container '\(name)' has no monitor to boot it again",
                             hint: "stop it (`swrun stop -n \(name) -P \(store.lxcPath)`) and start it")
        }
        let pidfd = try initProcess.openPidFD()
        defer { close(pidfd) }
        let signal = ShutdownSignals.reboot(ShutdownSignals.configured(store, name, record: record))
        explain.say("pidfd_send_signal(pidfd of \(initProcess.pid), \(Signals.name(signal)))",
                    "ask the container's init to reboot (lxc.signal.reboot); its reboot(2) ends it with SIGHUP, and the monitor boots the container again")
        if swrun_pidfd_send_signal(pidfd, signal) != 0 {
            throw SwrunError.system("cannot signal the init of container '\(name)' (pid \(initProcess.pid))", Errno.current)
        }
        let deadline = monotonicMilliseconds() + timeout * 1000
        guard Self.waitForExit([pidfd], seconds: timeout).isEmpty else {
            throw SwrunError(.system, "container '\(name)' did not reboot within \(timeout) s (its init ignores \(Signals.name(signal))?)",
                             hint: "set lxc.signal.reboot to the signal its init reboots on, or stop and start it")
        }
        while monotonicMilliseconds() < deadline {
            let now = store.status(of: name)
            if now.state == .running, let pid = now.record?.initProcess?.pid, pid != initProcess.pid { return }
            if !monitor.isAlive { break }  // the new boot failed: its error is in swrun.log
            usleep(20_000)
        }
        throw SwrunError(.containerSetup, "container '\(name)' did not come back after its reboot", hint: "see \(FileSystem.join(store.directory(of: name), "swrun.log"))")
    }

    /// Waits until the processes behind `pidfds` have exited, or `seconds` have passed;
    /// returns the indices of those still running.
    static func waitForExit(_ pidfds: [Int32], seconds: Int) -> [Int] {
        var remaining = Array(pidfds.indices)
        let deadline = monotonicMilliseconds() + seconds * 1000
        while !remaining.isEmpty {
            var entries = remaining.map { pollfd(fd: pidfds[$0], events: Int16(POLLIN), revents: 0) }
            let left = deadline - monotonicMilliseconds()
            if left <= 0 { break }
            let ready = poll(&entries, nfds_t(entries.count), Int32(clamping: left))
            if ready < 0 && errno != EINTR { break }
            remaining = zip(remaining, entries).filter { $0.1.revents == 0 }.map(\.0)
        }
        return remaining
    }

    /// The monitor reaps init and removes its files; without one, that falls to us. A monitor
    /// killed a moment ago may still be dying when we look: its record, left behind, says so.
    private func finishCleanup(after record: RuntimeRecord, warn: (String) -> Void) throws(SwrunError) {
        if let monitorFD = record.monitor.flatMap({ try? $0.openPidFD() }) {
            defer { close(monitorFD) }
            _ = Self.waitForExit([monitorFD], seconds: 10)
        }
        // A monitor that ended as it should removed the record (and ran the post-stop hooks),
        // also one that was gone before we looked.
        if !FileSystem.exists(store.recordPath(of: name)) { return }
        // Without a monitor the files are ours to clear, but only under the run lock: a start
        // that began meanwhile holds it, and its files are its own. Taking the lock clears the
        // files and undoes the host effects (published ports, links, cgroups); the post-stop
        // hooks the monitor would have run are left.
        guard let lock = try? store.lockForStart(name) else { return }
        // The hooks alone: a whole spec would compile a seccomp filter and parse networks for nothing.
        if let config = try? store.config(of: name) {
            let directory = store.directory(of: name)
            let hooks = ContainerSpec.hooks(config, name: name, directory: directory,
                                            rootfs: ContainerSpec.rootfsPath(config, directory: directory))
            ContainerHooks.runAfterStop(hooks.stopped, warn: warn)
        }
        withExtendedLifetime(lock) {}
    }
}


extension ContainerStore {
    /// destroy -f, rm -f, run --replace: a container that runs is killed first, then destroyed.
    public func destroyKillingIt(_ name: String, snapshots: Bool = false, warn: (String) -> Void = { _ in }) throws(SwrunError) {
        try requireExisting(name)
        if status(of: name).state != .stopped {
            try ContainerStopper(store: self, name: name).stop(timeout: 0, killAtOnce: true, warn: warn)
        }
        try destroy(name, snapshots: snapshots)
    }
}
