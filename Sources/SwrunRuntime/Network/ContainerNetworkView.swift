import SwrunNetlink

/// What a running container's network looks like from inside its namespace, as lxc-ls and
/// lxc-info show it: global addresses (no loopback, no link-local) and each link's traffic.
public struct ContainerNetworkView: Equatable, Sendable {
    public struct Link: Equatable, Sendable {
        public var name: String
        public var receivedBytes: UInt64
        public var sentBytes: UInt64
    }

    public var ipv4: [String] = []
    public var ipv6: [String] = []
    /// The container's links but lo, with traffic as the container sees it.
    public var links: [Link] = []

    /// Empty when the namespace cannot be read (the container just stopped, or no root).
    public init(initPID: Int32) {
        guard let socket = try? NetlinkSocket(networkNamespace: "/proc/\(initPID)/ns/net") else { return }
        ipv4 = ((try? socket.addresses(family: AddressDump.inet)) ?? []).filter(\.isGlobal).map(\.description)
        ipv6 = ((try? socket.addresses(family: AddressDump.inet6)) ?? []).filter(\.isGlobal).map(\.description)
        links = ((try? socket.links()) ?? []).filter { $0.name != "lo" }
            .map { Link(name: $0.name, receivedBytes: $0.receivedBytes, sentBytes: $0.sentBytes) }
    }
}
