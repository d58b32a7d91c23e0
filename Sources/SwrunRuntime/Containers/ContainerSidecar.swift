import SwrunImages
import SwrunJSON
import SwrunSystem

/// What a container needs that LXC has no key for, kept beside its config in
/// LXCPATH/NAME/swrun.json, so that the config stays one LXC itself reads: the image it
/// came from, the image's exact argv (lxc.init.cmd splits at spaces and cannot hold one), and
/// the ports published on the host (`-p`).
public struct ContainerSidecar: Equatable, Sendable {
    public static let fileName = "swrun.json"

    public var image: String?
    public var entrypoint: [String] = []
    public var command: [String] = []
    public var ports: [PortPublication] = []

    public init(image: String? = nil, entrypoint: [String] = [], command: [String] = [], ports: [PortPublication] = []) {
        self.image = image
        self.entrypoint = entrypoint
        self.command = command
        self.ports = ports
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
                                command: document["command"]?.array?.compactMap(\.string) ?? [], ports: ports)
    }

    public func write(to directory: String) throws(SwrunError) {
        var document: [String: JSONValue] = [
            "entrypoint": .array(entrypoint.map { .string($0) }),
            "command": .array(command.map { .string($0) }),
        ]
        if !ports.isEmpty { document["ports"] = .array(ports.map { .string($0.description) }) }
        if let image { document["image"] = .string(image) }
        try FileSystem.writeAtomically(directory + "/" + Self.fileName, JSONValue.object(document).serialized + "\n")
    }
}
