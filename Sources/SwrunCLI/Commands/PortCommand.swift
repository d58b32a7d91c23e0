import SwrunRuntime
import SwrunSystem

enum PortCommand: Command {
    static let spec = CommandSpec(
        name: "port",
        abstract: "List a running container's published ports (docker port).",
        discussion: """
        One line a port, as Docker prints them: CONTAINERPORT/PROTO -> HOSTADDRESS:HOSTPORT, with
        0.0.0.0 for every host address, and the host port that the start chose for -p PORT. With
        PORT, only the host side of that port, or an error when the container does not publish it.
        The ports are those published in the network namespace swrun runs in; a stopped container
        publishes none.
        Examples:  swrun port web
                   swrun port web 80/tcp
        """,
        options: [CommonOptions.name, CommonOptions.lxcPath],
        arguments: [.init(name: "CONTAINER", help: "The container, as -n names it.", optional: true, completes: .container),
                    .init(name: "PORT", help: "A container port, PORT or PORT/tcp or PORT/udp.", optional: true)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        var words = arguments.arguments
        guard let name = arguments.value("name") ?? (words.isEmpty ? nil : words.removeFirst()), words.count <= 1 else {
            throw SwrunError(.invalidArgument, "swrun port needs one container, as -n NAME or CONTAINER, and at most one PORT",
                             hint: "swrun port web, or swrun port web 80/tcp")
        }
        let wanted = try words.first.map(containerPort)
        let store = try arguments.store()
        try store.requireExisting(name)
        let ports = try store.publishedPorts(of: name).sorted {
            ($0.containerPort, $0.proto.rawValue, $0.hostAddressText, $0.hostPort) < ($1.containerPort, $1.proto.rawValue, $1.hostAddressText, $1.hostPort)
        }
        guard let (port, proto) = wanted else {
            for published in ports { print(published.dockerLine) }
            return 0
        }
        let matching = ports.filter { $0.containerPort == port && $0.proto == proto }
        guard !matching.isEmpty else {
            throw SwrunError(.notFound, "no public port '\(port)/\(proto.rawValue)' published for \(name)",
                             hint: "see its ports with `swrun port \(name)`; a stopped container publishes none")
        }
        for published in matching { print("\(published.hostAddressText):\(published.hostPort)") }
        return 0
    }

    /// "80", "80/tcp" or "53/udp".
    static func containerPort(_ text: String) throws(SwrunError) -> (UInt16, PortPublication.Proto) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let port = UInt16(parts[0]), port > 0,
              let proto = parts.count == 2 ? PortPublication.Proto(rawValue: String(parts[1])) : .tcp else {
            throw SwrunError(.invalidArgument, "'\(text)' is not a container port", hint: "write PORT, PORT/tcp or PORT/udp: swrun port web 80/tcp")
        }
        return (port, proto)
    }
}
