/// Netlink messages laid out byte by byte (no UAPI structs import into Swift).
/// Layouts, all little-endian host order:
///   nlmsghdr  (16 B): u32 length, u16 type, u16 flags, u32 sequence, u32 port id
///   ifinfomsg (16 B): u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change
///   rtattr     (4 B): u16 length, u16 type, then the payload padded to 4 bytes
public struct NetlinkMessage: Sendable, Equatable {
    public private(set) var bytes: [UInt8]

    /// Starts a message with its header; the length is patched as the body grows.
    public init(type: UInt16, flags: UInt16, sequence: UInt32) {
        bytes = []
        append(UInt32(16))
        append(type)
        append(flags)
        append(sequence)
        append(UInt32(0))
    }

    public mutating func append(_ value: UInt8) { bytes.append(value); patchLength() }
    public mutating func append(_ value: UInt16) { appendLittleEndian(value) }
    public mutating func append(_ value: UInt32) { appendLittleEndian(value) }
    public mutating func append(_ value: Int32) { appendLittleEndian(UInt32(bitPattern: value)) }

    /// Appends an rtattr holding `payload`, padded to a 4-byte boundary.
    public mutating func appendAttribute(type: UInt16, payload: [UInt8]) {
        append(UInt16(4 + payload.count))
        append(type)
        bytes.append(contentsOf: payload)
        while bytes.count % 4 != 0 { bytes.append(0) }
        patchLength()
    }

    /// Appends an rtattr whose payload is other attributes (or, for VETH_INFO_PEER, a header
    /// and attributes), written by `body`; its length is patched once they are in.
    public mutating func appendNested(type: UInt16, _ body: (inout NetlinkMessage) -> Void) {
        let start = bytes.count
        append(UInt16(0))
        append(type)
        body(&self)
        let length = UInt16(bytes.count - start).littleEndian
        withUnsafeBytes(of: length) { raw in
            bytes[start] = raw[0]
            bytes[start + 1] = raw[1]
        }
    }

    /// A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND).
    public mutating func appendAttribute(type: UInt16, string: String) {
        appendAttribute(type: type, payload: Array(string.utf8) + [0])
    }

    public mutating func appendAttribute(type: UInt16, u32 value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { appendAttribute(type: type, payload: Array($0)) }
    }

    public mutating func appendAttribute(type: UInt16, u16 value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { appendAttribute(type: type, payload: Array($0)) }
    }

    /// An ifinfomsg: family AF_UNSPEC, the link's index (0 for a new link), flags and the change mask.
    public mutating func appendLinkHeader(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) {
        append(UInt8(0))
        append(UInt8(0))
        append(UInt16(0))
        append(index)
        append(flags)
        append(change)
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        patchLength()
    }

    private mutating func patchLength() {
        guard bytes.count >= 4 else { return }
        let length = UInt32(bytes.count).littleEndian
        withUnsafeBytes(of: length) { raw in
            for index in 0..<4 { bytes[index] = raw[index] }
        }
    }
}

/// Constants from linux/netlink.h, linux/rtnetlink.h and linux/if.h.
public enum Netlink {
    public static let request: UInt16 = 0x01     // NLM_F_REQUEST
    public static let acknowledge: UInt16 = 0x04 // NLM_F_ACK
    public static let errorType: UInt16 = 2      // NLMSG_ERROR
    public static let newLink: UInt16 = 16       // RTM_NEWLINK
    public static let deleteLink: UInt16 = 17    // RTM_DELLINK
    public static let newAddress: UInt16 = 20    // RTM_NEWADDR
    public static let newRoute: UInt16 = 24      // RTM_NEWROUTE
    public static let create: UInt16 = 0x400     // NLM_F_CREATE
    public static let exclusive: UInt16 = 0x200  // NLM_F_EXCL
    public static let dump: UInt16 = 0x300       // NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH)
    public static let done: UInt16 = 3           // NLMSG_DONE
    public static let interfaceUp: UInt32 = 0x1  // IFF_UP
    public static let routeProtocol: Int32 = 0   // NETLINK_ROUTE
}

/// rtnetlink requests about network links.
public enum LinkRequest {
    /// RTM_NEWLINK on an existing link that sets IFF_UP (`ip link set dev INDEX up`).
    public static func setUp(index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.append(UInt8(0))            // ifi_family: AF_UNSPEC
        message.append(UInt8(0))            // padding
        message.append(UInt16(0))           // ifi_type
        message.append(index)               // ifi_index
        message.append(Netlink.interfaceUp) // ifi_flags
        message.append(Netlink.interfaceUp) // ifi_change: only IFF_UP changes
        return message
    }

    /// `sysctl net.ipv4.conf.DEV.arp_notify=1`, over rtnetlink: the link sends gratuitous ARP
    /// when it comes up (and when its address changes), so neighbours learn its MAC address
    /// at once rather than when their cache entries expire.
    public static func notifyNeighbours(index: Int32, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: Netlink.newLink, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.appendLinkHeader(index: index)
        message.appendNested(type: 26) { spec in               // IFLA_AF_SPEC
            spec.appendNested(type: 2) { inet in               //   AF_INET
                inet.appendNested(type: 1) { conf in           //     IFLA_INET_CONF
                    conf.appendAttribute(type: 22, u32: 1)     //       IPV4_DEVCONF_ARP_NOTIFY = 1
                }
            }
        }
        return message
    }
}

/// Reading the kernel's answers.
public enum NetlinkReply {
    /// The whole messages (header included) in one datagram, in order; stops at the first
    /// whose length does not fit what is left.
    public static func messages(in datagram: ArraySlice<UInt8>) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var offset = datagram.startIndex
        while datagram.endIndex - offset >= 16 {
            let length = Int(UInt32(datagram[offset]) | UInt32(datagram[offset + 1]) << 8
                             | UInt32(datagram[offset + 2]) << 16 | UInt32(datagram[offset + 3]) << 24)
            guard length >= 16, length <= datagram.endIndex - offset else { break }
            messages.append(Array(datagram[offset ..< offset + length]))
            offset += min((length + 3) & ~3, datagram.endIndex - offset)
        }
        return messages
    }

    /// 0 for an ACK, a positive errno for an error reply, nil when `reply` is not an NLMSG_ERROR.
    /// Works on a raw buffer and allocates nothing, so a forked child may call it.
    public static func errorNumber(in reply: UnsafeRawBufferPointer) -> Int32? {
        guard reply.count >= 20 else { return nil }
        let type = UInt16(reply[4]) | UInt16(reply[5]) << 8
        guard type == 2 else { return nil }  // NLMSG_ERROR, as a literal: callers run in a forked child
        let raw = UInt32(reply[16]) | UInt32(reply[17]) << 8 | UInt32(reply[18]) << 16 | UInt32(reply[19]) << 24
        // The kernel sends -errno; anything else (INT32_MIN, whose negation traps) is a broken reply.
        let code = 0 &- Int32(bitPattern: raw)
        return (0...4095).contains(code) ? code : 71  // EPROTO
    }
}
