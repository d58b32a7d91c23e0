import Glibc
import SwrunSystem

/// The states of a container, as LXC names them.
public enum ContainerState: String, Sendable, CaseIterable {
    case stopped = "STOPPED"
    case starting = "STARTING"
    case running = "RUNNING"
    case stopping = "STOPPING"
    case frozen = "FROZEN"

    public var name: String { rawValue }
}

/// What runs for a started container, kept in LXCPATH/NAME/swrun.state so that any
/// swrun command can find it, even after the process that started it is gone:
/// the state, init's identity, and the identity of the process watching it
/// (the monitor of `start`, or the swrun of a foreground `execute`).
public struct RuntimeRecord: Sendable, Equatable {
    public var state: ContainerState
    public var mode: LaunchMode
    public var initProcess: ProcessIdentity?
    public var monitor: ProcessIdentity?
    /// The container's own cgroup directories, when it has limits.
    public var cgroups: [String] = []

    /// lxc.cgroup.dir as the start used it: cgroups ending in it are the container's too.
    public var cgroupDirectory: String?

    /// lxc.signal.halt, .reboot and .stop as the start read them (nil in a record from before
    /// they were kept): `stop` sends these, as lxc-stop sends what its monitor loaded, and
    /// need not parse the whole config again to find them.
    public var signals: ShutdownSignalSpec?

    public init(state: ContainerState, mode: LaunchMode, initProcess: ProcessIdentity?, monitor: ProcessIdentity?,
                cgroups: [String] = [], cgroupDirectory: String? = nil, signals: ShutdownSignalSpec? = nil) {
        self.state = state
        self.mode = mode
        self.initProcess = initProcess
        self.monitor = monitor
        self.cgroups = cgroups
        self.cgroupDirectory = cgroupDirectory
        self.signals = signals
    }

    /// key=value lines, one a field.
    public var text: String {
        var lines = ["state=\(state.rawValue)", "mode=\(mode == .boot ? "boot" : "execute")"]
        if let initProcess { lines += ["init_pid=\(initProcess.pid)", "init_start_time=\(initProcess.startTime)"] }
        if let monitor { lines += ["monitor_pid=\(monitor.pid)", "monitor_start_time=\(monitor.startTime)"] }
        if !cgroups.isEmpty { lines.append("cgroups=" + cgroups.joined(separator: ",")) }
        if let cgroupDirectory { lines.append("cgroup_dir=" + cgroupDirectory) }
        if let signals {
            // halt,reboot,stop: a number each, empty where the config sets none.
            lines.append("signals=" + [signals.halt, signals.reboot, signals.stop].map { $0.map(String.init) ?? "" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public init?(text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let state = fields["state"].flatMap(ContainerState.init(rawValue:)) else { return nil }
        func identity(_ prefix: String) -> ProcessIdentity? {
            guard let pid = fields[prefix + "_pid"].flatMap({ pid_t($0) }),
                  let start = fields[prefix + "_start_time"].flatMap({ UInt64($0) }) else { return nil }
            return ProcessIdentity(pid: pid, startTime: start)
        }
        self.init(state: state, mode: fields["mode"] == "boot" ? .boot : .execute,
                  initProcess: identity("init"), monitor: identity("monitor"),
                  cgroups: fields["cgroups"].map { $0.split(separator: ",").map(String.init) } ?? [],
                  cgroupDirectory: fields["cgroup_dir"], signals: fields["signals"].flatMap(Self.signals(from:)))
    }

    private static func signals(from field: String) -> ShutdownSignalSpec? {
        let numbers = field.split(separator: ",", omittingEmptySubsequences: false).map { Int32($0) }
        guard numbers.count == 3 else { return nil }
        return ShutdownSignalSpec(halt: numbers[0], reboot: numbers[1], stop: numbers[2])
    }
}

/// A container's state as found now: the record checked against the live processes.
public struct ContainerStatus: Sendable, Equatable {
    public var state: ContainerState
    public var record: RuntimeRecord?

    /// Init's pid on the host, while it runs.
    public var initPID: pid_t? { state == .stopped ? nil : record?.initProcess?.pid }
    /// Whether a monitor (or a foreground swrun) still watches the container.
    public var monitorAlive: Bool { record?.monitor?.isAlive ?? false }
}
