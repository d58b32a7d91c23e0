import SwrunNetlink
import SwrunRuntime
import SwrunSystem

enum NetCommand: Command {
    static let spec = CommandSpec(
        name: "net",
        abstract: "Make, remove or list the host's bridges for containers (as lxc-net does).",
        discussion: """
        `up` makes the bridge (lxcbr0 with 10.0.3.1/24 by default, LXC's settings) and sets it
        up; what exists already is kept. Traffic from its subnet to elsewhere is masqueraded, and
        IPv4 forwarding enabled, in swrun's own nftables table (ip swrun), as lxc-net does with
        iptables. `down` removes the bridge and its masquerade once no container's link is on it.
        `ls` lists the bridges with their addresses and ports. Containers join a bridge with
        lxc.net.0.type = veth and lxc.net.0.link = BRIDGE, and lease an address of its subnet.
        """,
        options: [
            .init(short: nil, long: "bridge", value: "NAME", help: "The bridge (default: \(HostBridge.defaultName))."),
            .init(short: nil, long: "address", value: "ADDRESS/PREFIX", help: "The bridge's address for up (default: \(HostBridge.defaultAddress))."),
            .init(short: nil, long: "dhcp", value: nil, help: "With up: also serve DHCP and DNS on the bridge (dnsmasq, the upper half of the subnet), for inits that run a DHCP client."),
            CommonOptions.format("text or json (ls)."),
        ],
        arguments: [.init(name: "ACTION", help: "up, down or ls.", choices: ["up", "down", "ls"])])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let bridge = arguments.value("bridge") ?? HostBridge.defaultName
        if let problem = LinkName.problem(bridge) { throw SwrunError(.invalidArgument, "--bridge: " + problem, hint: "for example lxcbr0") }
        switch arguments.arguments[0] {
        case "up":
            try requireRoot("swrun net up")
            let text = arguments.value("address") ?? HostBridge.defaultAddress
            guard let address = IPv4Network(text), text.contains("/"), address.prefixLength < 31 else {
                throw SwrunError(.invalidArgument, "--address: '\(text)' is not an IPv4 address with a prefix of /30 or wider",
                                 hint: "for example \(HostBridge.defaultAddress)")
            }
            let done = try HostBridge.up(bridge, address: address, dhcp: arguments.flag("dhcp"))
            print(done.isEmpty ? "\(bridge) is up with \(address) already" : "\(bridge): " + done.joined(separator: ", "))
        case "down":
            try requireRoot("swrun net down")
            try HostBridge.down(bridge)
            print("removed the bridge \(bridge)")
        case "ls":
            let bridges = try HostBridge.list()
            if try OutputFormat(arguments.value("format")) == .json {
                print(JSON.array(bridges.map { bridge in
                    .object([("name", .string(bridge.name)), ("up", .bool(bridge.isUp)),
                             ("addresses", .array(bridge.addresses.map(JSON.string))), ("ports", .array(bridge.ports.map(JSON.string)))])
                }).text)
            } else {
                print(table(["BRIDGE", "STATE", "ADDRESSES", "PORTS"], bridges.map { bridge in
                    [bridge.name, bridge.isUp ? "UP" : "DOWN", bridge.addresses.isEmpty ? "-" : bridge.addresses.joined(separator: ","),
                     bridge.ports.isEmpty ? "-" : bridge.ports.joined(separator: ",")]
                }), terminator: "")
            }
        case let action:
            throw SwrunError(.invalidArgument, "unknown action '\(action)'", hint: "use up, down or ls")
        }
        return 0
    }
}
