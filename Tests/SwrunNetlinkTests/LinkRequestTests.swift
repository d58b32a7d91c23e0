import Testing
@testable import SwrunNetlink

@Suite struct LinkRequestTests {
    @Test func setUpMatchesTheGoldenPacket() {
        let golden: [UInt8] = [
            0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
            0x10, 0x00,             // nlmsg_type RTM_NEWLINK
            0x05, 0x00,             // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
            0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
            0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0 (the kernel)
            0x00, 0x00,             // ifi_family AF_UNSPEC, padding
            0x00, 0x00,             // ifi_type
            0x01, 0x00, 0x00, 0x00, // ifi_index 1 (lo in a new namespace)
            0x01, 0x00, 0x00, 0x00, // ifi_flags IFF_UP
            0x01, 0x00, 0x00, 0x00, // ifi_change IFF_UP
        ]
        #expect(LinkRequest.setUp(index: 1, sequence: 7).bytes == golden)
    }

    @Test func attributesArePaddedAndCounted() {
        var message = NetlinkMessage(type: 16, flags: 1, sequence: 1)
        message.appendAttribute(type: 3, payload: Array("eth0".utf8) + [0])
        // 16 header + 4 rtattr + 5 payload = 25, padded to 28
        #expect(message.bytes.count == 28)
        #expect(message.bytes[0] == 28)
        #expect(message.bytes[16] == 9) // rta_len counts the unpadded payload
        #expect(Array(message.bytes[25...]) == [0, 0, 0])
    }

    /// INT32_MIN trapped when negated (a fuzzer's input); a code that is no -errno is EPROTO.
    @Test(arguments: [(Int32(0), Int32(0)), (Int32(-1), Int32(1)), (Int32(-19), Int32(19)),
                      (Int32.min, Int32(71)), (Int32(5), Int32(71)), (Int32(-5000), Int32(71))])
    func errorReplyGivesTheErrno(raw: Int32, expected: Int32) {
        var reply = NetlinkMessage(type: Netlink.errorType, flags: 0, sequence: 7)
        reply.append(raw)
        let bytes = reply.bytes
        let decoded = bytes.withUnsafeBytes { NetlinkReply.errorNumber(in: $0) }
        #expect(decoded == expected)
    }

    @Test func aDatagramSplitsIntoItsMessages() {
        let first = LinkRequest.setUp(index: 1, sequence: 1).bytes
        let second = NetlinkMessage(type: 3, flags: 0, sequence: 2).bytes
        #expect(NetlinkReply.messages(in: (first + second)[...]) == [first, second])
        // A length past the end, or shorter than a header, ends the list; so do trailing bytes.
        var broken = first
        broken[0] = 0xff
        #expect(NetlinkReply.messages(in: (second + broken)[...]) == [second])
        #expect(NetlinkReply.messages(in: (second + [0x0f, 0, 0, 0] + [UInt8](repeating: 0, count: 12))[...]) == [second])
        #expect(NetlinkReply.messages(in: (second + [1, 2, 3])[...]) == [second])
        #expect(NetlinkReply.messages(in: [][...]).isEmpty)
        // An unpadded last message (length not a multiple of 4) is still whole.
        var odd = NetlinkMessage(type: 3, flags: 0, sequence: 3)
        odd.append(UInt8(9))
        #expect(NetlinkReply.messages(in: odd.bytes[...]) == [odd.bytes])
    }

    @Test func nonErrorReplyIsNotAnAck() {
        let bytes = LinkRequest.setUp(index: 1, sequence: 1).bytes
        #expect(bytes.withUnsafeBytes { NetlinkReply.errorNumber(in: $0) } == nil)
    }
}
