import Glibc
import SwrunSystem

/// The host's side of a published port: which ports it hands out when the start chooses
/// them, and whether the host can give a port to a container at all.
enum HostPorts {
    /// The host's ephemeral ports (net.ipv4.ip_local_port_range of this namespace).
    static func ephemeralRange() -> ClosedRange<UInt16> {
        let text = (try? FileSystem.readText("/proc/sys/net/ipv4/ip_local_port_range")) ?? ""
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt16($0) }
        guard bounds.count == 2, bounds[0] > 0, bounds[0] <= bounds[1] else { return 32768...60999 }
        return bounds[0]...bounds[1]
    }

    /// Why the host cannot give a port to a container.
    enum Problem {
        /// A socket of the host holds it: a forward would take its connections away.
        case held
        /// Its address is none of the host's: no connection would ever reach it.
        case notLocal

        func error(_ port: PortPublication, container: String) -> SwrunError {
            switch self {
            case .held:
                SwrunError(.busy, "cannot publish \(port) for container '\(container)': a process of the host listens on \(port.hostAddressText):\(port.hostPort)/\(port.proto.rawValue)",
                           hint: "choose another host port, or -p \(port.containerPort) for a free one")
            case .notLocal:
                SwrunError(.invalidArgument, "cannot publish \(port) for container '\(container)': \(port.hostAddressText) is not an address of this host",
                           hint: "publish on an address the host has (`ip -4 address`), or leave the address out for all of them")
            }
        }
    }

    /// What keeps the host from giving `port` to a container, found by binding to it, with
    /// SO_REUSEADDR so that connections closing there do not count; nil when nothing does.
    static func problem(_ port: PortPublication) -> Problem? {
        let type = port.proto == .tcp ? SOCK_STREAM : SOCK_DGRAM
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.hostPort.bigEndian
        let bytes = port.hostAddress ?? [0, 0, 0, 0]
        address.sin_addr.s_addr = (UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result != 0 else { return nil }
        switch errno {
        case EADDRINUSE: return .held
        case EADDRNOTAVAIL: return .notLocal
        default: return nil
        }
    }
}
