import SwrunNetlink
import SwrunSystem

extension NetworkLink {
    /// Settles the addresses before anything is made. On a bridge with an IPv4 address the
    /// container leases its address from the bridge's subnet (the configured one, or a free
    /// one, kept across restarts), and a container given no gateway routes through the
    /// bridge, as lxc-net's DHCP server would tell it; `auto` becomes the bridge's address.
    /// The default bridge (lxcbr0), when missing, is made first as `swrun net up` makes it,
    /// as lxc-net would have at boot; `note` hears what was done.
    mutating func settleAddresses(container name: String, lxcPath: String, note: (String) -> Void) throws(SwrunError) {
        guard let bridge else { return }  // parsing refuses auto without a link
        if bridge == HostBridge.defaultName && NetlinkSocket.index(of: bridge) == nil, let address = IPv4Network(HostBridge.defaultAddress) {
            do {
                let done = try HostBridge.up(bridge, address: address)
                note("lxc.net.\(index).link names \(bridge), the default bridge, which did not exist: " + done.joined(separator: ", ")
                     + ", as `swrun net up` does (`swrun net down` removes it)")
            } catch where error.errno == .fileExists && NetlinkSocket.index(of: bridge) != nil {
                // Another start made it meanwhile.
            }
        }
        guard let bridgeIndex = NetlinkSocket.index(of: bridge) else { throw missingBridge(bridge) }
        let socket = try NetlinkSocket()
        if ipv6Gateway == .bridgeAddress {
            guard let first = try socket.addresses(family: AddressDump.inet6).first(where: { $0.linkIndex == bridgeIndex && $0.isGlobal }) else {
                throw SwrunError(.invalidConfig, "lxc.net.\(index).ipv6.gateway: auto, but the bridge '\(bridge)' has no global IPv6 address",
                                 hint: "give the bridge one (ip -6 address add fd00::1/64 dev \(bridge)), or set the gateway's address")
            }
            ipv6Gateway = .address(first.address)
        }
        guard let bridgeAddress = try socket.ipv4Addresses(ofLink: bridgeIndex).first else {
            if gateway == .bridgeAddress {
                throw SwrunError(.invalidConfig, "lxc.net.\(index).ipv4.gateway: auto, but the bridge '\(bridge)' has no IPv4 address",
                                 hint: "give the bridge an address (ip address add 10.0.3.1/24 dev \(bridge)), or set the gateway's address")
            }
            return  // a bridge without an address: the container's own DHCP client, if any, configures it
        }
        let leased = try AddressLeases(lxcPath: lxcPath).lease(for: name, on: bridge, bridgeAddress: bridgeAddress,
                                                               requested: address?.address, key: "lxc.net.\(index).ipv4.address")
        if address == nil {
            address = IPv4Network(address: leased, prefixLength: bridgeAddress.prefixLength)
            if gateway == nil { gateway = .bridgeAddress }
        }
        if gateway == .bridgeAddress { gateway = .address(bridgeAddress.address) }
    }
}
