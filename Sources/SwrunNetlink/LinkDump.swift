/// One network link, as `ip -d link show` prints it.
public struct LinkInfo: Sendable, Equatable {
    public var index: Int32
    public var name: String
    public var isUp: Bool
    /// The index of the bridge this link is a port of.
    public var master: Int32?
    /// IFLA_INFO_KIND: "bridge", "veth"...; nil for a physical link or lo.
    public var kind: String?
    /// Bytes received and sent, from IFLA_STATS64.
    public var receivedBytes: UInt64 = 0
    public var sentBytes: UInt64 = 0
}

/// `ip link show`: a dump request for every link, and the decoding of its RTM_NEWLINK answers.
public enum LinkDump {
    static let getLink: UInt16 = 18  // RTM_GETLINK

    public static func request(sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: getLink, flags: Netlink.request | Netlink.dump, sequence: sequence)
        message.appendLinkHeader()
        return message
    }

    /// The link in an RTM_NEWLINK message (header included).
    public static func link(in message: [UInt8]) -> LinkInfo? {
        guard message.count >= 32, UInt16(message[4]) | UInt16(message[5]) << 8 == Netlink.newLink else { return nil }
        let index = Int32(bitPattern: NetlinkAttributes.u32(message, at: 20))
        let flags = NetlinkAttributes.u32(message, at: 24)
        var info = LinkInfo(index: index, name: "", isUp: flags & Netlink.interfaceUp != 0)
        for (type, payload) in NetlinkAttributes(message, from: 32) {
            switch type {
            case LinkAttribute.name: info.name = NetlinkAttributes.string(payload)
            case LinkAttribute.master where payload.count == 4: info.master = Int32(bitPattern: NetlinkAttributes.u32(payload, at: 0))
            case LinkAttribute.stats64 where payload.count >= 32:  // rx_packets, tx_packets, rx_bytes, tx_bytes...
                info.receivedBytes = NetlinkAttributes.u64(payload, at: 16)
                info.sentBytes = NetlinkAttributes.u64(payload, at: 24)
            case LinkAttribute.linkInfo:
                for (innerType, inner) in NetlinkAttributes(payload, from: 0) where innerType == LinkAttribute.infoKind {
                    info.kind = NetlinkAttributes.string(inner)
                }
            default: break
            }
        }
        return info.name.isEmpty ? nil : info
    }
}

/// The attributes of a netlink message from `offset` on, as (type, payload) pairs; the
/// nested flag bit is dropped from the type. Stops at the first malformed one.
struct NetlinkAttributes: Sequence {
    let bytes: [UInt8]
    let start: Int

    init(_ bytes: [UInt8], from start: Int) {
        self.bytes = bytes
        self.start = start
    }

    func makeIterator() -> AnyIterator<(UInt16, [UInt8])> {
        var offset = start
        return AnyIterator {
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
            let type = (UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8) & 0x7FFF  // without NLA_F_NESTED
            guard length >= 4, offset + length <= bytes.count else { return nil }
            let payload = Array(bytes[offset + 4 ..< offset + length])
            offset += (length + 3) & ~3
            return (type, payload)
        }
    }

    static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        UInt64(u32(bytes, at: offset)) | UInt64(u32(bytes, at: offset + 4)) << 32
    }

    /// A NUL-terminated string attribute.
    static func string(_ payload: [UInt8]) -> String {
        String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }
}
