import Testing
import SwrunSystem
@testable import SwrunRuntime

/// `-p` as Docker takes it: [IP:][HOSTPORT:]CONTAINERPORT[/PROTO], with ranges.
@Suite struct PortPublicationTests {
    @Test(arguments: [
        ("8080:80", [PortPublication(hostPort: 8080, containerPort: 80)]),
        ("53:5353/udp", [PortPublication(hostPort: 53, containerPort: 5353, proto: .udp)]),
        ("127.0.0.1:8081:80", [PortPublication(hostAddress: [127, 0, 0, 1], hostPort: 8081, containerPort: 80)]),
        ("0.0.0.0:8081:80", [PortPublication(hostPort: 8081, containerPort: 80)]),
        ("80", [PortPublication(hostPort: 0, containerPort: 80)]),
        ("80/udp", [PortPublication(hostPort: 0, containerPort: 80, proto: .udp)]),
        ("10.1.2.3::80", [PortPublication(hostAddress: [10, 1, 2, 3], hostPort: 0, containerPort: 80)]),
        ("8080-8081:80-81", [PortPublication(hostPort: 8080, containerPort: 80), PortPublication(hostPort: 8081, containerPort: 81)]),
        ("80-81", [PortPublication(hostPort: 0, containerPort: 80), PortPublication(hostPort: 0, containerPort: 81)]),
        ("127.0.0.1:9000-9001:90-91/udp", [PortPublication(hostAddress: [127, 0, 0, 1], hostPort: 9000, containerPort: 90, proto: .udp),
                                           PortPublication(hostAddress: [127, 0, 0, 1], hostPort: 9001, containerPort: 91, proto: .udp)]),
    ])
    func dockerSpellingsParse(text: String, expected: [PortPublication]) throws {
        #expect(try PortPublication.parse(text) == expected)
    }

    @Test(arguments: [
        ("80:0", "'80:0' is not a port to publish"),
        ("0", "'0' is not a port to publish"),
        ("8080:", "'8080:' is not a port to publish"),
        ("8080:70000", "'8080:70000' is not a port to publish"),
        ("http", "'http' is not a port to publish"),
        ("81-80", "'81-80' is not a port to publish"),
        ("8080:80/sctp", "'8080:80/sctp': 'sctp' is not a protocol swrun publishes"),
        ("localhost:8080:80", "'localhost:8080:80': 'localhost' is not an IPv4 address"),
        ("127.0.0.256:8080:80", "'127.0.0.256:8080:80': '127.0.0.256' is not an IPv4 address"),
        ("[::1]:8080:80", "'[::1]:8080:80': swrun publishes on IPv4 addresses only"),
        ("::1:8080:80", "'::1:8080:80': swrun publishes on IPv4 addresses only"),
        ("8080-8082:80-81", "'8080-8082:80-81': the host range has 3 ports and the container's 2"),
        ("8080-8081:80", "'8080-8081:80': the host range has 2 ports and the container's 1"),
    ])
    func badSpellingsAreRefusedWithTheReason(text: String, message: String) {
        #expect(throws: SwrunError.self) { try PortPublication.parse(text) }
        do { _ = try PortPublication.parse(text) } catch { #expect(error.message == message) }
    }

    @Test(arguments: ["8080:80/tcp", "127.0.0.1:8081:80/tcp", "80/tcp", "127.0.0.1::80/udp", "53:53/udp"])
    func theDescriptionParsesBack(text: String) throws {
        let port = try PortPublication(parsing: text)
        #expect(port.description == text)
        #expect(try PortPublication(parsing: port.description) == port)
    }

    @Test func oneWordForTheSidecarIsOnePortNotARange() {
        #expect(throws: SwrunError.self) { try PortPublication(parsing: "8080-8081:80-81") }
    }

    @Test func dockerPrintsEveryAddressAsZeros() {
        #expect(PortPublication(hostPort: 32768, containerPort: 80).dockerLine == "80/tcp -> 0.0.0.0:32768")
        #expect(PortPublication(hostAddress: [127, 0, 0, 1], hostPort: 8081, containerPort: 53, proto: .udp).dockerLine == "53/udp -> 127.0.0.1:8081")
    }

    @Test func portsOverlapOnTheSameAddressOrWhenEitherHasAll() {
        let all = PortPublication(hostPort: 8080, containerPort: 80)
        let loopback = PortPublication(hostAddress: [127, 0, 0, 1], hostPort: 8080, containerPort: 81)
        let other = PortPublication(hostAddress: [10, 0, 0, 1], hostPort: 8080, containerPort: 82)
        #expect(all.overlaps(loopback) && loopback.overlaps(all))
        #expect(!loopback.overlaps(other))
        #expect(!all.overlaps(PortPublication(hostPort: 8080, containerPort: 80, proto: .udp)))
        #expect(!all.overlaps(PortPublication(hostPort: 8081, containerPort: 80)))
    }
}
