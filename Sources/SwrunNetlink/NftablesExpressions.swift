/// The nf_tables expressions swrun's NAT rules are made of, each encoded as nft encodes it:
/// an NFTA_LIST_ELEM holding NFTA_EXPR_NAME and NFTA_EXPR_DATA with the expression's attributes.
enum NftExpression: Equatable {
    /// 16-byte registers NFT_REG_1 and NFT_REG_2; nft loads and compares in these.
    static let register1: UInt32 = 1
    static let register2: UInt32 = 2

    enum PayloadBase: UInt32 { case network = 1, transport = 2 }   // enum nft_payload_bases
    enum Comparison: UInt32 { case equal = 0, notEqual = 1 }       // enum nft_cmp_ops

    enum Direction { case input, output }

    /// `meta l4proto`: the transport protocol number into a register (NFT_META_L4PROTO).
    case metaL4Proto(into: UInt32)
    /// `meta iifname` or `oifname`: the link's name, IFNAMSIZ bytes, into a register.
    case metaInterfaceName(Direction, into: UInt32)
    /// `length` bytes at `offset` of a header into a register.
    case payload(base: PayloadBase, offset: UInt32, length: UInt32, into: UInt32)
    /// register = (register & mask) ^ 0, for a prefix that does not end on a byte.
    case mask(UInt32, with: [UInt8])
    case compare(UInt32, Comparison, [UInt8])
    /// `fib daddr type`: the route type of the destination address (RTN_LOCAL for the host's own).
    case fibDestinationType(into: UInt32)
    case immediate(into: UInt32, [UInt8])
    /// dnat ip to the address in `addressRegister`, the port in `portRegister`.
    case dnat(addressRegister: UInt32, portRegister: UInt32)
    case masquerade
    /// The verdict drop.
    case drop

    static let l4protoKey: UInt32 = 16        // NFT_META_L4PROTO
    static let inputNameKey: UInt32 = 6      // NFT_META_IIFNAME
    static let outputNameKey: UInt32 = 7     // NFT_META_OIFNAME
    static let verdictRegister: UInt32 = 0   // NFT_REG_VERDICT
    static let dropVerdict: UInt32 = 0       // NF_DROP
    static let fibDestination: UInt32 = 0x2   // NFTA_FIB_F_DADDR
    static let fibAddressType: UInt32 = 3     // NFT_FIB_RESULT_ADDRTYPE
    static let routeLocal: UInt8 = 2          // RTN_LOCAL
    static let dnatType: UInt32 = 1           // NFT_NAT_DNAT
    static let protoSpecified: UInt32 = 0x2   // NF_NAT_RANGE_PROTO_SPECIFIED: the port register counts

    var name: String {
        switch self {
        case .metaL4Proto, .metaInterfaceName: "meta"
        case .payload: "payload"
        case .mask: "bitwise"
        case .compare: "cmp"
        case .fibDestinationType: "fib"
        case .immediate, .drop: "immediate"
        case .dnat: "nat"
        case .masquerade: "masq"
        }
    }

    /// Appends this expression as one NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS.
    func encode(into message: inout NetlinkMessage) {
        message.appendNftNested(type: 1) { element in         // NFTA_LIST_ELEM
            element.appendAttribute(type: 1, string: name)     // NFTA_EXPR_NAME
            element.appendNftNested(type: 2) { data in         // NFTA_EXPR_DATA
                encodeData(into: &data)
            }
        }
    }

    private func encodeData(into data: inout NetlinkMessage) {
        switch self {
        case let .metaL4Proto(register):
            data.appendAttribute(type: 2, be32: Self.l4protoKey)       // NFTA_META_KEY
            data.appendAttribute(type: 1, be32: register)              // NFTA_META_DREG
        case let .metaInterfaceName(direction, register):
            data.appendAttribute(type: 2, be32: direction == .input ? Self.inputNameKey : Self.outputNameKey)  // NFTA_META_KEY
            data.appendAttribute(type: 1, be32: register)              // NFTA_META_DREG
        case let .payload(base, offset, length, register):
            data.appendAttribute(type: 1, be32: register)              // NFTA_PAYLOAD_DREG
            data.appendAttribute(type: 2, be32: base.rawValue)         // NFTA_PAYLOAD_BASE
            data.appendAttribute(type: 3, be32: offset)                // NFTA_PAYLOAD_OFFSET
            data.appendAttribute(type: 4, be32: length)                // NFTA_PAYLOAD_LEN
        case let .mask(register, mask):
            data.appendAttribute(type: 1, be32: register)              // NFTA_BITWISE_SREG
            data.appendAttribute(type: 2, be32: register)              // NFTA_BITWISE_DREG
            data.appendAttribute(type: 3, be32: UInt32(mask.count))    // NFTA_BITWISE_LEN
            data.appendValue(type: 4, mask)                            // NFTA_BITWISE_MASK
            data.appendValue(type: 5, [UInt8](repeating: 0, count: mask.count))  // NFTA_BITWISE_XOR
        case let .compare(register, comparison, value):
            data.appendAttribute(type: 1, be32: register)              // NFTA_CMP_SREG
            data.appendAttribute(type: 2, be32: comparison.rawValue)   // NFTA_CMP_OP
            data.appendValue(type: 3, value)                           // NFTA_CMP_DATA
        case let .fibDestinationType(register):
            data.appendAttribute(type: 3, be32: Self.fibDestination)   // NFTA_FIB_FLAGS
            data.appendAttribute(type: 2, be32: Self.fibAddressType)   // NFTA_FIB_RESULT
            data.appendAttribute(type: 1, be32: register)              // NFTA_FIB_DREG
        case let .immediate(register, value):
            data.appendAttribute(type: 1, be32: register)              // NFTA_IMMEDIATE_DREG
            data.appendValue(type: 2, value)                           // NFTA_IMMEDIATE_DATA
        case let .dnat(addressRegister, portRegister):
            data.appendAttribute(type: 1, be32: Self.dnatType)         // NFTA_NAT_TYPE
            data.appendAttribute(type: 2, be32: UInt32(Nftables.familyIPv4))  // NFTA_NAT_FAMILY
            data.appendAttribute(type: 3, be32: addressRegister)       // NFTA_NAT_REG_ADDR_MIN
            data.appendAttribute(type: 5, be32: portRegister)          // NFTA_NAT_REG_PROTO_MIN
            data.appendAttribute(type: 7, be32: Self.protoSpecified)   // NFTA_NAT_FLAGS
        case .drop:
            data.appendAttribute(type: 1, be32: Self.verdictRegister)  // NFTA_IMMEDIATE_DREG
            data.appendNftNested(type: 2) { value in                   // NFTA_IMMEDIATE_DATA
                value.appendNftNested(type: 2) { verdict in            //   NFTA_DATA_VERDICT
                    verdict.appendAttribute(type: 1, be32: Self.dropVerdict)  // NFTA_VERDICT_CODE
                }
            }
        case .masquerade:
            break  // no attributes: masquerade to the outgoing interface's address, any port
        }
    }
}

extension NetlinkMessage {
    /// A nested nft_data_attributes holding NFTA_DATA_VALUE `value`.
    mutating func appendValue(type: UInt16, _ value: [UInt8]) {
        appendNftNested(type: type) { $0.appendAttribute(type: 1, payload: value) }
    }
}
