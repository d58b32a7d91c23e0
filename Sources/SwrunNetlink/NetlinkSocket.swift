import CLinux
import Glibc
import SwrunSystem

/// A NETLINK_ROUTE socket in the calling process's network namespace, for the parent's
/// requests: each one is sent with NLM_F_ACK and its answer read back.
public final class NetlinkSocket {
    let fd: Int32
    private var sequence: UInt32 = 1

    public convenience init() throws(SwrunError) {
        self.init(fd: try Self.openRouteSocket())
    }

    /// A socket in the network namespace `namespacePath` (/proc/PID/ns/net): the calling
    /// thread enters it just long enough to make the socket, which stays bound to it.
    public convenience init(networkNamespace namespacePath: String) throws(SwrunError) {
        try self.init(networkNamespace: namespacePath, protocol: Netlink.routeProtocol)
    }

    /// A socket of the netlink family `netlinkProtocol` (NETLINK_ROUTE, NETLINK_NETFILTER) in
    /// the calling process's network namespace.
    public convenience init(protocol netlinkProtocol: Int32) throws(SwrunError) {
        self.init(fd: try Self.openSocket(protocol: netlinkProtocol))
    }

    /// A socket of the netlink family `netlinkProtocol` in the network namespace `namespacePath`.
    public convenience init(networkNamespace namespacePath: String, protocol netlinkProtocol: Int32) throws(SwrunError) {
        self.init(fd: try NetworkNamespace.entered(namespacePath) { () throws(SwrunError) in try Self.openSocket(protocol: netlinkProtocol) })
    }

    private init(fd: Int32) {
        self.fd = fd
    }

    private static func openRouteSocket() throws(SwrunError) -> Int32 {
        try openSocket(protocol: Netlink.routeProtocol)
    }

    private static func openSocket(protocol netlinkProtocol: Int32) throws(SwrunError) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        if fd < 0 { throw SwrunError.system("cannot open a netlink socket", Errno.current) }
        return fd
    }

    deinit { close(fd) }

    public func nextSequence() -> UInt32 {
        sequence += 1
        return sequence
    }

    /// Sends `message` and waits for its ACK; a kernel error becomes a SwrunError naming `what`.
    public func request(_ message: NetlinkMessage, _ what: @autoclosure () -> String, hint: String? = nil) throws(SwrunError) {
        try send(message, what())
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw SwrunError.system("no netlink answer to \(what())", Errno.current) }
        let code = reply.withUnsafeBytes { NetlinkReply.errorNumber(in: UnsafeRawBufferPointer(rebasing: $0[0..<count])) } ?? EPROTO
        if code != 0 { throw SwrunError.system("cannot \(what())", Errno(rawValue: code), hint: hint) }
    }

    /// Sends a dump request and gathers its answers, each a whole message with its header,
    /// up to NLMSG_DONE; an error answer becomes a SwrunError naming `what`.
    public func dump(_ message: NetlinkMessage, _ what: @autoclosure () -> String) throws(SwrunError) -> [[UInt8]] {
        try send(message, what())
        var messages: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { throw SwrunError.system("no netlink answer to \(what())", Errno.current) }
            for one in NetlinkReply.messages(in: buffer[0..<count]) {
                let type = UInt16(one[4]) | UInt16(one[5]) << 8
                if type == Netlink.done { return messages }
                if let code = one.withUnsafeBytes({ NetlinkReply.errorNumber(in: $0) }), code != 0 {
                    throw SwrunError.system("cannot \(what())", Errno(rawValue: code))
                }
                messages.append(one)
            }
        }
    }

    /// Every address of `family` in the socket's namespace, in the kernel's order.
    public func addresses(family: UInt8) throws(SwrunError) -> [InterfaceAddress] {
        try dump(AddressDump.request(family: family, sequence: nextSequence()), "list the addresses")
            .compactMap(AddressDump.address(in:)).filter { $0.family == family }
    }

    /// Every link in the socket's namespace.
    public func links() throws(SwrunError) -> [LinkInfo] {
        try dump(LinkDump.request(sequence: nextSequence()), "list the links").compactMap(LinkDump.link(in:))
    }

    /// The IPv4 addresses of the link `index`, in the kernel's order.
    public func ipv4Addresses(ofLink index: Int32) throws(SwrunError) -> [IPv4Network] {
        try addresses(family: AddressDump.inet).filter { $0.linkIndex == index }.compactMap(\.ipv4)
    }

    private func send(_ message: NetlinkMessage, _ what: @autoclosure () -> String) throws(SwrunError) {
        let bytes = message.bytes
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        if sent != bytes.count { throw SwrunError.system("cannot send the netlink request to \(what())", Errno.current) }
    }

    /// The index of the link called `name` in this namespace, or nil.
    public static func index(of name: String) -> Int32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : Int32(index)
    }
}
