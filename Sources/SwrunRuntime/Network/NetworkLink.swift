import SwrunConfig
import SwrunNetlink
import SwrunSystem

/// One lxc.net.N that puts a link in the container, as `containerName`. Whatever its
/// source, swrun sets the container's end up with its addresses and routes.
struct NetworkLink: Equatable {
    var index: Int
    var source: Source
    var containerName: String  // lxc.net.N.name; eth<N>, or the link's own name for phys
    var mtu: UInt32?
    var hardwareAddress: HardwareAddress?  // lxc.net.N.hwaddr, its x's filled for this start
    var address: IPv4Network?
    /// Further lxc.net.N.ipv4.address lines, added as given (only the first is leased).
    var extraAddresses: [IPv4Network] = []
    var gateway: Gateway?
    var ipv6Address: IPv6Network?
    var extraIPv6Addresses: [IPv6Network] = []
    var ipv6Gateway: Gateway?
    var up: Bool

    /// Where the link comes from (lxc.net.N.type, with lxc.net.N.link).
    enum Source: Equatable {
        /// A pair whose host end swrun makes (lxc.net.N.veth.pair, or one swrun names), on
        /// the bridge lxc.net.N.link when there is one.
        case veth(pair: String?, bridge: String?)
        /// The host's link itself, moved in for as long as the container runs.
        case physical(String)
        /// A macvlan, ipvlan or vlan link on the host's link `parent`, made in the container.
        case stacked(StackedLink, parent: String)
    }

    /// The bridge the host end of a veth pair joins.
    var bridge: String? {
        if case .veth(_, let bridge) = source { return bridge }
        return nil
    }

    /// lxc.net.N.ipv4.gateway or ipv6.gateway: an address, or "auto", the bridge's first
    /// address of that family.
    enum Gateway: Equatable {
        case address([UInt8])
        case bridgeAddress
    }

    /// The networks of a config that put a link in the container (all but empty and none),
    /// in index order; a bad value names its key. `identity` (the container's directory)
    /// seeds the MAC address of a link whose config gives none.
    static func networks(of config: ContainerConfig, identity: String = "") throws(SwrunError) -> [NetworkLink] {
        var result: [NetworkLink] = []
        for (index, keys) in config.networks.sorted(by: { $0.key < $1.key }) {
            guard let type = keys["type"], !["empty", "none"].contains(type) else { continue }
            func fail(_ key: String, _ message: String, hint: String) -> SwrunError {
                SwrunError(.invalidConfig, "lxc.net.\(index).\(key): \(message)", hint: hint)
            }
            let source = try source(type: type, keys, index: index, fail: fail)
            if case .physical(let device) = source {
                for key in ["hwaddr", "mtu"] where keys[key] != nil {
                    // LXC would have to put the old value back at stop; set it on the host's link instead.
                    throw fail(key, "swrun leaves a phys link's \(key) as the host has it", hint: "set it on the host's link \(device) before the start, and drop lxc.net.\(index).\(key)")
                }
            }
            if case .stacked(.ipvlan, _) = source, keys["hwaddr"] != nil {
                throw fail("hwaddr", "an ipvlan link has its parent's MAC address", hint: "drop lxc.net.\(index).hwaddr, or use type macvlan for an address of its own")
            }
            let physicalName: String? = if case .physical(let device) = source { device } else { nil }
            let name = keys["name"] ?? physicalName ?? "eth\(index)"
            if let problem = LinkName.problem(name) { throw fail("name", problem, hint: "for example eth0") }
            // Each lxc.net.N.ipv4.address line adds one; the first is the one leased on a bridge.
            var addresses: [IPv4Network] = []
            for text in keys["ipv4.address"]?.split(separator: "\n").map(String.init) ?? [] {
                guard let parsed = IPv4Network(text.split(separator: " ").first.map(String.init) ?? text) else {
                    throw fail("ipv4.address", "'\(text)' is not an IPv4 address with its prefix", hint: "for example 10.0.3.5/24")
                }
                addresses.append(parsed)
            }
            /// lxc.net.N.KEY as a gateway: "auto" (which needs a bridge) or an address `parse` reads.
            func gateway(_ key: String, example: String, _ parse: (String) -> [UInt8]?) throws(SwrunError) -> Gateway? {
                guard let text = keys[key] else { return nil }
                if text == "auto" {
                    guard case .veth(_, bridge: .some) = source else {
                        throw fail(key, "auto takes the address of the bridge, and lxc.net.\(index) is on none",
                                   hint: "make it a veth network on a bridge (lxc.net.\(index).link), or give the gateway's address")
                    }
                    return .bridgeAddress
                }
                guard let address = parse(text) else {
                    throw fail(key, "'\(text)' is not an address of its family", hint: "for example \(example), or auto for the bridge's address")
                }
                return .address(address)
            }
            let ipv4Gateway = try gateway("ipv4.gateway", example: "10.0.3.1") { text in
                IPv4Network(text).flatMap { $0.prefixLength == 32 ? $0.address : nil }
            }
            let ipv6Gateway = try gateway("ipv6.gateway", example: "fd00::1") { text in
                IPv6Network(text).flatMap { $0.prefixLength == 128 ? $0.address : nil }
            }
            var ipv6Addresses: [IPv6Network] = []
            for text in keys["ipv6.address"]?.split(separator: "\n").map(String.init) ?? [] {
                guard let parsed = IPv6Network(text), text.contains("/") else {
                    throw fail("ipv6.address", "'\(text)' is not an IPv6 address with its prefix", hint: "for example fd00::5/64")
                }
                ipv6Addresses.append(parsed)
            }
            var hardwareAddress: HardwareAddress?
            if let text = keys["hwaddr"] {
                var random = SystemRandomNumberGenerator()
                guard let parsed = HardwareAddress.completing(text, using: &random) else {
                    throw fail("hwaddr", "'\(text)' is not a unicast MAC address", hint: "for example 00:16:3e:xx:xx:xx (an x is a random digit)")
                }
                hardwareAddress = parsed
            } else if case .veth = source {
                hardwareAddress = stableAddress(identity, index)
            } else if case .stacked(.macvlan, _) = source {
                hardwareAddress = stableAddress(identity, index)
            }
            result.append(NetworkLink(index: index, source: source, containerName: name,
                                      mtu: keys["mtu"].flatMap { UInt32($0) }, hardwareAddress: hardwareAddress,
                                      address: addresses.first, extraAddresses: Array(addresses.dropFirst()), gateway: ipv4Gateway,
                                      ipv6Address: ipv6Addresses.first, extraIPv6Addresses: Array(ipv6Addresses.dropFirst()), ipv6Gateway: ipv6Gateway,
                                      up: keys["flags"] == "up"))
        }
        return result
    }

    /// The same MAC address at every start of a container (LXC's 00:16:3e prefix, then three
    /// bytes of a hash of its directory and the network's index): the neighbours' ARP caches
    /// stay right across a restart, where a new random address would leave the container
    /// unreachable until they expire.
    static func stableAddress(_ identity: String, _ index: Int) -> HardwareAddress? {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in "\(identity)#\(index)".utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let bytes = [0x00, 0x16, 0x3e, UInt8(truncatingIfNeeded: hash >> 16), UInt8(truncatingIfNeeded: hash >> 8), UInt8(truncatingIfNeeded: hash)]
        return HardwareAddress(bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":"))
    }

    /// lxc.net.N.type with the keys it needs: link, veth.pair, and the mode or id of a stacked link.
    private static func source(type: String, _ keys: [String: String], index: Int,
                               fail: (String, String, String) -> SwrunError) throws(SwrunError) -> Source {
        if type != "veth", keys["veth.pair"] != nil {
            throw fail("veth.pair", "only a veth network has a host end to name", "drop lxc.net.\(index).veth.pair, or set lxc.net.\(index).type = veth")
        }
        if let pair = keys["veth.pair"], let problem = LinkName.problem(pair) {
            throw fail("veth.pair", problem, "for example vethweb0")
        }
        if type == "veth" { return .veth(pair: keys["veth.pair"], bridge: keys["link"]) }
        guard let link = keys["link"] else {
            throw fail("link", "a \(type) network needs the host's link it goes on (or moves in), and names none",
                       "set lxc.net.\(index).link to the host's link, for example eth1")
        }
        switch type {
        case "phys":
            return .physical(link)
        case "macvlan":
            // LXC's default mode is private: the container's link talks to the wire only.
            let mode = keys["macvlan.mode"].flatMap { name in StackedLink.MacvlanMode.allCases.first { "\($0)" == name } } ?? .private
            return .stacked(.macvlan(mode), parent: link)
        case "ipvlan":
            let mode = keys["ipvlan.mode"].flatMap { name in StackedLink.IPVlanMode.allCases.first { "\($0)" == name } } ?? .l3
            let isolation = keys["ipvlan.isolation"].flatMap { name in StackedLink.IPVlanIsolation.allCases.first { "\($0)" == name } } ?? .bridge
            return .stacked(.ipvlan(mode, isolation), parent: link)
        case "vlan":
            guard let id = keys["vlan.id"].flatMap({ UInt16($0) }) else {
                throw fail("vlan.id", "a vlan network needs its VLAN id", "set lxc.net.\(index).vlan.id, a number from 0 to 4094")
            }
            return .stacked(.vlan(id: id), parent: link)
        default:
            throw fail("type", "'\(type)' is not a network type swrun builds", "use veth, macvlan, ipvlan, vlan, phys, empty or none")
        }
    }

    /// The error for a `link` that names no link.
    func missingBridge(_ bridge: String) -> SwrunError {
        SwrunError(.notFound, "lxc.net.\(index).link: the bridge '\(bridge)' does not exist",
                   hint: "make it with `swrun net up --bridge \(bridge)` (10.0.3.1/24 unless --address says otherwise), or set lxc.net.\(index).type = empty")
    }
}
