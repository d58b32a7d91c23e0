import Glibc
import SwrunCgroups
import SwrunRuntime
import SwrunSystem

enum TopCommand: Command {
    static let spec = CommandSpec(
        name: "top",
        abstract: "Resource use of the running containers, refreshed (lxc-top).",
        discussion: "Figures come from each container's own cgroup (containers started with limits); '-' where there is none.",
        options: [
            CommonOptions.lxcPath,
            .init(short: "d", long: "delay", value: "SECONDS", help: "Seconds between refreshes (default 3)."),
            .init(short: nil, long: "once", value: nil, help: "Print once and exit."),
            CommonOptions.format("text or json (json implies --once)."),
        ])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let store = try arguments.store()
        let format = try OutputFormat(arguments.value("format"))
        guard let delay = Double(arguments.value("delay") ?? "3"), delay > 0, delay <= 3600 else {
            throw SwrunError(.invalidArgument, "-d \(arguments.value("delay") ?? ""): not a number of seconds up to an hour", hint: "for example -d 1")
        }
        let once = arguments.flag("once") || format == .json || !Terminal.isTerminal(1)
        // Refreshing on a terminal: q (or Ctrl-C) quits, read from a raw stdin between refreshes.
        let keys = !once && Terminal.isTerminal(0) ? try RawTerminalMode.enter(fd: 0) : nil
        defer { withExtendedLifetime(keys) {} }
        while true {
            let rows = try store.names().compactMap { name -> (String, ContainerStatus, CgroupStats?)? in
                let status = store.status(of: name)
                guard status.state != .stopped else { return nil }
                let cgroups = status.record?.cgroups ?? []
                return (name, status, cgroups.isEmpty ? nil : CgroupStats(ContainerCgroup(directories: cgroups)))
            }
            if format == .json {
                print(JSON.array(rows.map { name, status, stats in
                    .object([("name", .string(name)), ("state", .string(status.state.name)),
                             ("pid", status.initPID.map { .number(Int($0)) } ?? .null)] + CgroupStats.jsonMembers(stats))
                }).text)
            } else {
                if !once { print("\u{1B}[H\u{1B}[2J", terminator: "") }  // home and clear
                print(table(["NAME", "STATE", "PID", "CPU", "BLKIO", "MEMORY", "LIMIT", "PROCS", "OOM"], rows.map { name, status, stats in
                    [name, status.state.name, status.initPID.map(String.init) ?? "-",
                     stats?.cpuNanoseconds.map { String(format3(Double($0) / 1e9)) + "s" } ?? "-",
                     stats?.ioBytes.map(humanBytes) ?? "-",
                     stats?.memoryBytes.map(humanBytes) ?? "-", stats?.memoryLimitBytes.map(humanBytes) ?? "-",
                     stats?.pids.map(String.init) ?? "-", stats?.oomKills.map(String.init) ?? "-"]
                }), terminator: "")
            }
            fflush(nil)
            if once { return 0 }
            if keys == nil {
                usleep(UInt32(delay * 1_000_000))
            } else if quitKeyPressed(within: delay) {
                print("")
                return 0
            }
        }
    }

    /// Waits up to `seconds` for a key on stdin; true for q, Q or Ctrl-C (raw mode turns it into a byte).
    private static func quitKeyPressed(within seconds: Double) -> Bool {
        let deadline = monotonicMilliseconds() + Int(seconds * 1000)
        while case let left = deadline - monotonicMilliseconds(), left > 0 {
            var poller = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left)) > 0 else { continue }
            var key: UInt8 = 0
            guard read(0, &key, 1) == 1 else { return true }  // stdin closed
            if key == UInt8(ascii: "q") || key == UInt8(ascii: "Q") || key == 3 { return true }
        }
        return false
    }

    private static func format3(_ value: Double) -> String {
        String((value * 1000).rounded() / 1000)
    }
}
