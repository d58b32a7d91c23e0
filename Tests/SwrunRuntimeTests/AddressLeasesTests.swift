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
        let directory = try lxcPath(containers: ["web", "db"])
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

    /// The bug of issue 17: a release walked another process's temporary file, locked it
    /// (leaving TEMP.lock behind) and failed once it was renamed away, keeping the lease.
    @Test func releaseReadsOnlyTablesAndClearsWhatKilledWritersLeft() throws {
        let directory = try lxcPath(containers: ["db"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let leases = directory + "/.swrun-leases"
        try FileManager.default.createDirectory(atPath: leases, withIntermediateDirectories: true)
        try write("10.0.3.2 web\n10.0.3.3 db\n", to: leases + "/br0")
        try write("10.0.3.2 web\n10.0.3.3 db\n10.0.3.4 new\n", to: leases + "/br0.swrun-tmp-4242-871788309")
        try write("", to: leases + "/br0.swrun-tmp-11678-871788309.lock")
        try write("", to: leases + "/br0.lock")
        try write("10.0.3.9 web\n", to: leases + "/not a link name")
        try AddressLeases(lxcPath: directory).release("web")
        #expect(try FileManager.default.contentsOfDirectory(atPath: leases).sorted() == ["br0", "not a link name"])
        #expect(try String(contentsOfFile: leases + "/br0", encoding: .utf8) == "10.0.3.3 db\n")
        #expect(try String(contentsOfFile: leases + "/not a link name", encoding: .utf8) == "10.0.3.9 web\n")
    }

    @Test func leasingLeavesNoLockFile() throws {
        let directory = try lxcPath(containers: ["web"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try AddressLeases(lxcPath: directory).lease(for: "web", on: "br0", bridgeAddress: bridge, requested: nil, key: "k")
        try AddressLeases(lxcPath: directory).release("web")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/.swrun-leases") == ["br0"])
    }

    /// A destroy killed between removing the directory and the release (or one whose release
    /// failed) left a lease nobody could clear: the next lease takes it back.
    @Test func aLeaseReclaimsTheAddressesOfContainersThatAreGone() throws {
        let directory = try lxcPath(containers: ["kept", "new"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/.swrun-leases", withIntermediateDirectories: true)
        try write("10.0.3.2 gone\n10.0.3.3 kept\n", to: directory + "/.swrun-leases/br0")
        let address = try AddressLeases(lxcPath: directory).lease(for: "new", on: "br0", bridgeAddress: bridge, requested: nil, key: "k")
        #expect(address == [10, 0, 3, 2])
        #expect(try String(contentsOfFile: directory + "/.swrun-leases/br0", encoding: .utf8) == "10.0.3.3 kept\n10.0.3.2 new\n")
    }

    @Test func aReleaseReclaimsTheAddressesOfContainersThatAreGone() throws {
        let directory = try lxcPath(containers: ["kept"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/.swrun-leases", withIntermediateDirectories: true)
        try write("10.0.3.2 gone\n10.0.3.3 kept\n10.0.3.4 web\n", to: directory + "/.swrun-leases/br0")
        try AddressLeases(lxcPath: directory).release("web")
        #expect(try String(contentsOfFile: directory + "/.swrun-leases/br0", encoding: .utf8) == "10.0.3.3 kept\n")
    }

    @Test(arguments: [
        ("lxcbr0", 40, LeaseFile.table),
        ("br-0.100", 0, .table),
        ("lxcbr0.swrun-tmp-11678-871788309", 20, .leftover),
        ("b.swrun-tmp-1-2", 0, .leftover),
        ("lxcbr0.swrun-tmp-11678-871788309.lock", 0, .leftover),
        ("lxcbr0.lock", 0, .leftover),
        ("br.lock", 14, .table),
        ("a name", 0, .foreign),
        ("sixteen-letters0", 0, .foreign),
    ])
    func filesInTheLeasesDirectory(name: String, size: Int, kind: LeaseFile) {
        #expect(LeaseFile(name: name, size: size) == kind)
    }

    /// LXCPATH with a directory for each of `containers`.
    func lxcPath(containers: [String]) throws -> String {
        let directory = NSTemporaryDirectory() + "swrun-leases-" + UUID().uuidString
        for name in containers { try FileManager.default.createDirectory(atPath: directory + "/" + name, withIntermediateDirectories: true) }
        if containers.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        return directory
    }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func swrunErrorOf(_ body: () throws(SwrunError) -> Void) -> SwrunError? {
        do { try body(); return nil } catch { return error }
    }
}
