import CLinux
import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// `swrun stop`: the halt signal (lxc.signal.halt, default SIGPWR as in LXC) to the
/// container's init, SIGKILL when it has not ended after the timeout. It signals init
/// through a pidfd, so it works whether or not the monitor still lives, and a recycled
/// pid is never hit. With the monitor gone, it clears the runtime files itself.
public struct ContainerStopper {
    public let store: ContainerStore
    public let name: String

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    public enum Outcome: Equatable { case halted, killed }

    /// Stops the container: halts it and waits `timeout` seconds, or kills it at once.
    @discardableResult
    public func stop(timeout: Int, killAtOnce: Bool, explain: Explainer = Explainer(enabled: false),
                     warn: (String) -> Void = { _ in }) throws(SwrunError) -> Outcome {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state != .stopped, let record = status.record, let initProcess = record.initProcess else {
            throw SwrunError(.notFound, "container '\(name)' is not running", hint: "start it with `swrun start -n \(name) -P \(store.lxcPath)`")
        }
        let pidfd = try initProcess.openPidFD()
        defer { close(pidfd) }
        // A frozen init cannot act on the halt signal, and a v1 freezer holds back even SIGKILL.
        if status.state == .frozen, let freezer = CgroupFreezer(directories: store.ownCgroups(of: name, in: record)) {
            explain.say("write(cgroup.freeze or freezer.state, thawed)", "the container is frozen: it must run to stop")
            try freezer.set(frozen: false)
        }
        let halt = killAtOnce ? SIGKILL : (try? store.config(of: name))?.haltSignal ?? SIGPWR
        // The record stays the monitor's to write: a copy written back here could undo its
        // changes, or bring back a record it has just removed.

        var outcome = Outcome.halted
        explain.say("pidfd_send_signal(pidfd of \(initProcess.pid), \(Signals.name(halt)))",
                    killAtOnce ? "kill the container's init: the kernel ends every process of its pid namespace" : "ask the container's init to shut down (lxc.signal.halt)")
        if swrun_pidfd_send_signal(pidfd, halt) != 0 && errno != ESRCH {
            throw SwrunError.system("cannot signal the init of container '\(name)' (pid \(initProcess.pid))", Errno.current)
        }
        if !Self.waitForExit(pidfd, seconds: killAtOnce ? 10 : timeout) {
            explain.say("pidfd_send_signal(pidfd of \(initProcess.pid), SIGKILL)", "init did not end within \(timeout) s")
            _ = swrun_pidfd_send_signal(pidfd, SIGKILL)
            outcome = .killed
            guard Self.waitForExit(pidfd, seconds: 10) else {
                throw SwrunError(.system, "the init of container '\(name)' (pid \(initProcess.pid)) survives SIGKILL",
                                 hint: "it may be stuck in the kernel (D state); look at /proc/\(initProcess.pid)/stack")
            }
        }
        try finishCleanup(after: record, warn: warn)
        return killAtOnce ? .killed : outcome
    }

    /// True once the process behind `pidfd` has exited (the pidfd polls readable).
    static func waitForExit(_ pidfd: Int32, seconds: Int) -> Bool {
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var remaining = Int32(clamping: seconds * 1000)
        while true {
            let started = monotonicMilliseconds()
            let ready = poll(&entry, 1, remaining)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return false }
            remaining -= Int32(clamping: monotonicMilliseconds() - started)
            if remaining <= 0 { return false }
        }
    }

    /// The monitor reaps init and removes its files; without one, that falls to us.
    private func finishCleanup(after record: RuntimeRecord, warn: (String) -> Void) throws(SwrunError) {
        if let monitor = record.monitor, let monitorFD = try? monitor.openPidFD() {
            defer { close(monitorFD) }
            if Self.waitForExit(monitorFD, seconds: 10) { return }
        }
        // Without a monitor the files are ours to clear, but only under the run lock: a start
        // that began meanwhile holds it, and its files are its own.
        let lock = try? store.lockForStart(name)
        // The monitor would have withdrawn the container's published ports and run the
        // post-stop hooks (taking the lock cleared its files).
        try? NATTable().remove(NATTable.key(containerDirectory: store.directory(of: name)))
        guard let lock else { return }
        if let config = try? store.config(of: name) {
            ContainerHooks(config: config, name: name, containerDirectory: store.directory(of: name)).runAfterStop(warn: warn)
        }
        withExtendedLifetime(lock) {}
    }
}

func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}
