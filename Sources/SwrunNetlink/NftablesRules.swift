/// A NAT rule set as nf_tables rules: the chain, the expressions, and the rule as
/// `nft list table` prints it (for error messages, and for tests to find it there).
struct NATRule: Equatable {
    var chain: NATChain
    var expressions: [NftExpression]
    var text: String

    /// Port forwards in prerouting (from outside) and output (from the host itself), then
    /// masquerades in postrouting, then the guards of bridges that loopback connections leave by.
    static func rules(for set: NATRuleSet) -> [NATRule] {
        set.forwards.map { forward($0, chain: .prerouting) }
            + set.forwards.map { forward($0, chain: .output) }
            + set.masquerades.map { masquerade($0.subnet) }
            + set.loopbackBridges.map(masqueradeFromLoopback)
            + set.loopbackBridges.map(dropToLoopback)
    }

    /// `[ip daddr HOSTADDRESS] meta l4proto tcp th dport HOSTPORT [fib daddr type local] dnat ip to ADDRESS:PORT`.
    /// Only connections to the host's own addresses (or to the one given): what passes through
    /// the host to another machine, or leaves it, keeps its port, as with Docker's rules.
    static func forward(_ forward: NATRuleSet.PortForward, chain: NATChain) -> NATRule {
        let r1 = NftExpression.register1, r2 = NftExpression.register2
        var expressions: [NftExpression] = []
        if let hostAddress = forward.hostAddress {
            expressions += [.payload(base: .network, offset: 16, length: 4, into: r1), .compare(r1, .equal, hostAddress)]
        }
        expressions += [
            .metaL4Proto(into: r1),
            .compare(r1, .equal, [forward.proto.number]),
            .payload(base: .transport, offset: 2, length: 2, into: r1),  // the destination port
            .compare(r1, .equal, bigEndian(forward.hostPort)),
        ]
        if forward.hostAddress == nil {
            expressions += [.fibDestinationType(into: r1), .compare(r1, .equal, [NftExpression.routeLocal, 0, 0, 0])]
        }
        expressions += [
            .immediate(into: r1, forward.address),
            .immediate(into: r2, bigEndian(forward.port)),
            .dnat(addressRegister: r1, portRegister: r2),
        ]
        let address = forward.address.map(String.init).joined(separator: ".")
        let host = forward.hostAddress.map { "ip daddr \($0.map(String.init).joined(separator: ".")) " } ?? ""
        let local = forward.hostAddress == nil ? "fib daddr type local " : ""
        let text = "\(host)\(forward.proto.rawValue) dport \(forward.hostPort) \(local)dnat to \(address):\(forward.port)"
        return NATRule(chain: chain, expressions: expressions, text: text)
    }

    static let loopback = Prefix(address: [127, 0, 0, 0], length: 8)

    /// `ip saddr 127.0.0.0/8 oifname BRIDGE masquerade`: the host's connection to 127.0.0.1,
    /// forwarded to a container, leaves from the bridge's address, which the container can answer.
    static func masqueradeFromLoopback(_ bridge: String) -> NATRule {
        let r1 = NftExpression.register1
        let expressions = loopback.match(offset: 12, .equal, into: r1)
            + [.metaInterfaceName(.output, into: r1), .compare(r1, .equal, interfaceName(bridge)), .masquerade]
        return NATRule(chain: .postrouting, expressions: expressions,
                       text: "ip saddr \(loopback) oifname \"\(bridge)\" masquerade")
    }

    /// `iifname BRIDGE ip daddr 127.0.0.0/8 drop`: route_localnet on the bridge must not let the
    /// containers reach what listens on the host's loopback (CVE-2020-8558).
    static func dropToLoopback(_ bridge: String) -> NATRule {
        let r1 = NftExpression.register1
        let expressions = [NftExpression.metaInterfaceName(.input, into: r1), .compare(r1, .equal, interfaceName(bridge))]
            + loopback.match(offset: 16, .equal, into: r1) + [.drop]
        return NATRule(chain: .guard, expressions: expressions,
                       text: "iifname \"\(bridge)\" ip daddr \(loopback) drop")
    }

    /// A link name as `meta iifname` loads it: IFNAMSIZ bytes, zero-padded.
    static func interfaceName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(15))
        return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
    }

    /// `ip saddr SUBNET ip daddr != SUBNET masquerade`.
    static func masquerade(_ subnet: IPv4Network) -> NATRule {
        let network = Prefix(subnet)
        let r1 = NftExpression.register1
        let expressions = network.match(offset: 12, .equal, into: r1)   // the source address
            + network.match(offset: 16, .notEqual, into: r1)            // the destination address
            + [.masquerade]
        return NATRule(chain: .postrouting, expressions: expressions,
                       text: "ip saddr \(network) ip daddr != \(network) masquerade")
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
}

/// An IPv4 prefix with its host bits cleared, matched as nft matches one.
struct Prefix: CustomStringConvertible {
    var address: [UInt8]
    var length: Int

    init(_ network: IPv4Network) {
        length = Int(network.prefixLength)
        let bits = UInt32(network.address[0]) << 24 | UInt32(network.address[1]) << 16
            | UInt32(network.address[2]) << 8 | UInt32(network.address[3])
        let masked = bits & Self.mask(length)
        address = [UInt8(masked >> 24), UInt8(masked >> 16 & 0xFF), UInt8(masked >> 8 & 0xFF), UInt8(masked & 0xFF)]
    }

    /// `address` with its host bits already clear.
    init(address: [UInt8], length: Int) {
        (self.address, self.length) = (address, length)
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }

    /// A prefix ending on a byte loads just those bytes; any other is loaded whole and masked.
    func match(offset: UInt32, _ comparison: NftExpression.Comparison, into register: UInt32) -> [NftExpression] {
        if length > 0 && length % 8 == 0 {
            let bytes = length / 8
            return [.payload(base: .network, offset: offset, length: UInt32(bytes), into: register),
                    .compare(register, comparison, Array(address.prefix(bytes)))]
        }
        let mask = Self.mask(length)
        return [.payload(base: .network, offset: offset, length: 4, into: register),
                .mask(register, with: [UInt8(mask >> 24), UInt8(mask >> 16 & 0xFF), UInt8(mask >> 8 & 0xFF), UInt8(mask & 0xFF)]),
                .compare(register, comparison, address)]
    }

    /// "10.0.3.0/24", or "10.0.3.5" for a single address, as nft prints them.
    var description: String {
        let text = address.map(String.init).joined(separator: ".")
        return length == 32 ? text : "\(text)/\(length)"
    }
}
