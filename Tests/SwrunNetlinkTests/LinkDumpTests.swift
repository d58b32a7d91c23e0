import Testing
@testable import SwrunNetlink

/// `ip link show` over rtnetlink: the request, and an answer as the kernel writes it.
@Suite struct LinkDumpTests {
    @Test func theRequestAsksForEveryLink() {
        let golden: [UInt8] = [
            0x20, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01, 0x03,  // nlmsghdr: len 32, RTM_GETLINK, REQUEST|DUMP
            0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   seq 4
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: every link
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        #expect(LinkDump.request(sequence: 4).bytes == golden)
    }

    /// vsweb0 (index 7, up) on the bridge with index 3, a veth.
    static let answer: [UInt8] = [
        0x48, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00,  // nlmsghdr: len 72, RTM_NEWLINK, NLM_F_MULTI
        0x04, 0x00, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00,  // ifinfomsg: ARPHRD_ETHER, index 7
        0x43, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,  //   flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
        0x0B, 0x00, 0x03, 0x00, 0x76, 0x73, 0x77, 0x65,  // IFLA_IFNAME "vsweb0\0"
        0x62, 0x30, 0x00, 0x00,
        0x08, 0x00, 0x04, 0x00, 0xDC, 0x05, 0x00, 0x00,  // IFLA_MTU 1500 (skipped)
        0x08, 0x00, 0x0A, 0x00, 0x03, 0x00, 0x00, 0x00,  // IFLA_MASTER 3
        0x10, 0x00, 0x12, 0x80,                          // IFLA_LINKINFO, nested flag set
        0x09, 0x00, 0x01, 0x00, 0x76, 0x65, 0x74, 0x68,  //   IFLA_INFO_KIND "veth\0"
        0x00, 0x00, 0x00, 0x00,
    ]

    @Test func anAnswerGivesNameStateMasterAndKind() {
        #expect(LinkDump.link(in: Self.answer) == LinkInfo(index: 7, name: "vsweb0", isUp: true, master: 3, kind: "veth"))
    }

    @Test func aDownLinkWithoutMasterOrKind() {
        var down = Array(Self.answer.prefix(44))  // up to the name
        down[0] = 44
        down[24] = 0x02  // BROADCAST only
        #expect(LinkDump.link(in: down) == LinkInfo(index: 7, name: "vsweb0", isUp: false, master: nil, kind: nil))
        var address = down
        address[4] = 20  // RTM_NEWADDR is not a link
        #expect(LinkDump.link(in: address) == nil)
    }

    @Test func trafficComesFromStats64() {
        var message = Self.answer
        var stats = [UInt8](repeating: 0, count: 4 + 200)  // IFLA_STATS64: rtnl_link_stats64, 25 u64s
        stats[0] = 204; stats[2] = 23
        stats[4 + 16] = 0x10; stats[4 + 17] = 0x27        // rx_bytes 10000
        stats[4 + 24] = 0xE8; stats[4 + 25] = 0x03        // tx_bytes 1000
        message += stats
        message[0] = UInt8(message.count & 0xFF); message[1] = UInt8(message.count >> 8)
        let link = LinkDump.link(in: message)
        #expect(link?.receivedBytes == 10000 && link?.sentBytes == 1000)
        #expect(LinkDump.link(in: Self.answer)?.receivedBytes == 0)
    }
}
