/// Attribute numbers from linux/if_link.h and linux/veth.h.
enum LinkAttribute {
    static let address: UInt16 = 1         // IFLA_ADDRESS
    static let name: UInt16 = 3            // IFLA_IFNAME
    static let mtu: UInt16 = 4             // IFLA_MTU
    static let parent: UInt16 = 5          // IFLA_LINK
    static let master: UInt16 = 10         // IFLA_MASTER
    static let linkInfo: UInt16 = 18       // IFLA_LINKINFO
    static let namespacePID: UInt16 = 19   // IFLA_NET_NS_PID
    static let stats64: UInt16 = 23        // IFLA_STATS64
    static let infoKind: UInt16 = 1        // IFLA_INFO_KIND
    static let infoData: UInt16 = 2        // IFLA_INFO_DATA
    static let vethPeer: UInt16 = 1        // VETH_INFO_PEER
}

/// rtnetlink requests that make, change and remove links, as `ip link` would send them.
extension LinkRequest {
    static let createFlags = Netlink.request | Netlink.acknowledge | Netlink.create | Netlink.exclusive

    /// `ip link add NAME [mtu M] type veth peer name PEER [address A] [mtu M] [netns PID]`: both
    /// ends at once, the peer made straight in the network namespace of process `peerNamespacePID`.
    /// `master` (a bridge's index) and `up` apply to the host end (`name`) in the same
    /// request, as `ip link add ... master BR up` does: two round trips fewer per container.
    public static func createVeth(name: String, peer: String, peerNamespacePID: Int32? = nil,
                                  peerAddress: [UInt8]? = nil, mtu: UInt32? = nil,
                                  master: Int32? = nil, up: Bool = false, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: createFlags, sequence: sequence)
        message.appendLinkHeader(flags: up ? Netlink.interfaceUp : 0, change: up ? Netlink.interfaceUp : 0)
        message.appendAttribute(type: LinkAttribute.name, string: name)
        if let mtu { message.appendAttribute(type: LinkAttribute.mtu, u32: mtu) }
        if let master { message.appendAttribute(type: LinkAttribute.master, u32: UInt32(bitPattern: master)) }
        message.appendNested(type: LinkAttribute.linkInfo) { info in
            info.appendAttribute(type: LinkAttribute.infoKind, string: "veth")
            info.appendNested(type: LinkAttribute.infoData) { data in
                data.appendNested(type: LinkAttribute.vethPeer) { peerInfo in
                    peerInfo.appendLinkHeader()  // VETH_INFO_PEER holds an ifinfomsg, then attributes
                    peerInfo.appendAttribute(type: LinkAttribute.name, string: peer)
                    if let peerAddress { peerInfo.appendAttribute(type: LinkAttribute.address, payload: peerAddress) }
                    if let mtu { peerInfo.appendAttribute(type: LinkAttribute.mtu, u32: mtu) }
                    if let pid = peerNamespacePID { peerInfo.appendAttribute(type: LinkAttribute.namespacePID, u32: UInt32(bitPattern: pid)) }
                }
            }
        }
        return message
    }

    /// `ip link add NAME [address A] type bridge`.
    public static func createBridge(name: String, address: [UInt8]? = nil, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: createFlags, sequence: sequence)
        message.appendLinkHeader()
        message.appendAttribute(type: LinkAttribute.name, string: name)
        if let address { message.appendAttribute(type: LinkAttribute.address, payload: address) }
        message.appendNested(type: LinkAttribute.linkInfo) { info in
            info.appendAttribute(type: LinkAttribute.infoKind, string: "bridge")
        }
        return message
    }

    /// A change to an existing link: `ip link set dev INDEX master M | netns PID | name N | mtu M`.
    public enum Change: Sendable, Equatable {
        case master(Int32)
        case namespace(pid: Int32)
        case name(String)
        case mtu(UInt32)
    }

    public static func change(index: Int32, _ change: Change, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.appendLinkHeader(index: index)
        switch change {
        case .master(let master): message.appendAttribute(type: LinkAttribute.master, u32: UInt32(bitPattern: master))
        case .namespace(let pid): message.appendAttribute(type: LinkAttribute.namespacePID, u32: UInt32(bitPattern: pid))
        case .name(let name): message.appendAttribute(type: LinkAttribute.name, string: name)
        case .mtu(let mtu): message.appendAttribute(type: LinkAttribute.mtu, u32: mtu)
        }
        return message
    }

    /// `ip link set dev INDEX netns PID name NAME`: a link moved into the network namespace of
    /// process `pid`, renamed there in the same step (so no name clash can come between).
    public static func move(index: Int32, toNamespaceOf pid: Int32, name: String, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.appendLinkHeader(index: index)
        message.appendAttribute(type: LinkAttribute.namespacePID, u32: UInt32(bitPattern: pid))
        message.appendAttribute(type: LinkAttribute.name, string: name)
        return message
    }

    /// `ip link delete dev INDEX` (a veth takes its peer with it).
    public static func delete(index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.deleteLink, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.appendLinkHeader(index: index)
        return message
    }
}

/// An IPv4 address with its prefix length, "10.0.3.5/24".
public struct IPv4Network: Sendable, Equatable, CustomStringConvertible {
    public var address: [UInt8]
    public var prefixLength: UInt8

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4, parts[0].split(separator: ".", omittingEmptySubsequences: false).count == 4 else { return nil }
        let prefix = parts.count == 2 ? UInt8(parts[1]) : 32
        guard let prefix, prefix <= 32 else { return nil }
        address = octets
        prefixLength = prefix
    }

    public init?(address: [UInt8], prefixLength: UInt8) {
        guard address.count == 4, prefixLength <= 32 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    public var description: String { address.map(String.init).joined(separator: ".") + "/\(prefixLength)" }
}

/// Addresses and routes, as `ip address add` and `ip route add` send them.
public enum AddressRequest {
    /// `ip address add ADDRESS/PREFIX dev INDEX`: an ifaddrmsg (family AF_INET, prefix length,
    /// flags, scope, index), then IFA_LOCAL and IFA_ADDRESS.
    public static func add(_ network: IPv4Network, index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newAddress, flags: LinkRequest.createFlags, sequence: sequence)
        message.append(UInt8(2))             // ifa_family AF_INET
        message.append(network.prefixLength) // ifa_prefixlen
        message.append(UInt8(0))             // ifa_flags
        message.append(UInt8(0))             // ifa_scope RT_SCOPE_UNIVERSE
        message.append(index)                // ifa_index
        message.appendAttribute(type: 2, payload: network.address)  // IFA_LOCAL
        message.appendAttribute(type: 1, payload: network.address)  // IFA_ADDRESS
        return message
    }

    /// `ip -6 address add ADDRESS/PREFIX dev INDEX nodad`: usable at once, without the second
    /// of duplicate address detection (the address is the admin's choice, on a private bridge).
    public static func add(_ network: IPv6Network, index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newAddress, flags: LinkRequest.createFlags, sequence: sequence)
        message.append(UInt8(10))            // ifa_family AF_INET6
        message.append(network.prefixLength) // ifa_prefixlen
        message.append(UInt8(0x02))          // ifa_flags IFA_F_NODAD
        message.append(UInt8(0))             // ifa_scope RT_SCOPE_UNIVERSE
        message.append(index)                // ifa_index
        message.appendAttribute(type: 2, payload: network.address)  // IFA_LOCAL
        message.appendAttribute(type: 1, payload: network.address)  // IFA_ADDRESS
        return message
    }
}

public enum RouteRequest {
    /// `ip route add default via GATEWAY dev INDEX` (IPv4 or, for a 16-byte gateway, IPv6):
    /// an rtmsg for the main table, then RTA_GATEWAY and RTA_OIF.
    public static func addDefault(via gateway: [UInt8], index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newRoute, flags: LinkRequest.createFlags, sequence: sequence)
        message.append(UInt8(gateway.count == 16 ? 10 : 2))  // rtm_family AF_INET6 or AF_INET
        message.append(UInt8(0))    // rtm_dst_len: the default route
        message.append(UInt8(0))    // rtm_src_len
        message.append(UInt8(0))    // rtm_tos
        message.append(UInt8(254))  // rtm_table RT_TABLE_MAIN
        message.append(UInt8(3))    // rtm_protocol RTPROT_BOOT
        message.append(UInt8(0))    // rtm_scope RT_SCOPE_UNIVERSE
        message.append(UInt8(1))    // rtm_type RTN_UNICAST
        message.append(UInt32(0))   // rtm_flags
        message.appendAttribute(type: 5, payload: gateway)  // RTA_GATEWAY
        message.appendAttribute(type: 4, u32: UInt32(bitPattern: index))  // RTA_OIF
        return message
    }
}
