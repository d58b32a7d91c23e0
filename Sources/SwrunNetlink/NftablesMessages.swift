/// Constants from linux/netfilter/nfnetlink.h and nf_tables.h, and the nfnetlink framing.
/// Layouts on top of NetlinkMessage's:
///   nfgenmsg (4 B): u8 family, u8 version, be16 resource id
/// nf_tables attributes carry their numbers big-endian (the kernel reads them with ntohl),
/// and nested ones carry NLA_F_NESTED, as nft sends them.
public enum Nftables {
    public static let netlinkProtocol: Int32 = 12  // NETLINK_NETFILTER
    static let subsystem: UInt16 = 10              // NFNL_SUBSYS_NFTABLES
    static let batchBegin: UInt16 = 0x10           // NFNL_MSG_BATCH_BEGIN (NLMSG_MIN_TYPE)
    static let batchEnd: UInt16 = 0x11             // NFNL_MSG_BATCH_END
    static let familyIPv4: UInt8 = 2               // NFPROTO_IPV4
    static let nestedFlag: UInt16 = 0x8000         // NLA_F_NESTED
    static let append: UInt16 = 0x800              // NLM_F_APPEND

    /// enum nf_tables_msg_types
    enum MessageType: UInt16 {
        case newTable = 0, deleteTable = 2, newChain = 3, newRule = 6
    }

    /// enum nft_table_attributes
    enum TableAttribute { static let name: UInt16 = 1, flags: UInt16 = 2 }
    /// enum nft_chain_attributes
    enum ChainAttribute { static let table: UInt16 = 1, name: UInt16 = 3, hook: UInt16 = 4, policy: UInt16 = 5, type: UInt16 = 7 }
    /// enum nft_hook_attributes
    enum HookAttribute { static let number: UInt16 = 1, priority: UInt16 = 2 }
    /// enum nft_rule_attributes
    enum RuleAttribute { static let table: UInt16 = 1, chain: UInt16 = 2, expressions: UInt16 = 4 }

    /// enum nf_inet_hooks (linux/netfilter.h)
    public enum Hook: UInt32, Sendable {
        case preRouting = 0, localOut = 3, postRouting = 4
    }

    static let acceptPolicy: UInt32 = 1  // NF_ACCEPT
}

extension NetlinkMessage {
    /// An nftables message: the header with type (NFNL_SUBSYS_NFTABLES << 8) | `type`, then an
    /// nfgenmsg for family ip, version 0, resource id 0.
    static func nftables(_ type: Nftables.MessageType, flags: UInt16, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Nftables.subsystem << 8 | type.rawValue, flags: flags, sequence: sequence)
        message.appendNfgenHeader(family: Nftables.familyIPv4, resourceID: 0)
        return message
    }

    /// NFNL_MSG_BATCH_BEGIN or _END: family unspecified, resource id the subsystem the batch is for.
    static func nftablesBatch(begin: Bool, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: begin ? Nftables.batchBegin : Nftables.batchEnd, flags: Netlink.request, sequence: sequence)
        message.appendNfgenHeader(family: 0, resourceID: Nftables.subsystem)
        return message
    }

    mutating func appendNfgenHeader(family: UInt8, resourceID: UInt16) {
        append(family)
        append(UInt8(0))                   // version NFNETLINK_V0
        append(UInt8(resourceID >> 8))     // res_id, big-endian
        append(UInt8(resourceID & 0xFF))
    }

    /// A u32 attribute in network byte order, as nf_tables reads them.
    mutating func appendAttribute(type: UInt16, be32 value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { appendAttribute(type: type, payload: Array($0)) }
    }

    /// A nested attribute flagged NLA_F_NESTED.
    mutating func appendNftNested(type: UInt16, _ body: (inout NetlinkMessage) -> Void) {
        appendNested(type: type | Nftables.nestedFlag, body)
    }
}
