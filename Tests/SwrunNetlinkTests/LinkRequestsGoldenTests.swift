import Testing
@testable import SwrunNetlink

/// The bytes `ip link add`, `ip address add` and `ip route add` would send, annotated.
@Suite struct LinkRequestsGoldenTests {
    @Test func vethWithItsPeerInAnotherNamespace() {
        let golden: [UInt8] = [
            0x68, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x06,  // nlmsghdr: len 104, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   seq 1, port 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: a new link
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x0A, 0x00, 0x03, 0x00, 0x76, 0x65, 0x74, 0x68,  // IFLA_IFNAME "veth0\0"
            0x30, 0x00, 0x00, 0x00,                          //   (padded to 4)
            0x3C, 0x00, 0x12, 0x00,                          // IFLA_LINKINFO, 60 bytes
            0x09, 0x00, 0x01, 0x00, 0x76, 0x65, 0x74, 0x68,  //   IFLA_INFO_KIND "veth\0"
            0x00, 0x00, 0x00, 0x00,
            0x2C, 0x00, 0x02, 0x00,                          //   IFLA_INFO_DATA, 44 bytes
            0x28, 0x00, 0x01, 0x00,                          //     VETH_INFO_PEER, 40 bytes
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //       ifinfomsg of the peer
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x09, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30,  //       IFLA_IFNAME "eth0\0"
            0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x13, 0x00, 0xD2, 0x04, 0x00, 0x00,  //       IFLA_NET_NS_PID 1234
        ]
        #expect(LinkRequest.createVeth(name: "veth0", peer: "eth0", peerNamespacePID: 1234, sequence: 1).bytes == golden)
    }

    @Test func vethOnABridgeAndUpInTheSameRequest() {
        let bytes = LinkRequest.createVeth(name: "veth0", peer: "eth0", master: 7, up: true, sequence: 1).bytes
        let header: [UInt8] = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg: family, type, index 0
            0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  //   ifi_flags IFF_UP, ifi_change IFF_UP
        ]
        #expect(Array(bytes[16..<32]) == header)
        let master: [UInt8] = [0x08, 0x00, 0x0A, 0x00, 0x07, 0x00, 0x00, 0x00]  // IFLA_MASTER 7, after IFLA_IFNAME
        #expect(Array(bytes[44..<52]) == master)
        #expect(bytes.count == 104 - 8 + 8, "the peer (no namespace here) loses IFLA_NET_NS_PID, the host end gains IFLA_MASTER")
    }

    @Test func vethWithAnMTUOnBothEndsAndTheContainerEndsAddress() {
        let bytes = LinkRequest.createVeth(name: "veth0", peer: "eth0", peerAddress: [0x00, 0x16, 0x3E, 0x01, 0x02, 0x03],
                                           mtu: 1400, sequence: 1).bytes
        let hostMTU: [UInt8] = [0x08, 0x00, 0x04, 0x00, 0x78, 0x05, 0x00, 0x00]  // IFLA_MTU 1400, after IFLA_IFNAME
        #expect(Array(bytes[44..<52]) == hostMTU)
        let peerTail: [UInt8] = [
            0x09, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30,  // IFLA_IFNAME "eth0\0"
            0x00, 0x00, 0x00, 0x00,
            0x0A, 0x00, 0x01, 0x00, 0x00, 0x16, 0x3E, 0x01,  // IFLA_ADDRESS 00:16:3e:01:02:03
            0x02, 0x03, 0x00, 0x00,                          //   (padded to 4)
            0x08, 0x00, 0x04, 0x00, 0x78, 0x05, 0x00, 0x00,  // IFLA_MTU 1400
        ]
        #expect(Array(bytes.suffix(peerTail.count)) == peerTail)
        #expect(bytes.count == 104 - 8 + 8 + 12 + 8)  // no netns attribute; the MTU twice and the address added
        #expect(bytes[0] == UInt8(bytes.count))
    }

    @Test func ipv6AddressWithoutDuplicateDetection() {
        let golden: [UInt8] = [
            0x40, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06,  // nlmsghdr: len 64, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   seq 5
            0x0A, 0x40, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,  // ifaddrmsg: AF_INET6, /64, IFA_F_NODAD, universe, link 3
            0x14, 0x00, 0x02, 0x00,                          // IFA_LOCAL fd00::5
            0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
            0x14, 0x00, 0x01, 0x00,                          // IFA_ADDRESS fd00::5
            0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
        ]
        #expect(AddressRequest.add(IPv6Network("fd00::5/64")!, index: 3, sequence: 5).bytes == golden)
    }

    @Test func ipv6DefaultRouteTakesTheFamilyFromTheGateway() {
        let bytes = RouteRequest.addDefault(via: IPv6Network("fd00::1")!.address, index: 3, sequence: 6).bytes
        #expect(bytes[16] == 10)                                       // rtm_family AF_INET6
        #expect(Array(bytes[28..<32]) == [0x14, 0x00, 0x05, 0x00])     // RTA_GATEWAY, 16 bytes
        #expect(Array(bytes.suffix(8)) == [0x08, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00])  // RTA_OIF 3, last
    }

    @Test(arguments: [("fd00::5/64", "fd00::5/64"), ("FD00:0:0::1", "fd00::1/128"), ("::1/129", nil), ("10.0.0.1/8", nil), ("fd00::g", nil)])
    func ipv6NetworksParse(text: String, shown: String?) {
        #expect(IPv6Network(text)?.description == shown)
    }

    @Test func bridge() {
        let bytes = LinkRequest.createBridge(name: "br0", sequence: 9).bytes
        #expect(bytes.count == 16 + 16 + 8 + 4 + 12)
        #expect(Array(bytes[40...]) == [0x10, 0x00, 0x12, 0x00, 0x0B, 0x00, 0x01, 0x00, 0x62, 0x72, 0x69, 0x64, 0x67, 0x65, 0x00, 0x00])
    }

    @Test(arguments: [
        (LinkRequest.Change.master(3), [UInt8]([0x08, 0x00, 0x0A, 0x00, 0x03, 0x00, 0x00, 0x00])),
        (LinkRequest.Change.namespace(pid: 4242), [UInt8]([0x08, 0x00, 0x13, 0x00, 0x92, 0x10, 0x00, 0x00])),
        (LinkRequest.Change.mtu(1400), [UInt8]([0x08, 0x00, 0x04, 0x00, 0x78, 0x05, 0x00, 0x00])),
    ])
    func changesCarryOneAttributeAfterTheLinksIndex(change: LinkRequest.Change, attribute: [UInt8]) {
        let bytes = LinkRequest.change(index: 7, change, sequence: 1).bytes
        #expect(Array(bytes[20..<24]) == [0x07, 0x00, 0x00, 0x00], "ifi_index")
        #expect(Array(bytes[32...]) == attribute)
    }

    @Test func ipv4Address() throws {
        let network = try #require(IPv4Network("10.0.3.5/24"))
        #expect(AddressRequest.add(network, index: 7, sequence: 2).bytes == [
            0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06,  // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x02, 0x18, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,  // ifaddrmsg: AF_INET, /24, index 7
            0x08, 0x00, 0x02, 0x00, 0x0A, 0x00, 0x03, 0x05,  // IFA_LOCAL 10.0.3.5
            0x08, 0x00, 0x01, 0x00, 0x0A, 0x00, 0x03, 0x05,  // IFA_ADDRESS 10.0.3.5
        ])
    }

    @Test func defaultRoute() {
        #expect(RouteRequest.addDefault(via: [10, 0, 3, 1], index: 7, sequence: 3).bytes == [
            0x2C, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06,  // len 44, RTM_NEWROUTE
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x02, 0x00, 0x00, 0x00, 0xFE, 0x03, 0x00, 0x01,  // rtmsg: AF_INET, /0, main table, boot, universe, unicast
            0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x05, 0x00, 0x0A, 0x00, 0x03, 0x01,  // RTA_GATEWAY 10.0.3.1
            0x08, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00, 0x00,  // RTA_OIF 7
        ])
    }

    @Test(arguments: [("10.0.3.5/24", true), ("10.0.3.5", true), ("10.0.3/24", false), ("10.0.3.256/24", false), ("10.0.3.5/33", false)])
    func ipv4NetworksParse(text: String, valid: Bool) {
        #expect((IPv4Network(text) != nil) == valid)
    }
}
