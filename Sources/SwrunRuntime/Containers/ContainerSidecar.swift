import Glibc
import SwrunImages
import SwrunJSON
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
        return ContainerSidecar(image: document["image"]?.string,
                                entrypoint: document["entrypoint"]?.array?.compactMap(\.string) ?? [],
                                command: document["command"]?.array?.compactMap(\.string) ?? [], ports: ports,
                                removeWith: document["removeWith"].flatMap(processIdentity))
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
        if let removeWith {
            document["removeWith"] = .object(["pid": .number(String(removeWith.pid)), "startTime": .number(String(removeWith.startTime))])
        }
        try FileSystem.writeAtomically(directory + "/" + Self.fileName, JSONValue.object(document).serialized + "\n")
    }
}
