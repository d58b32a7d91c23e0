import CLinux
import Glibc
import SwrunSystem

/// Announcing an IPv4 address on a link (gratuitous ARP, RFC 5227's announcement): an ARP
/// request for the address itself, from it, broadcast. Neighbours that know the address
/// under another MAC address take the new one at once, where they would otherwise keep
/// sending to the old one until their cache entry expires.
public struct GratuitousARP {
    private let socket: Int32
    private let frames: [(index: Int32, frame: [UInt8])]

    /// The Ethernet frame: broadcast, ethertype ARP; Ethernet/IPv4, request, sender and target the address.
    public static func frame(mac: [UInt8], address: [UInt8]) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        return broadcast + mac + [0x08, 0x06]              // destination, source, ethertype ARP
            + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]   // Ethernet, IPv4, lengths 6 and 4, request
            + mac + address                                // sender
            + [UInt8](repeating: 0, count: 6) + address    // target: no MAC yet, the same address
    }

    /// A packet socket in the network namespace `namespacePath`, and a frame for each link
    /// (its name there, its MAC and IPv4 addresses). Links the namespace lacks are left out.
    public init(networkNamespace namespacePath: String, links: [(name: String, mac: [UInt8], address: [UInt8])]) throws(SwrunError) {
        (socket, frames) = try NetworkNamespace.entered(namespacePath) { () throws(SwrunError) in
            let fd = Glibc.socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { throw SwrunError.system("cannot open a packet socket in the container's network", Errno.current) }
            let frames = links.compactMap { link -> (Int32, [UInt8])? in
                let index = if_nametoindex(link.name)
                return index == 0 ? nil : (Int32(index), Self.frame(mac: link.mac, address: link.address))
            }
            return (fd, frames)
        }
    }

    /// Sends one announcement on each link; best effort (a link that is down drops it).
    public func send() {
        for (index, frame) in frames {
            var address = sockaddr_ll()
            address.sll_family = UInt16(AF_PACKET)
            address.sll_protocol = UInt16(0x0806).bigEndian
            address.sll_ifindex = index
            address.sll_halen = 6
            withUnsafeMutableBytes(of: &address.sll_addr) { for position in 0..<6 { $0[position] = 0xFF } }
            _ = frame.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(socket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
        }
    }

    public func close() { _ = Glibc.close(socket) }
}
