import SwrunNetlink

/// The addresses a running container has, read from inside its network namespace, as
/// lxc-ls and lxc-info show them: global ones only (no loopback, no link-local).
public struct ContainerAddresses: Equatable, Sendable {
    public var ipv4: [String] = []
    public var ipv6: [String] = []

    /// Empty when the namespace cannot be read (the container just stopped, or no root).
    public init(initPID: Int32) {
        guard let socket = try? NetlinkSocket(networkNamespace: "/proc/\(initPID)/ns/net") else { return }
        ipv4 = ((try? socket.addresses(family: AddressDump.inet)) ?? []).filter(\.isGlobal).map(\.description)
        ipv6 = ((try? socket.addresses(family: AddressDump.inet6)) ?? []).filter(\.isGlobal).map(\.description)
    }
}
