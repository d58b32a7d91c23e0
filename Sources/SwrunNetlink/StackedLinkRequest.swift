/// A link made on top of an existing one (its parent, `ip link add link PARENT`): it shares
/// the parent's wire, and the container gets it alone, with no host end to clean up (the
/// kernel removes it with the container's network namespace).
public enum StackedLink: Sendable, Equatable {
    /// Own MAC addresses on the parent (linux/if_link.h MACVLAN_MODE_*).
    case macvlan(MacvlanMode)
    /// The parent's MAC address, traffic sorted by IP address (IPVLAN_MODE_*, IPVLAN_F_*).
    case ipvlan(IPVlanMode, IPVlanIsolation)
    /// 802.1Q: frames on the parent tagged with this VLAN id.
    case vlan(id: UInt16)

    public enum MacvlanMode: UInt32, Sendable, CaseIterable {
        case `private` = 1, vepa = 2, bridge = 4, passthru = 8
    }

    public enum IPVlanMode: UInt16, Sendable, CaseIterable {
        case l2 = 0, l3 = 1, l3s = 2
    }

    public enum IPVlanIsolation: UInt16, Sendable, CaseIterable {
        case bridge = 0, `private` = 1, vepa = 2
    }

    /// IFLA_INFO_KIND.
    public var kind: String {
        switch self {
        case .macvlan: "macvlan"
        case .ipvlan: "ipvlan"
        case .vlan: "vlan"
        }
    }
}

extension LinkRequest {
    /// `ip link add link PARENT name NAME [address A] [mtu M] netns PID type macvlan mode M |
    /// ipvlan mode M ISOLATION | vlan id N`: made straight in the network namespace of
    /// process `namespacePID`, its parent (`parentIndex`) staying in ours.
    public static func createStacked(_ link: StackedLink, name: String, parentIndex: Int32, namespacePID: Int32,
                                     address: [UInt8]? = nil, mtu: UInt32? = nil, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: createFlags, sequence: sequence)
        message.appendLinkHeader()
        message.appendAttribute(type: LinkAttribute.name, string: name)
        message.appendAttribute(type: LinkAttribute.parent, u32: UInt32(bitPattern: parentIndex))
        if let address { message.appendAttribute(type: LinkAttribute.address, payload: address) }
        if let mtu { message.appendAttribute(type: LinkAttribute.mtu, u32: mtu) }
        message.appendAttribute(type: LinkAttribute.namespacePID, u32: UInt32(bitPattern: namespacePID))
        message.appendNested(type: LinkAttribute.linkInfo) { info in
            info.appendAttribute(type: LinkAttribute.infoKind, string: link.kind)
            info.appendNested(type: LinkAttribute.infoData) { data in
                switch link {
                case .macvlan(let mode):
                    data.appendAttribute(type: 1, u32: mode.rawValue)  // IFLA_MACVLAN_MODE
                case .ipvlan(let mode, let isolation):
                    data.appendAttribute(type: 1, u16: mode.rawValue)  // IFLA_IPVLAN_MODE
                    data.appendAttribute(type: 2, u16: isolation.rawValue)  // IFLA_IPVLAN_FLAGS
                case .vlan(let id):
                    data.appendAttribute(type: 1, u16: id)  // IFLA_VLAN_ID
                }
            }
        }
        return message
    }
}
