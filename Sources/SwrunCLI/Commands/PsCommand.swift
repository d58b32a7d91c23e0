import Glibc
import SwrunConfig
import SwrunRuntime
import SwrunSystem

/// What `ps` and `inspect` show of one container, read once.
struct ContainerOverview {
    let name: String
    let status: ContainerStatus
    let sidecar: ContainerSidecar
    let config: ContainerConfig?
    let exit: ExitRecord?
    let created: Int?

    init(_ name: String, store: ContainerStore) {
        self.name = name
        let directory = store.directory(of: name)
        status = store.status(of: name)
        sidecar = (try? ContainerSidecar.load(from: directory)) ?? ContainerSidecar()
        config = try? store.config(of: name)
        exit = ExitRecord.load(from: directory)
        var info = stat()
        created = sidecar.created ?? (stat(store.configPath(of: name), &info) == 0 ? Int(info.st_mtim.tv_sec) : nil)
    }

    /// The image, else the LXC template the config's header names, else "-".
    var image: String { sidecar.image ?? "-" }

    /// What runs: the image's argv, else lxc.init.cmd, else init.
    var command: [String] { sidecar.argv ?? config?.initCmd ?? ["/sbin/init"] }

    /// Docker's STATUS column: "Up 3 minutes", "Exited (3) 2 hours ago", "Created".
    func statusText(now: Int) -> String {
        switch status.state {
        case .running, .starting, .stopping:
            let since = status.record.flatMap { record in record.initProcess.flatMap { Self.startTime(of: $0.pid) } }
            return "Up" + (since.map { " " + Self.duration(now - $0) } ?? "")
        case .frozen:
            return "Up (Paused)"
        case .stopped:
            guard let exit else { return "Created" }
            return "Exited (\(exit.code)) \(Self.duration(now - exit.time)) ago"
        }
    }

    /// -p ports as Docker lists them: "0.0.0.0:8080->80/tcp"; a running container's with the
    /// host ports its start chose, a stopped one's as asked for ("80/tcp" for a free one).
    func portsText(store: ContainerStore) -> String {
        let ports = status.state == .stopped ? sidecar.ports : (try? store.publishedPorts(of: name)) ?? sidecar.ports
        return ports.map { port in
            let address = port.hostAddress.map { $0.map(String.init).joined(separator: ".") } ?? "0.0.0.0"
            return (port.hostPort == 0 ? "" : "\(address):\(port.hostPort)->") + "\(port.containerPort)/\(port.proto.rawValue)"
        }.joined(separator: ", ")
    }

    static func duration(_ seconds: Int) -> String {
        switch max(seconds, 0) {
        case ..<60: plural(max(seconds, 1), "second")
        case ..<3600: plural(seconds / 60, "minute")
        case ..<172_800: plural(seconds / 3600, "hour")
        default: plural(seconds / 86_400, "day")
        }
    }

    private static func plural(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }

    /// When a process started, in seconds since the epoch (/proc/PID/stat's starttime over the boot time).
    static func startTime(of pid: pid_t) -> Int? {
        guard let stat = try? FileSystem.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int(fields[19]), let uptime = (try? FileSystem.readText("/proc/uptime"))?.split(separator: " ").first,
              let up = Double(uptime) else { return nil }
        let hertz = Int(sysconf(Int32(_SC_CLK_TCK)))
        let boot = Int(time(nil)) - Int(up)
        return boot + ticks / max(hertz, 1)
    }
}

enum PsCommand: Command {
    static let spec = CommandSpec(
        name: "ps",
        abstract: "List containers as Docker does: image, command, created, status with exit code, ports.",
        discussion: "Only running containers, unless -a. `swrun ls` is the LXC-style listing of the same containers.",
        options: [.init(short: "a", long: "all", value: nil, help: "Stopped containers too."),
                  .init(short: "q", long: "quiet", value: nil, help: "Names only."),
                  CommonOptions.format("text or json."),
                  CommonOptions.lxcPath])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let format = try OutputFormat(arguments.value("format"))
        let store = try arguments.store()
        let now = Int(time(nil))
        let containers = try store.names().map { ContainerOverview($0, store: store) }
            .filter { arguments.flag("all") || $0.status.state != .stopped }
        if arguments.flag("quiet") {
            for container in containers { print(container.name) }
            return 0
        }
        if format == .json {
            print(JSON.array(containers.map { container in
                .object([("name", .string(container.name)), ("image", .string(container.image)),
                         ("command", .array(container.command.map(JSON.string))),
                         ("created", container.created.map { .number($0) } ?? .null),
                         ("state", .string(container.status.state.name)), ("status", .string(container.statusText(now: now))),
                         ("exit_code", container.exit.map { .number(Int($0.code)) } ?? .null),
                         ("ports", .array(container.sidecar.ports.map { .string($0.description) }))])
            }).text)
            return 0
        }
        print(table(["NAME", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS"], containers.map { container in
            let command = container.command.joined(separator: " ")
            return [container.name, container.image, "\"" + (command.count > 20 ? String(command.prefix(19)) + "…" : command) + "\"",
                    container.created.map { ContainerOverview.duration(now - $0) + " ago" } ?? "-",
                    container.statusText(now: now), container.portsText(store: store)]
        }), terminator: "")
        return 0
    }
}

enum InspectCommand: Command {
    static let spec = CommandSpec(
        name: "inspect",
        abstract: "One JSON document per container: config, state, mounts, network, image (docker inspect).",
        options: [CommonOptions.lxcPath],
        arguments: [.init(name: "NAME", help: "A container's name.", repeats: true, completes: .container)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let store = try arguments.store()
        var documents: [JSON] = []
        for name in arguments.arguments {
            try store.requireExisting(name)
            documents.append(try document(ContainerOverview(name, store: store), store: store))
        }
        print(JSON.array(documents).text)
        return 0
    }

    static func document(_ container: ContainerOverview, store: ContainerStore) throws(SwrunError) -> JSON {
        let config = try store.config(of: container.name)
        let status = container.status
        let network = status.state == .running ? status.initPID.map(ContainerNetworkView.init(initPID:)) : nil
        let sidecar = container.sidecar
        let state: JSON = .object([
            ("Status", .string(status.state.name.lowercased())), ("Running", .bool(status.state != .stopped)),
            ("Paused", .bool(status.state == .frozen)), ("Pid", status.initPID.map { .number(Int($0)) } ?? .number(0)),
            ("ExitCode", .number(Int(container.exit?.code ?? 0))),
            ("FinishedAt", container.exit.map { .number($0.time) } ?? .null),
        ])
        let mounts: [JSON] = config.mountEntries.map { entry in
            .object([("Source", .string(entry.source)), ("Destination", .string("/" + entry.target.drop { $0 == "/" })),
                     ("Type", .string(entry.fsType)), ("Options", .string(entry.options.joined(separator: ",")))])
        }
        let user: String = config.initUid.map { uid in config.initGid.map { "\(uid):\($0)" } ?? String(uid) } ?? ""
        let environment: [JSON] = config.environment.map { entry in .string(entry.value.map { "\(entry.name)=\($0)" } ?? entry.name) }
        let command: [String] = sidecar.argv == nil ? config.initCmd ?? [] : sidecar.command
        let labels: [(String, JSON)] = sidecar.labels.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }
        let addresses: [String] = (network?.ipv4 ?? []) + (network?.ipv6 ?? [])
        let networks: [JSON] = config.networks.keys.sorted().map { index in
            let keys: [(String, JSON)] = (config.networks[index] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }
            return JSON.object(keys)
        }
        let configObject: JSON = .object([
            ("Hostname", .string(config.utsName ?? container.name)), ("User", .string(user)), ("Env", .array(environment)),
            ("Entrypoint", .array(sidecar.entrypoint.map(JSON.string))), ("Cmd", .array(command.map(JSON.string))),
            ("WorkingDir", .string(config.initCwd ?? "/")), ("Labels", .object(labels)),
            ("StopSignal", .string(config.haltSignal.map(Signals.name) ?? "")), ("StopTimeout", .number(sidecar.stopTimeoutOrDefault)),
        ])
        let hostConfig: JSON = .object([
            ("RestartPolicy", .string(sidecar.restart?.description ?? "no")),
            ("PortBindings", .array(sidecar.ports.map { .string($0.description) })),
            ("Dns", .array(sidecar.dnsServers.map(JSON.string))),
            ("ExtraHosts", .array(sidecar.extraHosts.map { .string($0.description) })),
            ("ReadonlyRootfs", .bool(config.rootfsFlags.set & MountOptions.readOnly != 0)),
        ])
        let settings: [JSON] = config.settings.map { .string("\($0.key) = \($0.value)") }
        return .object([
            ("Name", .string(container.name)),
            ("Path", .string(store.directory(of: container.name))),
            ("Created", container.created.map { .number($0) } ?? .null),
            ("Image", .string(container.image)),
            ("State", state),
            ("Config", configObject),
            ("HostConfig", hostConfig),
            ("Mounts", .array(mounts)),
            ("NetworkSettings", .object([("IPAddresses", .array(addresses.map(JSON.string))), ("Networks", .array(networks))])),
            ("LXC", .object([("config", .string(store.configPath(of: container.name))), ("settings", .array(settings))])),
        ])
    }
}
