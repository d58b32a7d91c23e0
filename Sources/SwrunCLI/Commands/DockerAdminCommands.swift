import Glibc
import SwrunCgroups
import SwrunImages
import SwrunRuntime
import SwrunSystem

enum StatsCommand: Command {
    static let spec = CommandSpec(
        name: "stats",
        abstract: "Resource use of running containers in Docker's columns (docker stats; lxc-top's figures).",
        discussion: """
        CPU % is the share of one CPU used between two readings (a second apart, half a second
        with --no-stream), from the container's cgroup; memory and processes from the cgroup too,
        network from the container's links. '-' where a container has no cgroup of its own.
        """,
        options: [.init(short: nil, long: "no-stream", value: nil, help: "Print once and exit."),
                  CommonOptions.format("text or json (json implies --no-stream)."),
                  CommonOptions.lxcPath],
        arguments: [.init(name: "NAME", help: "Only these containers.", optional: true, repeats: true, completes: .container)])

    struct Reading {
        let name: String
        let stats: CgroupStats?
        let network: (received: UInt64, sent: UInt64)?
        let time: Int
    }

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let store = try arguments.store()
        let format = try OutputFormat(arguments.value("format"))
        let once = arguments.flag("no-stream") || format == .json || !Terminal.isTerminal(1)
        for name in arguments.arguments { try store.requireExisting(name) }
        var previous = read(store, names: arguments.arguments)
        while true {
            usleep(once ? 500_000 : 1_000_000)
            let current = read(store, names: arguments.arguments)
            let rows = current.map { reading in row(reading, before: previous.first { $0.name == reading.name }) }
            if format == .json {
                print(JSON.array(rows.map { row in .object(zip(headers, row).map { ($0, JSON.string($1)) }) }).text)
            } else {
                if !once { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(table(headers, rows), terminator: "")
            }
            fflush(nil)
            if once { return 0 }
            previous = current
        }
    }

    static let headers = ["NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]

    private static func read(_ store: ContainerStore, names: [String]) -> [Reading] {
        let all = names.isEmpty ? ((try? store.names()) ?? []) : names
        return all.compactMap { name in
            let status = store.status(of: name)
            guard status.state != .stopped else { return nil }
            let cgroups = status.record?.cgroups ?? []
            let view = status.initPID.map(ContainerNetworkView.init(initPID:))
            let links = view?.links.filter { $0.name != "lo" } ?? []
            return Reading(name: name, stats: cgroups.isEmpty ? nil : CgroupStats(ContainerCgroup(directories: cgroups)),
                           network: view == nil ? nil : (links.reduce(0) { $0 &+ $1.receivedBytes }, links.reduce(0) { $0 &+ $1.sentBytes }),
                           time: monotonicMilliseconds())
        }
    }

    private static func row(_ reading: Reading, before: Reading?) -> [String] {
        var cpu = "-"
        if let now = reading.stats?.cpuNanoseconds, let then = before?.stats?.cpuNanoseconds, let start = before?.time, reading.time > start {
            let percent = Double(now &- then) / Double((reading.time - start) * 1_000_000) * 100
            cpu = String(format2(percent)) + "%"
        }
        let memory = reading.stats?.memoryBytes
        let limit = reading.stats?.memoryLimitBytes
        let percent = memory.flatMap { used in limit.map { $0 == 0 ? "-" : format2(Double(used) / Double($0) * 100) + "%" } } ?? "-"
        return [reading.name, cpu, "\(memory.map(humanBytes) ?? "-") / \(limit.map(humanBytes) ?? "-")", percent,
                reading.network.map { "\(humanBytes($0.received)) / \(humanBytes($0.sent))" } ?? "-",
                reading.stats?.ioBytes.map(humanBytes) ?? "-", reading.stats?.pids.map(String.init) ?? "-"]
    }

    private static func format2(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

enum ContainerCommand: Command {
    static let spec = CommandSpec(
        name: "container",
        abstract: "`swrun container prune` removes every stopped container of the LXCPATH (docker container prune).",
        discussion: """
        Asks first on a terminal, as Docker does; -f removes without asking (and is needed where
        stdin is not a terminal). LXC system containers in the same LXCPATH are containers too:
        list what would go with `swrun ps -a` first.
        """,
        options: [.init(short: "f", long: "force", value: nil, help: "Do not ask."), CommonOptions.lxcPath],
        arguments: [.init(name: "ACTION", help: "prune", choices: ["prune"])])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard arguments.arguments[0] == "prune" else {
            throw SwrunError(.invalidArgument, "swrun container: unknown action '\(arguments.arguments[0])'", hint: "use `swrun container prune`")
        }
        try requireRoot("swrun container prune")
        let store = try arguments.store()
        let stopped = try store.names().filter { store.status(of: $0).state == .stopped }
        if !arguments.flag("force") {
            guard Terminal.isTerminal(0) else {
                throw SwrunError(.invalidArgument, "swrun container prune removes \(stopped.count) stopped containers and asks first; stdin is not a terminal",
                                 hint: "add -f to remove them without asking")
            }
            print("This removes every stopped container in \(store.lxcPath): \(stopped.joined(separator: ", ")). Go on? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return 1 }
        }
        return eachContainer(stopped) { name throws(SwrunError) in
            try store.destroy(name)
            print(name)
        }
    }
}

enum SystemCommand: Command {
    static let spec = CommandSpec(
        name: "system",
        abstract: "`swrun system df`: the disk space images, containers and volumes take (docker system df).",
        discussion: """
        Images: the cache's blobs and unpacked layers (SWRUN_CACHE_PATH); containers: their
        directories under LXCPATH (an overlay container's own changes, not its image's layers);
        volumes: named volumes. RECLAIMABLE is what stopped containers and unused volumes hold.
        """,
        options: [CommonOptions.format("text or json."), CommonOptions.lxcPath],
        arguments: [.init(name: "ACTION", help: "df", choices: ["df"])])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard arguments.arguments[0] == "df" else {
            throw SwrunError(.invalidArgument, "swrun system: unknown action '\(arguments.arguments[0])'", hint: "use `swrun system df`")
        }
        let format = try OutputFormat(arguments.value("format"))
        let store = try arguments.store()
        let cache = OCIStore.defaultRoot(environment: cacheEnvironment)
        let images = imageCatalog().cachedImages()
        let imageBytes = DiskUsage.bytes(under: FileSystem.join(cache, "oci")) + DiskUsage.bytes(under: DownloadTemplate.defaultCacheRoot(environment: cacheEnvironment))
        let names = try store.names()
        let running = names.filter { store.status(of: $0).state != .stopped }
        var containerBytes: UInt64 = 0, stoppedBytes: UInt64 = 0
        var mountedVolumes = Set<String>()
        var usedImages = Set<String>()
        for name in names {
            if let image = (try? ContainerSidecar.load(from: store.directory(of: name)))?.image { usedImages.insert(image) }
            let bytes = DiskUsage.bytes(under: store.directory(of: name))
            containerBytes += bytes
            if !running.contains(name) { stoppedBytes += bytes }
            for entry in (try? store.config(of: name))?.mountEntries ?? [] where entry.source.hasPrefix(RunCommand.volumesDirectory() + "/") {
                mountedVolumes.insert(String(entry.source.dropFirst(RunCommand.volumesDirectory().count + 1)))
            }
        }
        let volumes = (try? FileSystem.listDirectory(RunCommand.volumesDirectory())) ?? []
        let volumeBytes = volumes.map { DiskUsage.bytes(under: FileSystem.join(RunCommand.volumesDirectory(), $0)) }
        let unusedVolumeBytes = zip(volumes, volumeBytes).filter { !mountedVolumes.contains($0.0) }.reduce(0) { $0 + $1.1 }
        let rows: [(String, Int, Int, UInt64, UInt64)] = [
            ("Images", images.count, images.filter { image in usedImages.contains { $0 == image.name || $0.hasSuffix("/" + image.name) } }.count, imageBytes, 0),
            ("Containers", names.count, running.count, containerBytes, stoppedBytes),
            ("Local Volumes", volumes.count, mountedVolumes.intersection(volumes).count, volumeBytes.reduce(0, +), unusedVolumeBytes),
        ]
        if format == .json {
            print(JSON.array(rows.map { row in
                .object([("type", .string(row.0)), ("total", .number(row.1)), ("active", .number(row.2)),
                         ("size", .number(Int(clamping: row.3))), ("reclaimable", .number(Int(clamping: row.4)))])
            }).text)
            return 0
        }
        print(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], rows.map { [$0.0, String($0.1), String($0.2), humanBytes($0.3), humanBytes($0.4)] }),
              terminator: "")
        return 0
    }
}
