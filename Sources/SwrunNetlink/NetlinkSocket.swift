import Glibc
import SwrunSystem

/// A NETLINK_ROUTE socket in the calling process's network namespace, for the parent's
/// requests: each one is sent with NLM_F_ACK and its answer read back.
public final class NetlinkSocket {
    let fd: Int32
    private var sequence: UInt32 = 1

    public init() throws(SwrunError) {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.routeProtocol)
        if fd < 0 { throw SwrunError.system("cannot open a netlink socket", Errno.current) }
    }

    deinit { close(fd) }

    public func nextSequence() -> UInt32 {
        sequence += 1
        return sequence
    }

    /// Sends `message` and waits for its ACK; a kernel error becomes a SwrunError naming `what`.
    public func request(_ message: NetlinkMessage, _ what: @autoclosure () -> String, hint: String? = nil) throws(SwrunError) {
        let bytes = message.bytes
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if sent != bytes.count { throw SwrunError.system("cannot send the netlink request to \(what())", Errno.current) }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw SwrunError.system("no netlink answer to \(what())", Errno.current) }
        let code = reply.withUnsafeBytes { NetlinkReply.errorNumber(in: UnsafeRawBufferPointer(rebasing: $0[0..<count])) } ?? EPROTO
        if code != 0 { throw SwrunError.system("cannot \(what())", Errno(rawValue: code), hint: hint) }
    }

    /// Sends a dump request and gathers its answers, each a whole message with its header,
    /// up to NLMSG_DONE; an error answer becomes a SwrunError naming `what`.
    public func dump(_ message: NetlinkMessage, _ what: @autoclosure () -> String) throws(SwrunError) -> [[UInt8]] {
        let bytes = message.bytes
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if sent != bytes.count { throw SwrunError.system("cannot send the netlink request to \(what())", Errno.current) }
        var messages: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { throw SwrunError.system("no netlink answer to \(what())", Errno.current) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(UInt32(buffer[offset]) | UInt32(buffer[offset + 1]) << 8 | UInt32(buffer[offset + 2]) << 16 | UInt32(buffer[offset + 3]) << 24)
                guard length >= 16, offset + length <= count else { break }
                let one = Array(buffer[offset ..< offset + length])
                let type = UInt16(one[4]) | UInt16(one[5]) << 8
                if type == Netlink.done { return messages }
                if let code = one.withUnsafeBytes({ NetlinkReply.errorNumber(in: $0) }), code != 0 {
                    throw SwrunError.system("cannot \(what())", Errno(rawValue: code))
                }
                messages.append(one)
                offset += (length + 3) & ~3
            }
        }
    }

    /// The IPv4 addresses of the link `index`, in the kernel's order.
    public func ipv4Addresses(ofLink index: Int32) throws(SwrunError) -> [IPv4Network] {
        try dump(AddressDump.request(sequence: nextSequence()), "list the IPv4 addresses")
            .compactMap(AddressDump.ipv4Address(in:)).filter { $0.linkIndex == index }.map(\.network)
    }

    /// The index of the link called `name` in this namespace, or nil.
    public static func index(of name: String) -> Int32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : Int32(index)
    }
}
