import SwrunSystem

/// A published port, as `docker run -p` takes it: HOSTPORT:CONTAINERPORT[/tcp|/udp], or one
/// PORT for both. Kept in the container's swrun.json: LXC has no key for it.
public struct PortPublication: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Proto: String, Sendable { case tcp, udp }

    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: Proto

    public init(hostPort: UInt16, containerPort: UInt16, proto: Proto = .tcp) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    public init(parsing text: String) throws(SwrunError) {
        let bad = SwrunError(.invalidArgument, "'\(text)' is not a port to publish",
                             hint: "write HOSTPORT:CONTAINERPORT, optionally /tcp or /udp: -p 8080:80, -p 53:53/udp")
        var body = Substring(text)
        var proto = Proto.tcp
        if let slash = body.lastIndex(of: "/") {
            guard let parsed = Proto(rawValue: String(body[body.index(after: slash)...])) else { throw bad }
            proto = parsed
            body = body[..<slash]
        }
        let ports = body.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0) }
        guard (1...2).contains(ports.count), let host = ports.first ?? nil, let inside = ports.last ?? nil, host > 0, inside > 0 else {
            if body.split(separator: ":").count == 3 {
                throw SwrunError(.invalidArgument, "'\(text)': swrun publishes on every host address; it takes no IP part",
                                 hint: "write HOSTPORT:CONTAINERPORT")
            }
            throw bad
        }
        self.init(hostPort: host, containerPort: inside, proto: proto)
    }

    public var description: String { "\(hostPort):\(containerPort)/\(proto.rawValue)" }
}
