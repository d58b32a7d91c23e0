import Glibc

/// One address of a link, as `ip address show` prints it.
public struct InterfaceAddress: Sendable, Equatable, CustomStringConvertible {
    public var linkIndex: Int32
    public var family: UInt8        // AF_INET or AF_INET6
    public var address: [UInt8]     // 4 or 16 bytes
    public var prefixLength: UInt8
    public var scope: UInt8         // RT_SCOPE_UNIVERSE 0, LINK 253, HOST 254

    /// Reachable from other machines: not loopback, not link-local.
    public var isGlobal: Bool { scope == 0 }

    /// The address alone, "10.0.3.2" or "fd00::2".
    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let converted = address.withUnsafeBytes { inet_ntop(Int32(family), $0.baseAddress, &text, 64) }
        return converted == nil ? "?" : String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var ipv4: IPv4Network? { family == 2 ? IPv4Network(address: address, prefixLength: prefixLength) : nil }
}

/// `ip address show`: a dump request for every address of a family, and the decoding of
/// its RTM_NEWADDR answers.
public enum AddressDump {
    static let getAddress: UInt16 = 22  // RTM_GETADDR
    static let newAddress: UInt16 = 20  // RTM_NEWADDR
    public static let inet: UInt8 = 2    // AF_INET
    public static let inet6: UInt8 = 10  // AF_INET6

    /// RTM_GETADDR with NLM_F_DUMP for `family`.
    public static func request(family: UInt8, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage(type: getAddress, flags: Netlink.request | Netlink.dump, sequence: sequence)
        message.append(family)     // ifa_family
        message.append(UInt8(0))   // ifa_prefixlen
        message.append(UInt8(0))   // ifa_flags
        message.append(UInt8(0))   // ifa_scope
        message.append(Int32(0))   // ifa_index: all links
        return message
    }

    /// The address in an RTM_NEWADDR message (header included): the ifaddrmsg's family,
    /// prefix length, scope and index, and IFA_LOCAL (or IFA_ADDRESS when there is none).
    public static func address(in message: [UInt8]) -> InterfaceAddress? {
        guard message.count >= 24, UInt16(message[4]) | UInt16(message[5]) << 8 == newAddress else { return nil }
        let family = message[16]
        let size = family == inet ? 4 : family == inet6 ? 16 : 0
        guard size > 0 else { return nil }
        let index = Int32(bitPattern: NetlinkAttributes.u32(message, at: 20))
        var local: [UInt8]?, address: [UInt8]?
        for (type, payload) in NetlinkAttributes(message, from: 24) where payload.count == size {
            if type == 2 { local = payload }    // IFA_LOCAL
            if type == 1 { address = payload }  // IFA_ADDRESS
        }
        guard let bytes = local ?? address else { return nil }
        return InterfaceAddress(linkIndex: index, family: family, address: bytes, prefixLength: message[17], scope: message[19])
    }
}
