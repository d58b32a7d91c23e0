import Glibc
import SwrunNetlink
import SwrunSystem

/// A bridge on the host for containers' veth pairs, with LXC's lxc-net defaults
/// (lxcbr0, 10.0.3.1/24). swrun makes it over rtnetlink, with no `ip` or `brctl`.
public struct HostBridge: Sendable, Equatable {
    public static let defaultName = "lxcbr0"
    public static let defaultAddress = "10.0.3.1/24"

    public var name: String
    public var isUp: Bool
    public var addresses: [String]
    /// The links that are its ports (host ends of containers' veth pairs).
    public var ports: [String]

    /// The bridges of this network namespace.
    public static func list() throws(SwrunError) -> [HostBridge] {
        try list(on: NetlinkSocket())
    }

    private static func list(on socket: NetlinkSocket) throws(SwrunError) -> [HostBridge] {
        let links = try socket.links()
        let addresses = try socket.addresses(family: AddressDump.inet) + socket.addresses(family: AddressDump.inet6)
        return links.filter { $0.kind == "bridge" }.map { bridge in
            HostBridge(name: bridge.name, isUp: bridge.isUp,
                       addresses: addresses.filter { $0.linkIndex == bridge.index && $0.isGlobal }.map { "\($0)/\($0.prefixLength)" },
                       ports: links.filter { $0.master == bridge.index }.map(\.name))
        }
    }

    /// lxc-net's LXC_BRIDGE_MAC.
    static let bridgeAddress: [UInt8] = [0x00, 0x16, 0x3e, 0x00, 0x00, 0x00]

    /// Makes the bridge `name` with `address` and sets it up; what is already there is kept,
    /// so running it twice changes nothing. Returns what it did, for the user.
    @discardableResult
    public static func up(_ name: String, address: IPv4Network, dhcp: Bool = false) throws(SwrunError) -> [String] {
        let socket = try NetlinkSocket()
        var done: [String] = []
        let existing = try socket.links().first { $0.name == name }
        if let existing, existing.kind != "bridge" {
            throw SwrunError(.alreadyExists, "the link \(name) exists and is not a bridge", hint: "choose another name with --bridge")
        }
        if existing == nil {
            // A fixed MAC address, as lxc-net gives lxcbr0: a bridge otherwise takes its lowest
            // port's, and each change flushes the host's neighbour cache on the bridge.
            try socket.request(LinkRequest.createBridge(name: name, address: bridgeAddress, sequence: socket.nextSequence()), "create the bridge \(name)")
            done.append("made the bridge \(name)")
        }
        guard let index = NetlinkSocket.index(of: name) else { throw SwrunError(.system, "the bridge \(name) vanished after it was made") }
        do {
            if try !socket.ipv4Addresses(ofLink: index).contains(address) {
                try socket.request(AddressRequest.add(address, index: index, sequence: socket.nextSequence()), "add \(address) to \(name)",
                                   hint: "another link may have an address in that subnet; choose one with --address")
                done.append("added \(address)")
            }
            if existing?.isUp != true {
                try socket.request(LinkRequest.setUp(index: index, sequence: socket.nextSequence()), "set \(name) up")
                done.append("set it up")
            }
            // Containers on the bridge reach beyond the host through masquerade, as with lxc-net.
            let subnet = IPv4Range(address).network, table = try NATTable()
            if !table.has(NATTable.key(bridge: name)) {
                try table.set(NATTable.key(bridge: name), NATTable.Entry(masquerade: subnet))
                done.append("masquerading \(subnet) (nftables table ip \(NATTable.tableName)) with IPv4 forwarding on")
            }
            if dhcp, let started = try BridgeDHCP().start(bridge: name, address: address) { done.append(started) }
        } catch {
            // A bridge made here and left half-configured would confuse the next try.
            if existing == nil { try? socket.request(LinkRequest.delete(index: index, sequence: socket.nextSequence()), "remove \(name)") }
            throw error
        }
        return done
    }

    /// Removes the bridge `name`; refused while containers' links are on it.
    public static func down(_ name: String) throws(SwrunError) {
        let socket = try NetlinkSocket()
        guard var bridge = try list(on: socket).first(where: { $0.name == name }) else {
            throw SwrunError(.notFound, "there is no bridge called \(name)", hint: "see the bridges with `swrun net ls`")
        }
        // A stopped container's veth pair goes with its namespace a moment after the stop
        // returns: swrun's host ends (vs...) are given a second to go before the bridge counts as busy.
        var waited = 0
        while !bridge.ports.isEmpty && bridge.ports.allSatisfy({ $0.hasPrefix("vs") }) && waited < 20 {
            usleep(50_000)
            waited += 1
            bridge = try list(on: socket).first(where: { $0.name == name }) ?? bridge
        }
        guard bridge.ports.isEmpty else {
            throw SwrunError(.busy, "the bridge \(name) still has links on it: \(bridge.ports.joined(separator: ", "))",
                             hint: "stop the containers that use it first (swrun ls --fancy shows what runs)")
        }
        try NATTable().remove(NATTable.key(bridge: name))
        try BridgeDHCP().stop(bridge: name)
        guard let index = NetlinkSocket.index(of: name) else { return }
        try socket.request(LinkRequest.delete(index: index, sequence: socket.nextSequence()), "remove the bridge \(name)")
    }
}
