/// The NAT swrun sets up for its bridge: masquerade of the containers' subnets, ports of
/// the host forwarded to containers, and what lets the host's own loopback reach them.
public struct NATRuleSet: Equatable, Sendable {
    /// SNAT (masquerade) of traffic from `subnet` to anywhere outside it.
    public struct Masquerade: Equatable, Sendable {
        public var subnet: IPv4Network
        public init(subnet: IPv4Network) { self.subnet = subnet }
    }

    /// Connections to the host's port `hostPort`, on any of its addresses or on `hostAddress`
    /// only, go to `address`:`port` instead.
    public struct PortForward: Equatable, Sendable {
        public enum Proto: String, Equatable, Sendable {
            case tcp, udp
            var number: UInt8 { self == .tcp ? 6 : 17 }  // IPPROTO_TCP, IPPROTO_UDP
        }
        public var proto: Proto
        /// The one host address it is published on, 4 bytes; nil for every local address.
        public var hostAddress: [UInt8]?
        public var hostPort: UInt16
        /// The container's IPv4 address, 4 bytes.
        public var address: [UInt8]
        public var port: UInt16

        public init(proto: Proto, hostAddress: [UInt8]? = nil, hostPort: UInt16, address: [UInt8], port: UInt16) {
            precondition(address.count == 4 && (hostAddress?.count ?? 4) == 4, "an IPv4 address has 4 bytes")
            self.proto = proto
            self.hostAddress = hostAddress
            self.hostPort = hostPort
            self.address = address
            self.port = port
        }
    }

    public var masquerades: [Masquerade]
    public var forwards: [PortForward]
    /// Bridges that connections from the host's loopback (127.0.0.0/8, forwarded by the rules
    /// above) leave by: masqueraded to the bridge's address there, since a container cannot
    /// answer 127.0.0.1; and packets coming in on them for 127.0.0.0/8 are dropped, as the
    /// bridge's route_localnet (which lets the forwarded ones out) would let them in.
    public var loopbackBridges: [String]

    public init(masquerades: [Masquerade] = [], forwards: [PortForward] = [], loopbackBridges: [String] = []) {
        self.masquerades = masquerades
        self.forwards = forwards
        self.loopbackBridges = loopbackBridges
    }

    public var isEmpty: Bool { masquerades.isEmpty && forwards.isEmpty && loopbackBridges.isEmpty }
}

/// One nftables transaction: BATCH_BEGIN, nf_tables messages, BATCH_END, sent in one sendmsg
/// so the kernel applies all of it or none.
public struct NftablesBatch: Equatable, Sendable {
    /// Every message, the batch's begin and end included, in order and numbered consecutively.
    public internal(set) var messages: [NetlinkMessage]
    /// What each message does, by position, to name the one the kernel refuses.
    public internal(set) var steps: [String]

    public var bytes: [UInt8] { messages.flatMap(\.bytes) }

    /// What the message numbered `sequence` does, or nil if it is not in this batch.
    public func step(sequence: UInt32) -> String? {
        guard let first = messages.first?.sequence, sequence >= first, Int(sequence - first) < steps.count else { return nil }
        return steps[Int(sequence - first)]
    }

    /// Atomically replaces table `table` (family ip) with exactly `rules`: nat chains
    /// prerouting, output and postrouting, the filter chain guard, and their rules. The table
    /// is first declared, then deleted, so the delete never fails on a missing table; with no
    /// rules that is all.
    public static func replace(table: String, with rules: NATRuleSet, firstSequence: UInt32 = 1) -> NftablesBatch {
        var batch = NftablesBatch(messages: [], steps: [])
        var sequence = firstSequence
        func add(_ message: NetlinkMessage, _ step: String) {
            batch.messages.append(message)
            batch.steps.append(step)
        }
        func next() -> UInt32 { sequence += 1; return sequence }

        add(.nftablesBatch(begin: true, sequence: sequence), "commit the nftables transaction")
        add(NftablesRequest.newTable(table, sequence: next()), "declare table ip \(table)")
        add(NftablesRequest.deleteTable(table, sequence: next()), "delete table ip \(table)")
        if !rules.isEmpty {
            add(NftablesRequest.newTable(table, sequence: next()), "add table ip \(table)")
            for chain in NATChain.allCases {
                add(NftablesRequest.newChain(chain, table: table, sequence: next()),
                    "add the \(chain.type) chain \(chain.rawValue) to table ip \(table)")
            }
            for rule in NATRule.rules(for: rules) {
                add(NftablesRequest.newRule(rule.expressions, chain: rule.chain, table: table, sequence: next()),
                    "add the rule `\(rule.text)` to chain \(rule.chain.rawValue) of table ip \(table)")
            }
        }
        add(.nftablesBatch(begin: false, sequence: next()), "end the nftables transaction")
        return batch
    }
}

extension NetlinkMessage {
    var sequence: UInt32 { NetlinkAttributes.u32(bytes, at: 8) }
}

/// The base chains of swrun's table: the nat chains at the standard NAT priorities, and a
/// filter chain on prerouting at the raw priority, before connection tracking.
enum NATChain: String, CaseIterable {
    case prerouting, output, postrouting, `guard`

    var hook: Nftables.Hook {
        switch self {
        case .guard, .prerouting: .preRouting
        case .output: .localOut
        case .postrouting: .postRouting
        }
    }

    var type: String { self == .guard ? "filter" : "nat" }

    /// raw (-300) to drop before anything else, dstnat (-100) before routing and for the
    /// host's own connections, srcnat (100) after.
    var priority: Int32 {
        switch self {
        case .guard: -300
        case .prerouting, .output: -100
        case .postrouting: 100
        }
    }
}

/// The messages of a table, a chain and a rule, attributes in the order nft sends them.
enum NftablesRequest {
    static func newTable(_ table: String, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage.nftables(.newTable, flags: Netlink.request | Netlink.acknowledge | Netlink.create, sequence: sequence)
        message.appendAttribute(type: Nftables.TableAttribute.name, string: table)
        message.appendAttribute(type: Nftables.TableAttribute.flags, be32: 0)
        return message
    }

    static func deleteTable(_ table: String, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage.nftables(.deleteTable, flags: Netlink.request | Netlink.acknowledge, sequence: sequence)
        message.appendAttribute(type: Nftables.TableAttribute.name, string: table)
        return message
    }

    static func newChain(_ chain: NATChain, table: String, sequence: UInt32) -> NetlinkMessage {
        var message = NetlinkMessage.nftables(.newChain, flags: Netlink.request | Netlink.acknowledge | Netlink.create, sequence: sequence)
        message.appendAttribute(type: Nftables.ChainAttribute.table, string: table)
        message.appendAttribute(type: Nftables.ChainAttribute.name, string: chain.rawValue)
        message.appendAttribute(type: Nftables.ChainAttribute.type, string: chain.type)
        message.appendAttribute(type: Nftables.ChainAttribute.policy, be32: Nftables.acceptPolicy)
        message.appendNftNested(type: Nftables.ChainAttribute.hook) { hook in
            hook.appendAttribute(type: Nftables.HookAttribute.number, be32: chain.hook.rawValue)
            hook.appendAttribute(type: Nftables.HookAttribute.priority, be32: UInt32(bitPattern: chain.priority))
        }
        return message
    }

    static func newRule(_ expressions: [NftExpression], chain: NATChain, table: String, sequence: UInt32) -> NetlinkMessage {
        let flags = Netlink.request | Netlink.acknowledge | Netlink.create | Nftables.append
        var message = NetlinkMessage.nftables(.newRule, flags: flags, sequence: sequence)
        message.appendAttribute(type: Nftables.RuleAttribute.table, string: table)
        message.appendAttribute(type: Nftables.RuleAttribute.chain, string: chain.rawValue)
        message.appendNftNested(type: Nftables.RuleAttribute.expressions) { list in
            for expression in expressions { expression.encode(into: &list) }
        }
        return message
    }
}
