import SwrunConfig
import SwrunImages
import SwrunNetlink
import SwrunRuntime
import SwrunSystem

/// Docker's flags for what a new container is (`run` and `create`), read into a
/// ContainerCustomization. Every value is checked here, before anything is pulled or made.
enum ContainerOptions {
    static let options: [CommandSpec.Option] = [
        .init(short: "e", long: "env", value: "NAME[=VALUE]", help: "Set a variable (without a value: the host's).", repeats: true),
        .init(short: nil, long: "env-file", value: "FILE", help: "Set the variables of FILE's NAME=VALUE lines.", repeats: true, completes: .file),
        .init(short: "v", long: "volume", value: "SOURCE:TARGET[:ro]",
              help: "Bind a host path (absolute SOURCE) or a named volume (kept under the cache) at TARGET.", repeats: true),
        .init(short: nil, long: "mount", value: "type=bind|volume|tmpfs,...",
              help: "A mount as Docker writes it: type=, source=, target=, readonly, tmpfs-size=, tmpfs-mode=.", repeats: true),
        .init(short: nil, long: "tmpfs", value: "TARGET[:OPTIONS]", help: "A tmpfs at TARGET (nosuid,nodev, plus OPTIONS).", repeats: true),
        .init(short: "w", long: "workdir", value: "DIR", help: "The command's working directory (made if missing)."),
        .init(short: "u", long: "user", value: "USER[:GROUP]", help: "Run as USER: a name of the image's /etc/passwd or a uid."),
        .init(short: nil, long: "entrypoint", value: "PROGRAM", help: "Run PROGRAM instead of the image's entrypoint (\"\" for none)."),
        .init(short: nil, long: "hostname", value: "NAME", help: "The container's hostname (lxc.uts.name)."),
        .init(short: nil, long: "network", value: "none|host|bridge|BRIDGE",
              help: "No network but loopback, the host's, or a veth on the default or a named bridge with a leased address.",
              choices: ["none", "host", "bridge"]),
        .init(short: nil, long: "read-only", value: nil, help: "Mount the rootfs read-only (lxc.rootfs.options = ro)."),
        .init(short: nil, long: "cap-add", value: "CAP", help: "Keep a capability (NET_ADMIN, ALL).", repeats: true),
        .init(short: nil, long: "cap-drop", value: "CAP", help: "Drop a capability (NET_RAW, ALL).", repeats: true),
        .init(short: nil, long: "privileged", value: nil,
              help: "Every capability, every device node allowed, writable /proc/sys and /sys, nesting; see the discussion."),
        .init(short: nil, long: "ulimit", value: "NAME=SOFT[:HARD]", help: "A resource limit, e.g. nofile=1024:2048 (lxc.prlimit.NAME).", repeats: true),
        .init(short: nil, long: "dns", value: "ADDRESS", help: "A resolver for /etc/resolv.conf, instead of the host's.", repeats: true),
        .init(short: nil, long: "add-host", value: "NAME:ADDRESS", help: "A line for /etc/hosts.", repeats: true),
        .init(short: nil, long: "label", value: "KEY=VALUE", help: "A label, shown by inspect.", repeats: true),
        .init(short: nil, long: "restart", value: "POLICY", help: "no, on-failure[:N], always or unless-stopped: the monitor starts init again.",
              choices: ["no", "on-failure", "always", "unless-stopped"]),
        .init(short: nil, long: "stop-signal", value: "SIGNAL", help: "What `stop` sends first (default: the image's, else SIGTERM)."),
        .init(short: nil, long: "stop-timeout", value: "SECONDS", help: "How long `stop` waits before SIGKILL (default 10 for images)."),
        .init(short: nil, long: "pids-limit", value: "N", help: "Docker's name for --pids."),
        .init(short: nil, long: "platform", value: "OS/ARCH", help: "Only this host's platform, linux/\(ImageManifest.platform(machine: Architecture.hostMachine).architecture)."),
    ]

    /// What --privileged means here, for the help of run and create.
    static let privilegedNote = """
        --privileged keeps every capability, allows every device node in the device cgroup, mounts
        /proc/sys and /sys writable and allows nested containers. Unlike Docker's, it gives no host
        /dev (the container's /dev stays its own) and keeps swrun's seccomp filter, which only
        refuses calls that reach past the container (kexec, module loading, ...).
        """

    /// The flags of `arguments`, checked; `volumes` is where named volumes live.
    static func customization(_ arguments: ParsedArguments, volumes: String) throws(SwrunError) -> ContainerCustomization {
        var result = ContainerCustomization()
        for file in arguments.values("env-file") { result.environment += try environmentFile(file) }
        for variable in arguments.values("env") { result.environment.append(try environment(variable)) }
        for text in arguments.values("volume") { result.mounts.append(try volume(text, volumes: volumes)) }
        for text in arguments.values("mount") { result.mounts.append(try mount(text, volumes: volumes)) }
        for text in arguments.values("tmpfs") { result.mounts.append(try tmpfs(text)) }
        if let directory = arguments.value("workdir") {
            guard directory.hasPrefix("/") else {
                throw SwrunError(.invalidArgument, "-w \(directory): not an absolute path", hint: "for example -w /app")
            }
            result.workingDirectory = directory
        }
        if let user = arguments.value("user") {
            guard !user.isEmpty, !user.hasPrefix(":") else {
                throw SwrunError(.invalidArgument, "-u \(user): no user", hint: "give a name or a uid, optionally :GROUP: -u nobody, -u 1000:1000")
            }
            result.user = user
        }
        if let entrypoint = arguments.value("entrypoint") { result.entrypoint = entrypoint.isEmpty ? [] : [entrypoint] }
        if let hostname = arguments.value("hostname") {
            guard (1...64).contains(hostname.utf8.count), !hostname.contains(where: { $0 == " " || $0 == "/" }) else {
                throw SwrunError(.invalidArgument, "--hostname \(hostname): not a hostname", hint: "use up to 64 letters, digits, dots and dashes")
            }
            result.hostname = hostname
        }
        if let network = arguments.value("network") {
            guard !network.isEmpty, network.utf8.count <= 15, !network.contains("/") else {
                throw SwrunError(.invalidArgument, "--network \(network): not a network", hint: "use none, host, bridge, or the name of a bridge")
            }
            result.network = .init(parsing: network)
        }
        result.readOnlyRoot = arguments.flag("read-only")
        result.privileged = arguments.flag("privileged")
        result.addedCapabilities = try arguments.values("cap-add").map { text throws(SwrunError) in try capability(text, flag: "--cap-add") }
        result.droppedCapabilities = try arguments.values("cap-drop").map { text throws(SwrunError) in try capability(text, flag: "--cap-drop") }
        for text in arguments.values("ulimit") { result.resourceLimits.append(try resourceLimit(text)) }
        for server in arguments.values("dns") {
            guard IPv4Network(server)?.prefixLength == 32 || server.contains(":") else {
                throw SwrunError(.invalidArgument, "--dns \(server): not an IP address", hint: "for example --dns 10.0.3.1")
            }
            result.dnsServers.append(server)
        }
        result.extraHosts = try arguments.values("add-host").map { text throws(SwrunError) in try HostEntry(parsing: text) }
        for text in arguments.values("label") {
            let (key, value) = split(text)
            guard !key.isEmpty else { throw SwrunError(.invalidArgument, "--label \(text): no key", hint: "write --label KEY=VALUE") }
            result.labels[key] = value ?? ""
        }
        result.restart = try arguments.value("restart").map { text throws(SwrunError) in try RestartPolicy(parsing: text) }
        if let signal = arguments.value("stop-signal") {
            guard SignalNames.parse(signal) != nil else {
                throw SwrunError(.invalidArgument, "--stop-signal \(signal): not a signal", hint: "for example --stop-signal SIGQUIT")
            }
            result.stopSignal = signal
        }
        if let text = arguments.value("stop-timeout") {
            guard let seconds = Int(text), seconds >= 0 else {
                throw SwrunError(.invalidArgument, "--stop-timeout \(text): not a number of seconds", hint: "for example --stop-timeout 30")
            }
            result.stopTimeout = seconds
        }
        if let platform = arguments.value("platform") {
            let host = "linux/\(ImageManifest.platform(machine: Architecture.hostMachine).architecture)"
            guard platform == host || platform == "linux" else {
                throw SwrunError(.invalidArgument, "--platform \(platform): this host runs \(host) containers only",
                                 hint: "drop --platform, or use \(host); swrun does not emulate other machines")
            }
        }
        result.ports = try CommonOptions.publishedPorts(arguments)
        return result
    }

    /// NAME=VALUE, or NAME for the host's value (left out when the host has none, as Docker does).
    static func environment(_ text: String) throws(SwrunError) -> String {
        let (name, value) = split(text)
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw SwrunError(.invalidArgument, "-e \(text): not a variable", hint: "write -e NAME=VALUE, or -e NAME for the host's value")
        }
        return value.map { name + "=" + $0 } ?? name
    }

    static func environmentFile(_ path: String) throws(SwrunError) -> [String] {
        let text: String
        do { text = try FileSystem.readText(path) } catch {
            throw SwrunError(error.code, "--env-file \(path): cannot read it", errno: error.errno, hint: "give a file of NAME=VALUE lines")
        }
        var variables: [String] = []
        for line in text.split(separator: "\n").map({ String($0.trimmingPrefix(while: { $0 == " " || $0 == "\t" })) }) {
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            variables.append(try environment(line))
        }
        return variables
    }

    /// -v SOURCE:TARGET[:ro|rw]: an absolute SOURCE is a host path, else a volume's name.
    static func volume(_ text: String, volumes: String) throws(SwrunError) -> VolumeMount {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "write -v /host/path:/in/container[:ro] or -v NAME:/in/container"
        guard (2...3).contains(parts.count), !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw SwrunError(.invalidArgument, "-v \(text): not a volume", hint: usage)
        }
        var readOnly = false
        if parts.count == 3 {
            for option in parts[2].split(separator: ",") {
                switch option {
                case "ro": readOnly = true
                case "rw", "z", "Z": break
                default: throw SwrunError(.invalidArgument, "-v \(text): unknown option '\(option)'", hint: "use ro or rw")
                }
            }
        }
        return VolumeMount(source: try source(parts[0], volumes: volumes, flag: "-v"), target: parts[1], readOnly: readOnly)
    }

    /// --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=...][,tmpfs-mode=...]
    static func mount(_ text: String, volumes: String) throws(SwrunError) -> VolumeMount {
        var fields: [String: String] = [:]
        var readOnly = false
        for item in text.split(separator: ",") {
            let (key, value) = split(String(item))
            switch key {
            case "readonly", "ro": readOnly = value.map { $0 == "true" || $0 == "1" } ?? true
            case "type", "source", "src", "target", "destination", "dst", "tmpfs-size", "tmpfs-mode":
                guard let value, !value.isEmpty else {
                    throw SwrunError(.invalidArgument, "--mount \(text): \(key) needs a value", hint: "write \(key)=VALUE")
                }
                fields[key] = value
            default:
                throw SwrunError(.invalidArgument, "--mount \(text): unknown field '\(key)'",
                                 hint: "swrun reads type, source, target, readonly, tmpfs-size and tmpfs-mode")
            }
        }
        guard let target = fields["target"] ?? fields["destination"] ?? fields["dst"], target.hasPrefix("/") else {
            throw SwrunError(.invalidArgument, "--mount \(text): no absolute target", hint: "add target=/path/in/container")
        }
        let source = fields["source"] ?? fields["src"]
        switch fields["type"] ?? "volume" {
        case "bind":
            guard let source, source.hasPrefix("/") else {
                throw SwrunError(.invalidArgument, "--mount \(text): a bind needs an absolute source", hint: "add source=/host/path")
            }
            return VolumeMount(source: try self.source(source, volumes: volumes, flag: "--mount"), target: target, readOnly: readOnly)
        case "volume":
            guard let source, !source.hasPrefix("/") else {
                throw SwrunError(.invalidArgument, "--mount \(text): a volume needs a name as its source", hint: "add source=NAME, or use type=bind")
            }
            return VolumeMount(source: try self.source(source, volumes: volumes, flag: "--mount"), target: target, readOnly: readOnly)
        case "tmpfs":
            var options: [String] = []
            if let size = fields["tmpfs-size"] { options.append("size=" + size) }
            if let mode = fields["tmpfs-mode"] { options.append("mode=" + mode) }
            return VolumeMount(source: .tmpfs(options: options), target: target, readOnly: readOnly)
        case let other:
            throw SwrunError(.invalidArgument, "--mount \(text): type \(other) is not one swrun mounts", hint: "use type=bind, volume or tmpfs")
        }
    }

    /// --tmpfs TARGET[:OPTIONS]
    static func tmpfs(_ text: String) throws(SwrunError) -> VolumeMount {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let target = parts.first, target.hasPrefix("/") else {
            throw SwrunError(.invalidArgument, "--tmpfs \(text): no absolute target", hint: "for example --tmpfs /run:size=64m")
        }
        let options = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
        return VolumeMount(source: .tmpfs(options: options), target: target)
    }

    private static func source(_ text: String, volumes: String, flag: String) throws(SwrunError) -> VolumeMount.Source {
        if text.hasPrefix("/") {
            guard FileSystem.exists(text) else {
                throw SwrunError(.notFound, "\(flag) \(text): no such file or directory on the host", hint: "create it first, or use a named volume")
            }
            return .bind(text)
        }
        guard (try? ContainerName.validate(text)) != nil else {
            throw SwrunError(.invalidArgument, "\(flag) \(text): not a volume name", hint: "use letters, digits, '-', '_' and '.'; a host path must be absolute")
        }
        return .volume(name: text, directory: FileSystem.join(volumes, text))
    }

    private static func capability(_ text: String, flag: String) throws(SwrunError) -> String {
        if text.lowercased() == "all" { return "all" }
        guard let name = CapabilityNames.canonical(text) else {
            let near = Suggestions.closest(to: text.lowercased(), among: CapabilityNames.all)
            throw SwrunError(.invalidArgument, "\(flag) \(text): not a capability" + (near.map { "; did you mean \($0.uppercased())?" } ?? ""),
                             hint: "use the names of capabilities(7), e.g. NET_ADMIN, or ALL")
        }
        return name
    }

    private static func resourceLimit(_ text: String) throws(SwrunError) -> (name: String, value: String) {
        let (name, value) = split(text)
        do {
            _ = try ContainerConfig(settings: [ConfigSetting(key: "lxc.prlimit." + name, value: value ?? "",
                                                             location: ConfigLocation(file: "--ulimit", line: 1))])
        } catch {
            throw SwrunError(.invalidArgument, "--ulimit \(text): not a resource limit",
                             hint: "write NAME=SOFT[:HARD] with a name of prlimit(1), e.g. --ulimit nofile=1024:2048")
        }
        guard let value, !value.isEmpty else {
            throw SwrunError(.invalidArgument, "--ulimit \(text): no value", hint: "write NAME=SOFT[:HARD], e.g. --ulimit nofile=1024:2048")
        }
        return (name, value)
    }

    /// "KEY=VALUE" as (KEY, VALUE), "KEY" as (KEY, nil).
    static func split(_ text: String) -> (String, String?) {
        guard let equals = text.firstIndex(of: "=") else { return (text, nil) }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}
