import Foundation
import Glibc
import Testing
@testable import SwrunNetlink

private let canUseNamespacesAndNft = geteuid() == 0 && access("/usr/sbin/nft", X_OK) == 0 && access("/usr/sbin/ip", X_OK) == 0

/// Batches applied for real, in a network namespace made for the test (never the host's
/// firewall), and read back with `nft list table`.
@Suite(.serialized, .enabled(if: canUseNamespacesAndNft, "needs root, ip and nft"))
struct NftablesNamespaceTests {
    static let table = "swrun-test"

    static let sample = NATRuleSet(
        masquerades: [.init(subnet: IPv4Network("10.0.3.0/24")!)],
        forwards: [.init(proto: .tcp, hostPort: 8080, address: [10, 0, 3, 2], port: 80),
                   .init(proto: .udp, hostPort: 5353, address: [10, 0, 3, 2], port: 53)])

    @Test func replacingTheTableLeavesExactlyTheRules() throws {
        try withNamespace { name in
            let socket = try NetlinkSocket.netfilter(networkNamespace: "/run/netns/\(name)")
            // A missing table: the batch declares it before deleting it, so this works.
            try socket.apply(.replace(table: Self.table, with: Self.sample, firstSequence: 1), what: "set up NAT")
            let listing = try #require(Self.list(name))
            for line in [
                "type nat hook prerouting priority dstnat; policy accept;",
                "type nat hook output priority -100; policy accept;",
                "type nat hook postrouting priority srcnat; policy accept;",
                "type filter hook prerouting priority raw; policy accept;",
                "tcp dport 8080 fib daddr type local dnat to 10.0.3.2:80",
                "udp dport 5353 fib daddr type local dnat to 10.0.3.2:53",
                "ip saddr 10.0.3.0/24 ip daddr != 10.0.3.0/24 masquerade",
            ] {
                #expect(listing.contains(line), "\(line) in\n\(listing)")
            }
            // The batch's own texts of its rules are what nft prints.
            for rule in NATRule.rules(for: Self.sample) { #expect(listing.contains(rule.text)) }

            // Replacing: the old rules go, the new ones come, with nothing doubled.
            let other = NATRuleSet(masquerades: [.init(subnet: IPv4Network("172.20.0.0/20")!)])
            try socket.apply(.replace(table: Self.table, with: other, firstSequence: 20), what: "replace NAT")
            let replaced = try #require(Self.list(name))
            #expect(replaced.contains("ip saddr 172.20.0.0/20 ip daddr != 172.20.0.0/20 masquerade"))
            #expect(!replaced.contains("10.0.3"))
            #expect(replaced.components(separatedBy: "masquerade").count == 2)

            // No rules: the table goes, and going again is no error.
            try socket.apply(.replace(table: Self.table, with: NATRuleSet(), firstSequence: 40), what: "remove NAT")
            #expect(Self.list(name) == nil)
            try socket.apply(.replace(table: Self.table, with: NATRuleSet(), firstSequence: 50), what: "remove NAT")
        }
    }

    @Test func aRefusedMessageIsNamedAndNothingIsApplied() throws {
        try withNamespace { name in
            let socket = try NetlinkSocket.netfilter(networkNamespace: "/run/netns/\(name)")
            try socket.apply(.replace(table: Self.table, with: Self.sample, firstSequence: 1), what: "set up NAT")
            let before = try #require(Self.list(name))

            // Masquerade is for postrouting only: the kernel refuses it in prerouting.
            var batch = NftablesBatch.replace(table: Self.table, with: NATRuleSet(masquerades: [.init(subnet: IPv4Network("10.9.0.0/16")!)]),
                                              firstSequence: 100)
            let end = batch.messages.removeLast(), endStep = batch.steps.removeLast()
            batch.messages.append(NftablesRequest.newRule([.masquerade], chain: .prerouting, table: Self.table, sequence: end.sequence))
            batch.steps.append("add a masquerade to prerouting")
            batch.messages.append(.nftablesBatch(begin: false, sequence: end.sequence + 1))
            batch.steps.append(endStep)

            do {
                try socket.apply(batch, what: "replace NAT")
                Issue.record("the kernel took a masquerade in prerouting")
            } catch {
                #expect("\(error)".hasPrefix("cannot replace NAT: the kernel refused to add a masquerade to prerouting: "))
                #expect("\(error)".contains(String(cString: strerror(EOPNOTSUPP))))
            }
            // All or nothing: the table is as it was, the delete and the new rules undone.
            #expect(Self.list(name) == before)

            // The socket is still usable: the refusal's answers were all read.
            try socket.apply(.replace(table: Self.table, with: NATRuleSet(), firstSequence: 200), what: "remove NAT")
            #expect(Self.list(name) == nil)
        }
    }

    /// Runs `body` with a fresh named network namespace, deleted afterwards whatever happens.
    func withNamespace(_ body: (String) throws -> Void) throws {
        let name = "swrun-nft-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try #require(Self.run(["/usr/sbin/ip", "netns", "add", name]).status == 0)
        defer { _ = Self.run(["/usr/sbin/ip", "netns", "delete", name]) }
        try body(name)
    }

    /// `nft list table ip swrun-test` in the namespace, or nil when there is no such table.
    static func list(_ namespace: String) -> String? {
        let result = run(["/usr/sbin/ip", "netns", "exec", namespace, "/usr/sbin/nft", "list", "table", "ip", table])
        return result.status == 0 ? result.output : nil
    }

    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
