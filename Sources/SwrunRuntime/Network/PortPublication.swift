import SwrunSystem

/// A published port, as `docker run -p` takes it: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp].
/// With no host port (`-p 80`, `-p 127.0.0.1::80`) a free one is chosen at each start, as
/// Docker chooses its ephemeral ports; with no IP it is published on every host address.
/// Kept in the container's swrun.json: LXC has no key for it.
public struct PortPublication: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Proto: String, Sendable { case tcp, udp }

    /// The one host IPv4 address it is published on, 4 bytes; nil for all of them.
    public var hostAddress: [UInt8]?
    /// 0: a free port is chosen when the container starts.
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: Proto

    public init(hostAddress: [UInt8]? = nil, hostPort: UInt16, containerPort: UInt16, proto: Proto = .tcp) {
        precondition(hostAddress == nil || hostAddress?.count == 4, "an IPv4 address has 4 bytes")
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// One publication; a range is refused here (sidecar and state files hold single ones).
    public init(parsing text: String) throws(SwrunError) {
        let all = try Self.parse(text)
        guard all.count == 1, let only = all.first else {
            throw SwrunError(.invalidArgument, "'\(text)' is a range of ports, not one", hint: "write one port: -p 8080:80")
        }
        self = only
    }

    /// The publications of one `-p` value: one, or one a port of a range (`8080-8081:80-81`).
    public static func parse(_ text: String) throws(SwrunError) -> [PortPublication] {
        var body = Substring(text), proto = Proto.tcp
        if let slash = body.lastIndex(of: "/") {
            let name = String(body[body.index(after: slash)...])
            guard let parsed = Proto(rawValue: name) else {
                throw SwrunError(.invalidArgument, "'\(text)': '\(name)' is not a protocol swrun publishes", hint: "write /tcp or /udp, or nothing for tcp")
            }
            proto = parsed
            body = body[..<slash]
        }
        if body.contains("[") || body.split(separator: ":", omittingEmptySubsequences: false).count > 3 {
            throw SwrunError(.invalidArgument, "'\(text)': swrun publishes on IPv4 addresses only",
                             hint: "write IPV4:HOSTPORT:CONTAINERPORT, e.g. -p 127.0.0.1:8080:80, or leave the address out for all of them")
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let address = parts.count == 3 ? try hostAddress(parts[0], in: text) : nil
        let inside = try range(parts[parts.count - 1], in: text)
        let hostText = parts.count > 1 ? parts[parts.count - 2] : ""
        // IP::PORT, like PORT alone, leaves the host port to the start.
        guard !hostText.isEmpty else {
            return inside.map { PortPublication(hostAddress: address, hostPort: 0, containerPort: $0, proto: proto) }
        }
        let host = try range(hostText, in: text)
        guard host.count == inside.count else {
            throw SwrunError(.invalidArgument, "'\(text)': the host range has \(host.count) ports and the container's \(inside.count)",
                             hint: "give ranges of one length, as in -p 8080-8081:80-81, or leave the host ports out for free ones: -p 80-81")
        }
        return zip(host, inside).map { PortPublication(hostAddress: address, hostPort: $0, containerPort: $1, proto: proto) }
    }

    /// "80" or "80-82", ports 1 to 65535.
    private static func range(_ text: String, in whole: String) throws(SwrunError) -> ClosedRange<UInt16> {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
        guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil, low > 0, low <= high else {
            throw SwrunError(.invalidArgument, "'\(whole)' is not a port to publish",
                             hint: "write [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp] with ports 1 to 65535: -p 8080:80, -p 80, -p 127.0.0.1:8080:80, -p 53:53/udp, -p 8080-8081:80-81")
        }
        return low...high
    }

    /// An IPv4 address in dotted quads; 0.0.0.0 is every address, as for Docker.
    private static func hostAddress(_ text: String, in whole: String) throws(SwrunError) -> [UInt8]? {
        let bytes = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
        guard bytes.count == 4, bytes.allSatisfy({ $0 != nil }) else {
            throw SwrunError(.invalidArgument, "'\(whole)': '\(text)' is not an IPv4 address",
                             hint: "write the host address in dotted quads, as in -p 127.0.0.1:8080:80")
        }
        let address = bytes.compactMap { $0 }
        return address == [0, 0, 0, 0] ? nil : address
    }

    /// Whether both claim the same host port on some address.
    public func overlaps(_ other: PortPublication) -> Bool {
        proto == other.proto && hostPort == other.hostPort
            && (hostAddress == nil || other.hostAddress == nil || hostAddress == other.hostAddress)
    }

    /// "0.0.0.0" for every address.
    public var hostAddressText: String { (hostAddress ?? [0, 0, 0, 0]).map(String.init).joined(separator: ".") }

    /// As `-p` takes it, and as it parses back: "8080:80/tcp", "127.0.0.1:8080:80/tcp",
    /// "80/tcp" and "127.0.0.1::80/tcp" for a port chosen at start.
    public var description: String {
        let host = hostPort == 0 ? "" : String(hostPort)
        let prefix = hostAddress != nil ? "\(hostAddressText):\(host):" : (host.isEmpty ? "" : host + ":")
        return "\(prefix)\(containerPort)/\(proto.rawValue)"
    }

    /// As `docker port` prints it: "80/tcp -> 0.0.0.0:32768".
    public var dockerLine: String { "\(containerPort)/\(proto.rawValue) -> \(hostAddressText):\(hostPort)" }
}
