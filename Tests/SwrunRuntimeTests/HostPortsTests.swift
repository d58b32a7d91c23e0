import Glibc
import Foundation
import Testing
@testable import SwrunRuntime

/// Whether the host can give a port to a container, found by binding to it (no traffic).
@Suite struct HostPortsTests {
    /// A TCP socket listening on 127.0.0.1 at a port the kernel chose, and that port.
    func listener() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test func aPortAHostSocketListensOnIsHeld() throws {
        let (fd, port) = try listener()
        defer { close(fd) }
        #expect(HostPorts.problem(PortPublication(hostAddress: [127, 0, 0, 1], hostPort: port, containerPort: 80)) == .held)
        #expect(HostPorts.problem(PortPublication(hostPort: port, containerPort: 80)) == .held)  // every address takes 127.0.0.1's too
        #expect(HostPorts.problem(PortPublication(hostAddress: [127, 0, 0, 1], hostPort: port, containerPort: 80, proto: .udp)) == nil)
    }

    @Test(.enabled(if: (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_nonlocal_bind", encoding: .utf8)) == "0\n",
                   "with ip_nonlocal_bind, any address binds"))
    func anAddressTheHostLacksIsNotLocal() {
        #expect(HostPorts.problem(PortPublication(hostAddress: [192, 0, 2, 7], hostPort: 8080, containerPort: 80)) == .notLocal)
    }

    @Test func theEphemeralRangeIsTheKernels() {
        let range = HostPorts.ephemeralRange()
        #expect(range.lowerBound > 0 && range.lowerBound <= range.upperBound)
    }
}
