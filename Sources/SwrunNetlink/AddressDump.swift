/// `ip -4 address show`: a dump request for every IPv4 address, and the decoding of its
/// RTM_NEWADDR answers.
public enum AddressDump {
    static let getAddress: UInt16 = 22  // RTM_GETADDR
    static let newAddress: UInt16 = 20  // RTM_NEWADDR

    /// RTM_GETADDR with NLM_F_DUMP, for family AF_INET.
    public static func request(sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: getAddress, flags: Netlink.request | Netlink.dump, sequence: sequence)
        message.append(UInt8(2))   // ifa_family AF_INET
        message.append(UInt8(0))   // ifa_prefixlen
        message.append(UInt8(0))   // ifa_flags
        message.append(UInt8(0))   // ifa_scope
        message.append(Int32(0))   // ifa_index: all links
        return message
    }

    /// One IPv4 address of a link, from an RTM_NEWADDR message (header included): the
    /// ifaddrmsg's index and prefix length, and IFA_LOCAL (or IFA_ADDRESS when there is none).
    public static func ipv4Address(in message: [UInt8]) -> (linkIndex: Int32, network: IPv4Network)? {
        guard message.count >= 24, UInt16(message[4]) | UInt16(message[5]) << 8 == newAddress, message[16] == 2 else { return nil }
        let prefixLength = message[17]
        let index = Int32(bitPattern: UInt32(message[20]) | UInt32(message[21]) << 8 | UInt32(message[22]) << 16 | UInt32(message[23]) << 24)
        var local: [UInt8]?, address: [UInt8]?
        var offset = 24
        while offset + 4 <= message.count {
            let length = Int(UInt16(message[offset]) | UInt16(message[offset + 1]) << 8)
            let type = UInt16(message[offset + 2]) | UInt16(message[offset + 3]) << 8
            guard length >= 4, offset + length <= message.count else { break }
            if length == 8 && type == 2 { local = Array(message[offset + 4 ..< offset + 8]) }
            if length == 8 && type == 1 { address = Array(message[offset + 4 ..< offset + 8]) }
            offset += (length + 3) & ~3
        }
        guard let bytes = local ?? address, let network = IPv4Network(address: bytes, prefixLength: prefixLength) else { return nil }
        return (index, network)
    }
}
