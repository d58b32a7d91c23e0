import Glibc
import SwrunImages
import SwrunJSON
import SwrunNetlink
import SwrunSystem

/// What a container needs that LXC has no key for, kept beside its config in
/// LXCPATH/NAME/swrun.json, so that the config stays one LXC itself reads: the image it
/// came from, the image's exact argv (lxc.init.cmd splits at spaces and cannot hold one), and
/// the ports published on the host (`-p`), and the `swrun run --rm` it goes with.
public struct ContainerSidecar: Equatable, Sendable {
    public static let fileName = "swrun.json"

    public var image: String?
    public var entrypoint: [String] = []
    public var command: [String] = []
    public var ports: [PortPublication] = []
    /// --label KEY=VALUE.
    public var labels: [String: String] = [:]
    /// --stop-timeout: how long `stop` waits after the halt signal, when not told with -t.
    public var stopTimeout: Int?
    /// --restart: what the monitor does when the container's init ends.
    public var restart: RestartPolicy?
    /// --dns: the resolvers of /etc/resolv.conf, instead of the host's.
    public var dnsServers: [String] = []
    /// --add-host NAME:ADDRESS lines of /etc/hosts.
    public var extraHosts: [HostEntry] = []
    /// When the container was made (seconds since the epoch), for `ps` and `inspect`.
    public var created: Int?
    /// -w: the working directory is made when missing, as Docker makes it.
    public var makesWorkingDirectory = false
    /// The `swrun run --rm` process that created the container and destroys it when its
    /// command ends; should that process die first (kill -9), AbandonedRuns destroys it.
    public var removeWith: ProcessIdentity?

    public init(image: String? = nil, entrypoint: [String] = [], command: [String] = [], ports: [PortPublication] = [],
                removeWith: ProcessIdentity? = nil) {
        self.image = image
        self.entrypoint = entrypoint
        self.command = command
        self.ports = ports
        self.removeWith = removeWith
    }

    public init(_ run: ImageRunConfig, image: String) {
        self.init(image: image, entrypoint: run.entrypoint, command: run.command)
    }

    /// How long `stop` waits for a system container's init (lxc-stop's default), and for an
    /// application from an image (Docker's).
    public static let systemStopTimeout = 60
    public static let applicationStopTimeout = 10

    public var stopTimeoutOrDefault: Int {
        stopTimeout ?? (image != nil ? Self.applicationStopTimeout : Self.systemStopTimeout)
    }

    /// The image's own argv, as Docker runs it with no command given.
    public var argv: [String]? {
        let argv = entrypoint + command
        return argv.isEmpty ? nil : argv
    }

    /// The sidecar in `directory`; an empty one when there is none.
    public var isEmpty: Bool { self == ContainerSidecar() }

    public static func load(from directory: String) throws(SwrunError) -> ContainerSidecar {
        let path = directory + "/" + fileName
        guard FileSystem.exists(path) else { return ContainerSidecar() }
        let document: JSONValue
        do { document = try JSONValue(parsing: try FileSystem.readBytes(path)) } catch {
            throw SwrunError(.invalidConfig, "\(path) is not valid JSON: \(error)", hint: "fix or remove the file")
        }
        var ports: [PortPublication] = []
        for text in document["ports"]?.array?.compactMap(\.string) ?? [] {
            do { ports.append(try PortPublication(parsing: text)) } catch {
                throw SwrunError(.invalidConfig, "\(path): \(error.message)", hint: error.hint)
            }
        }
        var sidecar = ContainerSidecar(image: document["image"]?.string,
                                       entrypoint: document["entrypoint"]?.array?.compactMap(\.string) ?? [],
                                       command: document["command"]?.array?.compactMap(\.string) ?? [], ports: ports,
                                       removeWith: document["removeWith"].flatMap(processIdentity))
        for (key, value) in document["labels"]?.object ?? [:] { sidecar.labels[key] = value.string ?? "" }
        sidecar.stopTimeout = document["stop_timeout"]?.int
        if let text = document["restart"]?.string {
            do { sidecar.restart = try RestartPolicy(parsing: text) } catch {
                throw SwrunError(.invalidConfig, "\(path): restart: \(error.message)", hint: error.hint)
            }
        }
        sidecar.makesWorkingDirectory = document["make_working_directory"]?.bool ?? false
        sidecar.created = document["created"]?.int
        sidecar.dnsServers = document["dns"]?.array?.compactMap(\.string) ?? []
        sidecar.extraHosts = document["extra_hosts"]?.array?.compactMap { $0.string.flatMap { try? HostEntry(parsing: $0) } } ?? []
        return sidecar
    }

    /// {"pid": N, "startTime": N}; nil for anything else.
    private static func processIdentity(_ value: JSONValue) -> ProcessIdentity? {
        guard let pid = value["pid"]?.int.flatMap(pid_t.init(exactly:)), let start = value["startTime"]?.numberText.flatMap({ UInt64($0) }) else {
            return nil
        }
        return ProcessIdentity(pid: pid, startTime: start)
    }

    public func write(to directory: String) throws(SwrunError) {
        var document: [String: JSONValue] = [
            "entrypoint": .array(entrypoint.map { .string($0) }),
            "command": .array(command.map { .string($0) }),
        ]
        if !ports.isEmpty { document["ports"] = .array(ports.map { .string($0.description) }) }
        if let image { document["image"] = .string(image) }
        if !labels.isEmpty { document["labels"] = .object(labels.mapValues { .string($0) }) }
        if let stopTimeout { document["stop_timeout"] = .number(String(stopTimeout)) }
        if let restart { document["restart"] = .string(restart.description) }
        if makesWorkingDirectory { document["make_working_directory"] = .bool(true) }
        if let created { document["created"] = .number(String(created)) }
        if !dnsServers.isEmpty { document["dns"] = .array(dnsServers.map { .string($0) }) }
        if !extraHosts.isEmpty { document["extra_hosts"] = .array(extraHosts.map { .string($0.description) }) }
        if let removeWith {
            document["removeWith"] = .object(["pid": .number(String(removeWith.pid)), "startTime": .number(String(removeWith.startTime))])
        }
        try FileSystem.writeAtomically(directory + "/" + Self.fileName, JSONValue.object(document).serialized + "\n")
    }
}

/// Docker's --restart: whether the monitor starts the container's init again when it ends.
public enum RestartPolicy: Equatable, Sendable, CustomStringConvertible {
    case no
    /// After a non-zero exit, at most `limit` times (nil: without limit).
    case onFailure(limit: Int?)
    /// After any end not asked for by `stop`.
    case always
    /// As always; Docker tells the two apart across daemon restarts, which swrun has none of.
    case unlessStopped

    public init(parsing text: String) throws(SwrunError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first ?? "" {
        case "no" where parts.count == 1: self = .no
        case "always" where parts.count == 1: self = .always
        case "unless-stopped" where parts.count == 1: self = .unlessStopped
        case "on-failure":
            guard parts.count == 1 || Int(parts[1]).map({ $0 >= 0 }) == true else {
                throw SwrunError(.invalidArgument, "--restart \(text): the retry count is not a number", hint: "for example --restart on-failure:3")
            }
            self = .onFailure(limit: parts.count == 2 ? Int(parts[1]) : nil)
        default:
            throw SwrunError(.invalidArgument, "--restart \(text): not a restart policy",
                             hint: "use no, on-failure[:N], always or unless-stopped")
        }
    }

    /// Whether an init that ended with `status` (a shell exit code), after `restarts` restarts, starts again.
    public func restarts(after status: Int32, restarts: Int) -> Bool {
        switch self {
        case .no: false
        case .always, .unlessStopped: true
        case .onFailure(let limit): status != 0 && (limit.map { restarts < $0 } ?? true)
        }
    }

    public var description: String {
        switch self {
        case .no: "no"
        case .always: "always"
        case .unlessStopped: "unless-stopped"
        case .onFailure(let limit): "on-failure" + (limit.map { ":\($0)" } ?? "")
        }
    }
}

/// A line that --add-host puts in /etc/hosts: NAME:ADDRESS (IPv4 or IPv6).
public struct HostEntry: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var address: String

    public init(parsing text: String) throws(SwrunError) {
        // The name ends at the first colon: an IPv6 address has its own.
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw SwrunError(.invalidArgument, "--add-host \(text): expected NAME:ADDRESS", hint: "for example --add-host db:10.0.3.50")
        }
        name = String(text[..<colon])
        address = String(text[text.index(after: colon)...])
        guard IPv4Network(address) != nil || address.contains(":"), !name.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw SwrunError(.invalidArgument, "--add-host \(text): '\(address)' is not an IP address", hint: "for example --add-host db:10.0.3.50")
        }
    }

    public var description: String { "\(name):\(address)" }
}

extension ContainerStore {
    /// How long `stop` waits for container `name` by default.
    public func stopTimeout(of name: String) -> Int {
        ((try? ContainerSidecar.load(from: directory(of: name))) ?? ContainerSidecar()).stopTimeoutOrDefault
    }
}
