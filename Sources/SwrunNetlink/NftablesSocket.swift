import Glibc
import SwrunSystem

/// nftables over a NETLINK_NETFILTER socket.
extension NetlinkSocket {
    /// A NETLINK_NETFILTER socket in the calling process's network namespace.
    public static func netfilter() throws(SwrunError) -> NetlinkSocket {
        try NetlinkSocket(protocol: Nftables.netlinkProtocol)
    }

    /// A NETLINK_NETFILTER socket in the network namespace `namespacePath` (/proc/PID/ns/net,
    /// /run/netns/NAME), entered only while the socket is made.
    public static func netfilter(networkNamespace namespacePath: String) throws(SwrunError) -> NetlinkSocket {
        try NetlinkSocket(networkNamespace: namespacePath, protocol: Nftables.netlinkProtocol)
    }

    /// Sends `batch` in one sendmsg and reads every answer; if the kernel refused any of its
    /// messages, nothing was applied and the error names `what` and that message.
    public func apply(_ batch: NftablesBatch, what: @autoclosure () -> String) throws(SwrunError) {
        // Room for one ACK per message, so that none is dropped (and with it the outcome).
        var bufferSize = Int32(max(1 << 20, batch.messages.count * 2048))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        drainAnswers()

        let bytes = batch.bytes
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        if sent != bytes.count { throw SwrunError.system("cannot send the nftables batch to \(what())", Errno.current) }

        // The kernel handles the batch inside send(), so every answer is queued by now.
        let answers: [(sequence: UInt32, code: Int32)]
        do throws(SwrunError) { answers = try receiveAnswers() } catch {
            throw SwrunError.system("no complete netlink answer to \(what())", error.errno ?? Errno(rawValue: EPROTO))
        }
        if let refused = answers.first(where: { $0.code != 0 }) {
            let step = batch.step(sequence: refused.sequence) ?? "message \(refused.sequence)"
            throw SwrunError.system("cannot \(what()): the kernel refused to \(step)", Errno(rawValue: refused.code),
                                    hint: Self.nftablesHint(refused.code))
        }
        let expected = batch.messages.count - 2  // all but the batch's begin and end ask for an ACK
        if answers.count < expected {
            throw SwrunError.system("cannot \(what()): the kernel answered \(answers.count) of \(expected) nftables messages",
                                    Errno(rawValue: EPROTO))
        }
    }

    /// The NLMSG_ERROR answers queued on the socket (an ACK is one with code 0), in order.
    private func receiveAnswers() throws(SwrunError) -> [(sequence: UInt32, code: Int32)] {
        var answers: [(sequence: UInt32, code: Int32)] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return answers }
            if count < 0 { throw SwrunError.system("netlink", Errno.current) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(NetlinkAttributes.u32(buffer, at: offset))
                guard length >= 16, offset + length <= count else { break }
                let code = buffer.withUnsafeBytes { NetlinkReply.errorNumber(in: UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + length])) }
                if let code { answers.append((NetlinkAttributes.u32(buffer, at: offset + 8), code)) }
                offset += (length + 3) & ~3
            }
        }
    }

    /// Discards answers left over from an earlier request, so they are not taken for this one's.
    private func drainAnswers() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    private static func nftablesHint(_ code: Int32) -> String? {
        switch code {
        case ENOENT, EOPNOTSUPP, EAFNOSUPPORT:
            "the kernel may lack nftables NAT (CONFIG_NFT_NAT, CONFIG_NFT_MASQ, CONFIG_NFT_FIB_IPV4); `nft list ruleset` shows what it has"
        default:
            nil
        }
    }
}
