import Foundation
import Testing
import SwrunNetlink
import SwrunSystem
@testable import SwrunRuntime

/// Addresses leased from a bridge's subnet, with no DHCP server.
@Suite struct AddressLeasesTests {
    let bridge = IPv4Network("10.0.3.1/24")!

    func dotted(_ address: [UInt8]) -> String { address.map(String.init).joined(separator: ".") }

    @Test func fiftyContainersGetFiftyDistinctAddressesInTheSubnet() throws {
        var table = LeaseTable()
        let addresses = try (0..<50).map { number throws(LeaseError) in dotted(try table.assign("c\(number)", in: bridge, requested: nil)) }
        #expect(Set(addresses).count == 50)
        #expect(addresses.first == "10.0.3.2" && addresses.last == "10.0.3.51")
        #expect(!addresses.contains("10.0.3.1") && !addresses.contains("10.0.3.0"))
    }

    @Test func aContainerKeepsItsAddressAndAFreedOneIsReused() throws {
        var table = LeaseTable()
        let first = try table.assign("web", in: bridge, requested: nil)
        _ = try table.assign("db", in: bridge, requested: nil)
        #expect(try table.assign("web", in: bridge, requested: nil) == first)
        #expect(table.remove("web") && !table.remove("web"))
        #expect(try table.assign("cache", in: bridge, requested: nil) == first)
    }

    @Test func aRequestedAddressIsRecordedAndSkippedByAllocation() throws {
        var table = LeaseTable()
        #expect(try table.assign("web", in: bridge, requested: [10, 0, 3, 2]) == [10, 0, 3, 2])
        #expect(try table.assign("db", in: bridge, requested: nil) == [10, 0, 3, 3])
        #expect(table.text == "10.0.3.2 web\n10.0.3.3 db\n")
        #expect(try table.assign("web", in: bridge, requested: [10, 0, 3, 9]) == [10, 0, 3, 9])
        #expect(table.text == "10.0.3.3 db\n10.0.3.9 web\n")
    }

    @Test func badRequestsAreRefused() {
        var table = LeaseTable(text: "10.0.3.2 web\n")
        #expect(throws: LeaseError.heldBy("web")) { try table.assign("db", in: bridge, requested: [10, 0, 3, 2]) }
        #expect(throws: LeaseError.outsideSubnet(IPv4Network("10.0.3.0/24")!)) { try table.assign("db", in: bridge, requested: [10, 0, 4, 2]) }
        #expect(throws: LeaseError.outsideSubnet(IPv4Network("10.0.3.0/24")!)) { try table.assign("db", in: bridge, requested: [10, 0, 3, 255]) }
        #expect(throws: LeaseError.bridgeAddress) { try table.assign("db", in: bridge, requested: [10, 0, 3, 1]) }
        #expect(table.text == "10.0.3.2 web\n")
    }

    @Test func aFullSubnetSaysSo() throws {
        var table = LeaseTable()
        let small = IPv4Network("192.168.7.1/30")!  // hosts .1 (the bridge) and .2
        #expect(try table.assign("one", in: small, requested: nil) == [192, 168, 7, 2])
        #expect(throws: LeaseError.exhausted(IPv4Network("192.168.7.0/30")!)) { try table.assign("two", in: small, requested: nil) }
    }

    @Test func linesThatAreNotLeasesAreDropped() {
        #expect(LeaseTable(text: "10.0.3.2 web\ngarbage\n10.0.3.3/24 db\n\n10.0.3.4 a b\n").text == "10.0.3.2 web\n")
    }

    @Test func theFileSurvivesAndDestroyFreesItsLeases() throws {
        let directory = NSTemporaryDirectory() + "swrun-leases-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let leases = AddressLeases(lxcPath: directory)
        let web = try leases.lease(for: "web", on: "br0", bridgeAddress: bridge, requested: nil, key: "lxc.net.0.ipv4.address")
        _ = try leases.lease(for: "web", on: "br1", bridgeAddress: IPv4Network("10.1.0.1/16")!, requested: nil, key: "k")
        #expect(try leases.lease(for: "web", on: "br0", bridgeAddress: bridge, requested: nil, key: "k") == web)
        let error = swrunErrorOf { () throws(SwrunError) in _ = try leases.lease(for: "db", on: "br0", bridgeAddress: bridge, requested: web, key: "lxc.net.0.ipv4.address") }
        #expect(error?.message == "lxc.net.0.ipv4.address: the address is leased to the container 'web' on br0", "\(String(describing: error))")
        try leases.release("web")
        #expect(try String(contentsOfFile: directory + "/.swrun-leases/br0", encoding: .utf8) == "")
        #expect(try String(contentsOfFile: directory + "/.swrun-leases/br1", encoding: .utf8) == "")
    }

    func swrunErrorOf(_ body: () throws(SwrunError) -> Void) -> SwrunError? {
        do { try body(); return nil } catch { return error }
    }
}
