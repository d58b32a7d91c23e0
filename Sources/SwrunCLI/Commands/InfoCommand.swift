import SwrunCgroups
import SwrunRuntime
import SwrunSystem

enum InfoCommand: Command {
    static let spec = CommandSpec(
        name: "info",
        abstract: "Show a container's state and pid (lxc-info).",
        discussion: """
        Resource use (memory, OOM kills, processes, CPU) comes from the container's own cgroup,
        which it has when it has limits; block I/O is not shown yet. IP addresses and link traffic
        are read from inside the container's network namespace (TX is what the container sent).
        """,
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "s", long: "state", value: nil, help: "Only the state."),
            .init(short: "p", long: "pid", value: nil, help: "Only init's pid."),
            .init(short: "i", long: "ips", value: nil, help: "Only the IP addresses."),
            .init(short: "S", long: "stats", value: nil, help: "Only resource use (from the container's cgroup, when it has limits)."),
            .init(short: "H", long: "no-humanize", value: nil, help: "Bare values, without field names."),
            CommonOptions.format("text or json."),
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let format = try OutputFormat(arguments.value("format"))
        let store = try arguments.store()
        try store.requireExisting(name)
        let status = store.status(of: name)
        let network = status.state == .running ? status.initPID.map(ContainerNetworkView.init(initPID:)) : nil
        if format == .json {
            let stats = status.state == .stopped ? nil : status.record.map { CgroupStats(ContainerCgroup(directories: $0.cgroups)) }
            print(JSON.object([
                ("name", .string(name)), ("state", .string(status.state.name)),
                ("pid", status.initPID.map { .number(Int($0)) } ?? .null),
                ("monitor", .bool(status.monitorAlive)),
                ("ips", .array(((network?.ipv4 ?? []) + (network?.ipv6 ?? [])).map(JSON.string))),
                ("links", .array((network?.links ?? []).map { link in
                    .object([("name", .string(link.name)), ("rx_bytes", .number(Int(clamping: link.receivedBytes))),
                             ("tx_bytes", .number(Int(clamping: link.sentBytes)))])
                })),
            ] + CgroupStats.jsonMembers(stats)).text)
            return 0
        }
        let onlyState = arguments.flag("state"), onlyPID = arguments.flag("pid"), onlyIPs = arguments.flag("ips")
        let all = !onlyState && !onlyPID && !onlyIPs && !arguments.flag("stats")
        var fields: [(String, String)] = []
        if all { fields.append(("Name", name)) }
        if all || onlyState { fields.append(("State", status.state.name)) }
        if all || onlyPID, let pid = status.initPID { fields.append(("PID", String(pid))) }
        if all || onlyIPs, let network {
            for address in network.ipv4 + network.ipv6 { fields.append(("IP", address)) }
        }
        if all, status.state != .stopped, !status.monitorAlive {
            fields.append(("Monitor", "gone (stop and destroy still work)"))
        }
        let stats = status.state == .stopped ? nil : status.record.map { CgroupStats(ContainerCgroup(directories: $0.cgroups)) }
        if all || arguments.flag("stats"), let stats {
            let raw = arguments.flag("no-humanize")
            if let cpu = stats.cpuNanoseconds { fields.append(("CPU use", raw ? String(cpu) : "\(Double(cpu) / 1e9) seconds")) }
            if let io = stats.ioBytes { fields.append(("BlkIO use", raw ? String(io) : humanBytes(io))) }
            if let memory = stats.memoryBytes { fields.append(("Memory use", raw ? String(memory) : humanBytes(memory))) }
            if let limit = stats.memoryLimitBytes { fields.append(("Memory limit", raw ? String(limit) : humanBytes(limit))) }
            if let kills = stats.oomKills { fields.append(("OOM kills", String(kills))) }
            if let pids = stats.pids { fields.append(("Processes", String(pids))) }
        }
        if all || arguments.flag("stats"), let network {
            // As the container sees it: what it sent (TX) and received (RX).
            let raw = arguments.flag("no-humanize")
            for link in network.links {
                fields.append(("Link", link.name))
                fields.append((" TX bytes", raw ? String(link.sentBytes) : humanBytes(link.sentBytes)))
                fields.append((" RX bytes", raw ? String(link.receivedBytes) : humanBytes(link.receivedBytes)))
                let total = link.sentBytes &+ link.receivedBytes
                fields.append((" Total bytes", raw ? String(total) : humanBytes(total)))
            }
        }
        for (field, value) in fields {
            print(arguments.flag("no-humanize") ? value : (field + ":").padding(to: 16) + value)
        }
        return 0
    }
}

extension CgroupStats {
    /// The figures as JSON members, null where unknown (info and top share them).
    static func jsonMembers(_ stats: CgroupStats?) -> [(String, JSON)] {
        func number(_ value: UInt64?) -> JSON { value.map { .number(Int(clamping: $0)) } ?? .null }
        return [("memory_bytes", number(stats?.memoryBytes)), ("memory_limit_bytes", number(stats?.memoryLimitBytes)),
                ("oom_kills", number(stats?.oomKills)), ("processes", number(stats?.pids)), ("cpu_nanoseconds", number(stats?.cpuNanoseconds)), ("blkio_bytes", number(stats?.ioBytes))]
    }
}

/// 1.5 MiB, 32.0 MiB, 2.0 GiB.
func humanBytes(_ bytes: UInt64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : "\((value * 10).rounded() / 10) \(units[unit])"
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
