import SwrunConfig
import SwrunNetlink
import SwrunSystem

/// One lxc.net.N that puts a link in the container, as `containerName`:
/// - veth: a pair whose host end swrun makes (on a bridge when `link` names one);
/// - phys: the host's link `link` itself, moved in for as long as the container runs.
/// Either way, swrun sets the container's end up with its addresses and routes.
struct NetworkLink: Equatable {
    var index: Int
    /// lxc.net.N.type = phys: the host link moved in (lxc.net.N.link); nil for a veth pair.
    var physicalDevice: String? = nil
    var hostName: String?      // lxc.net.N.veth.pair; swrun picks one when nil
    var containerName: String  // lxc.net.N.name; eth<N> for a veth, the link's own name for phys
    var bridge: String?        // lxc.net.N.link
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

    /// lxc.net.N.ipv4.gateway or ipv6.gateway: an address, or "auto", the bridge's first
    /// address of that family.
    enum Gateway: Equatable {
        case address([UInt8])
        case bridgeAddress
    }

    /// The veth and phys networks of a config, in index order; a bad value names its key.
    static func networks(of config: ContainerConfig) throws(SwrunError) -> [NetworkLink] {
        var result: [NetworkLink] = []
        for (index, keys) in config.networks.sorted(by: { $0.key < $1.key }) where keys["type"] == "veth" || keys["type"] == "phys" {
            let physical = keys["type"] == "phys"
            func fail(_ key: String, _ message: String, hint: String) -> SwrunError {
                SwrunError(.invalidConfig, "lxc.net.\(index).\(key): \(message)", hint: hint)
            }
            if physical && keys["link"] == nil {
                throw SwrunError(.invalidConfig, "lxc.net.\(index).link: a phys network moves a host link into the container, and names none",
                                 hint: "set lxc.net.\(index).link to the host's link, for example eth1")
            }
            for key in ["hwaddr", "mtu", "veth.pair"] where physical && keys[key] != nil {
                // LXC would have to put the old value back at stop; set it on the host's link instead.
                throw fail(key, "swrun leaves a phys link's \(key) as the host has it", hint: "set it on the host's link \(keys["link"]!) before the start, and drop lxc.net.\(index).\(key)")
            }
            let name = keys["name"] ?? (physical ? keys["link"]! : "eth\(index)")
            if let pair = keys["veth.pair"], let problem = LinkName.problem(pair) {
                throw fail("veth.pair", problem, hint: "for example vethweb0")
            }
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
                    guard keys["link"] != nil, !physical else {
                        throw fail(key, "auto takes the address of the bridge, and lxc.net.\(index).link names none",
                                   hint: "set lxc.net.\(index).link to a bridge, or give the gateway's address")
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
            }
            result.append(NetworkLink(index: index, physicalDevice: physical ? keys["link"] : nil,
                                      hostName: physical ? nil : keys["veth.pair"], containerName: name, bridge: physical ? nil : keys["link"],
                                      mtu: keys["mtu"].flatMap { UInt32($0) }, hardwareAddress: hardwareAddress,
                                      address: addresses.first, extraAddresses: Array(addresses.dropFirst()), gateway: ipv4Gateway,
                                      ipv6Address: ipv6Addresses.first, extraIPv6Addresses: Array(ipv6Addresses.dropFirst()), ipv6Gateway: ipv6Gateway,
                                      up: keys["flags"] == "up"))
        }
        return result
    }

    /// The error for a `link` that names no link.
    func missingBridge(_ bridge: String) -> SwrunError {
        SwrunError(.notFound, "lxc.net.\(index).link: the bridge '\(bridge)' does not exist",
                   hint: "make it with `swrun net up --bridge \(bridge)` (10.0.3.1/24 unless --address says otherwise), or set lxc.net.\(index).type = empty")
    }
}
