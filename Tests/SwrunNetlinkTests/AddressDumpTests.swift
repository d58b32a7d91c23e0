import Testing
@testable import SwrunNetlink

/// `ip address show` over rtnetlink: the request, and an answer as the kernel writes it.
@Suite struct AddressDumpTests {
    @Test func theRequestAsksForEveryIPv4Address() {
        let golden: [UInt8] = [
            0x18, 0x00, 0x00, 0x00, 0x16, 0x00, 0x01, 0x03,  // nlmsghdr: len 24, RTM_GETADDR, REQUEST|DUMP
            0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   seq 7, port 0
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifaddrmsg: AF_INET, every link
        ]
        #expect(AddressDump.request(family: AddressDump.inet, sequence: 7).bytes == golden)
    }

    /// 10.99.0.1/24 on link 5, with the attributes a 6.x kernel adds around it.
    static let answer: [UInt8] = [
        0x4C, 0x00, 0x00, 0x00, 0x14, 0x00, 0x02, 0x00,  // nlmsghdr: len 76, RTM_NEWADDR, NLM_F_MULTI
        0x07, 0x00, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00,  //   seq 7, port 12345
        0x02, 0x18, 0x80, 0x00, 0x05, 0x00, 0x00, 0x00,  // ifaddrmsg: AF_INET, /24, PERMANENT, universe, link 5
        0x08, 0x00, 0x01, 0x00, 0x0A, 0x63, 0x00, 0x01,  // IFA_ADDRESS 10.99.0.1
        0x08, 0x00, 0x02, 0x00, 0x0A, 0x63, 0x00, 0x01,  // IFA_LOCAL 10.99.0.1
        0x08, 0x00, 0x04, 0x00, 0x0A, 0x63, 0x00, 0xFF,  // IFA_BROADCAST 10.99.0.255
        0x08, 0x00, 0x03, 0x00, 0x62, 0x72, 0x30, 0x00,  // IFA_LABEL "br0"
        0x08, 0x00, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00,  // IFA_FLAGS
        0x0C, 0x00, 0x0B, 0x00, 0x01, 0x00, 0x00, 0x00,  // IFA_RT_PRIORITY (12 bytes, skipped)
        0x00, 0x00, 0x00, 0x00,
    ]

    @Test func anAnswerGivesTheLinkAndItsAddress() {
        let decoded = AddressDump.address(in: Self.answer)
        #expect(decoded?.linkIndex == 5 && decoded?.scope == 0 && decoded?.isGlobal == true)
        #expect(decoded?.description == "10.99.0.1")
        #expect(decoded?.ipv4?.description == "10.99.0.1/24")
    }

    @Test func otherMessagesAreNotAddresses() {
        var link = Self.answer
        link[4] = 0x10  // RTM_NEWLINK
        #expect(AddressDump.address(in: link) == nil)
        var inet6 = Self.answer
        inet6[16] = 10  // AF_INET6, but 4-byte attributes: no address of that family in it
        #expect(AddressDump.address(in: inet6) == nil)
        #expect(AddressDump.address(in: Array(Self.answer.prefix(20))) == nil)
    }

    /// fd00::2/64 on link 3, with an ifaddrmsg of scope link for fe80::1.
    @Test func anIPv6AnswerAndItsScope() {
        var message: [UInt8] = [
            0x2C, 0x00, 0x00, 0x00, 0x14, 0x00, 0x02, 0x00,  // nlmsghdr: len 44, RTM_NEWADDR
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x0A, 0x40, 0x80, 0x00, 0x03, 0x00, 0x00, 0x00,  // ifaddrmsg: AF_INET6, /64, PERMANENT, universe, link 3
            0x14, 0x00, 0x01, 0x00,                          // IFA_ADDRESS, 20 bytes
            0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        ]
        #expect(AddressDump.address(in: message)?.description == "fd00::2")
        #expect(AddressDump.address(in: message)?.ipv4 == nil)
        message[19] = 253  // RT_SCOPE_LINK
        #expect(AddressDump.address(in: message)?.isGlobal == false)
    }
}
