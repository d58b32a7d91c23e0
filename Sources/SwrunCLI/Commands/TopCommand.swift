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
            usleep(UInt32(delay * 1_000_000))
        }
    }

    private static func format3(_ value: Double) -> String {
        String((value * 1000).rounded() / 1000)
    }
}
