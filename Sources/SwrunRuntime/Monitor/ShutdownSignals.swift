import Glibc
import SwrunConfig
import SwrunSystem

/// The signals that ask a container's init to halt, reboot or stop, chosen as lxc-stop
/// chooses them.
enum ShutdownSignals {
    /// lxc.signal.halt; without one, SIGRTMIN+3 when init blocks it (systemd does: it waits
    /// for it on a signalfd and halts cleanly on it), else SIGPWR (what SysV and busybox
    /// inits take as "power failure: shut down").
    static func halt(_ chosen: ShutdownSignalSpec?, initPID: pid_t) -> Int32 {
        if let signal = chosen?.halt { return signal }
        let systemdHalt = Signals.realtimeMin + 3
        return blocks(systemdHalt, pid: initPID) ? systemdHalt : SIGPWR
    }

    /// lxc.signal.reboot, else SIGINT (Ctrl-Alt-Del: systemd and SysV init reboot on it).
    static func reboot(_ chosen: ShutdownSignalSpec?) -> Int32 { chosen?.reboot ?? SIGINT }

    /// lxc.signal.stop, else SIGKILL: what `stop -k` sends.
    static func stop(_ chosen: ShutdownSignalSpec?) -> Int32 { chosen?.stop ?? SIGKILL }

    /// lxc.signal.* as the running container's start read them, kept in its record; from its
    /// config as it is now where an older record lacks them (a config that no longer loads
    /// gives LXC's defaults).
    static func configured(_ store: ContainerStore, _ name: String, record: RuntimeRecord) -> ShutdownSignalSpec? {
        if let signals = record.signals { return signals }
        guard let config = try? store.config(of: name) else { return nil }
        return ShutdownSignalSpec(halt: config.haltSignal, reboot: config.rebootSignal, stop: config.stopSignal)
    }

    /// Whether `pid` blocks `signal`: its bit in /proc/PID/status's SigBlk mask.
    static func blocks(_ signal: Int32, pid: pid_t) -> Bool {
        guard let status = try? FileSystem.readText("/proc/\(pid)/status") else { return false }
        return blocks(signal, status: status)
    }

    static func blocks(_ signal: Int32, status: String) -> Bool {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
              let mask = UInt64(String(line.dropFirst("SigBlk:".count)).trimmingCharacters(in: " \t"), radix: 16),
              signal >= 1 && signal <= 64 else { return false }
        return mask & (UInt64(1) << UInt64(signal - 1)) != 0
    }
}
