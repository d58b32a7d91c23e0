import Foundation
import Testing

/// `-p` as Docker users expect it: reached on the host's 127.0.0.1, on one host address only,
/// on a free port chosen at start and shown by `swrun port`, and in ranges. Every scenario
/// runs in a network namespace of its own (NetworkTests.inOwnNetwork): its own loopback,
/// bridge, nftables and sysctls; the host's network is never touched.
@Suite struct DockerStylePortTests {
    let network = NetworkTests()

    /// Creates a busybox container that publishes `ports`.
    func create(_ sandbox: Sandbox, _ name: String, _ ports: [String]) throws {
        let made = try Swrun.run(["create", "-n", name, "-t", "busybox", "-P", sandbox.path, "-f", sandbox.emptyConfig]
                                     + ports.flatMap { ["-p", $0] })
        #expect(made.status == 0, "\(made.stderr)")
    }

    /// Starts `name` on br0 at `address` with a server on port 80 answering `word`.
    func start(_ name: String, _ address: String, answering word: String) -> String {
        "\"$SWRUN\" start -n \(name) -P \"$P\" \(network.veth(address)) -s \"lxc.init.cmd=nc -ll -p 80 -e echo \(word)\" || exit 1; sleep 0.2"
    }

    @Test func aPortPublishedOnEveryAddressAnswersOnLoopbackAndIsWithdrawnAtStop() throws {
        let sandbox = try Sandbox(), name = sandbox.name("lo")
        try create(sandbox, name, ["8080:80"])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            \(start(name, "10.99.0.2/24", answering: "published"))
            echo loopback: $(busybox nc -w 3 127.0.0.1 8080 </dev/null)
            echo bridge: $(busybox nc -w 3 10.99.0.1 8080 </dev/null)
            echo route_localnet: $(cat /proc/sys/net/ipv4/conf/br0/route_localnet) all=$(cat /proc/sys/net/ipv4/conf/all/route_localnet)
            nft list table ip swrun | grep -o -e 'ip saddr 127.0.0.0/8 oifname "br0" masquerade' -e 'iifname "br0" ip daddr 127.0.0.0/8 drop'
            "$SWRUN" stop -k -n \(name) -P "$P"
            nft list table ip swrun >/dev/null 2>&1; echo table=$?
            echo route_localnet: $(cat /proc/sys/net/ipv4/conf/br0/route_localnet)
            echo after: $(busybox nc -w 2 127.0.0.1 8080 </dev/null 2>/dev/null)
            """)
        #expect(result.stdout == """
            loopback: published
            bridge: published
            route_localnet: 1 all=0
            ip saddr 127.0.0.0/8 oifname "br0" masquerade
            iifname "br0" ip daddr 127.0.0.0/8 drop
            table=1
            route_localnet: 0
            after:

            """, "\(result.stdout) \(result.stderr)")
    }

    @Test func aPortPublishedOnLoopbackOnlyIsNotOnTheHostsOtherAddresses() throws {
        let sandbox = try Sandbox(), name = sandbox.name("only")
        try create(sandbox, name, ["127.0.0.1:8081:80"])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            \(start(name, "10.99.0.2/24", answering: "loopback"))
            echo 127.0.0.1: $(busybox nc -w 3 127.0.0.1 8081 </dev/null)
            echo 10.99.0.1: $(busybox nc -w 2 10.99.0.1 8081 </dev/null 2>/dev/null)
            "$SWRUN" port -P "$P" \(name)
            nft list table ip swrun | grep -o 'ip daddr 127.0.0.1 tcp dport 8081 dnat to 10.99.0.2:80' | sort -u
            "$SWRUN" stop -k -n \(name) -P "$P"
            """)
        #expect(result.stdout == """
            127.0.0.1: loopback
            10.99.0.1:
            80/tcp -> 127.0.0.1:8081
            ip daddr 127.0.0.1 tcp dport 8081 dnat to 10.99.0.2:80

            """, "\(result.stdout) \(result.stderr)")
    }

    /// `-p 80` takes the first port of the namespace's ephemeral range that neither another
    /// container nor a socket of the host holds; `swrun port` shows it, and it answers.
    @Test func aFreeHostPortIsChosenAtStartAndShownByPort() throws {
        let sandbox = try Sandbox(), first = sandbox.name("eph"), second = sandbox.name("eph")
        try create(sandbox, first, ["80"])
        try create(sandbox, second, ["80"])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)  # not `read`: dash reads a byte at a time, and procfs ends there
            busybox nc -ll -p $low -e true & holder=$!
            sleep 0.2
            \(start(first, "10.99.0.2/24", answering: "first"))
            \(start(second, "10.99.0.3/24", answering: "second"))
            [ "$("$SWRUN" port -P "$P" \(first))" = "80/tcp -> 0.0.0.0:$((low + 1))" ] && echo first: next after the held one
            [ "$("$SWRUN" port -P "$P" \(second) 80/tcp)" = "0.0.0.0:$((low + 2))" ] && echo second: the one after
            echo answers: $(busybox nc -w 3 127.0.0.1 $((low + 1)) </dev/null) $(busybox nc -w 3 127.0.0.1 $((low + 2)) </dev/null)
            grep -o '"80/tcp"' "$P/\(first)/swrun.json"
            kill $holder
            "$SWRUN" stop -k -n \(first) -P "$P"
            echo stopped: [$("$SWRUN" port -P "$P" \(first))]
            "$SWRUN" port -P "$P" \(first) 80; echo status=$?
            "$SWRUN" stop -k -n \(second) -P "$P"
            """)
        #expect(result.stdout == """
            first: next after the held one
            second: the one after
            answers: first second
            "80/tcp"
            stopped: []
            status=1

            """, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("no public port '80/tcp' published for \(first)"), "\(result.stderr)")
    }

    @Test func aRangeOfPortsIsPublishedPortForPort() throws {
        let sandbox = try Sandbox(), name = sandbox.name("range")
        try create(sandbox, name, ["8090-8091:80-81"])
        let serve = sandbox.path + "/" + name + "/rootfs/serve"
        try "#!/bin/sh\nnc -ll -p 81 -e echo eighty-one &\nexec nc -ll -p 80 -e echo eighty\n".write(toFile: serve, atomically: true, encoding: .utf8)
        chmod(serve, 0o755)
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            "$SWRUN" start -n \(name) -P "$P" \(network.veth("10.99.0.2/24")) -s lxc.init.cmd=/serve || exit 1
            sleep 0.3
            "$SWRUN" port -P "$P" \(name)
            echo $(busybox nc -w 3 127.0.0.1 8090 </dev/null) $(busybox nc -w 3 127.0.0.1 8091 </dev/null)
            "$SWRUN" stop -k -n \(name) -P "$P"
            """)
        #expect(result.stdout == "80/tcp -> 0.0.0.0:8090\n81/tcp -> 0.0.0.0:8091\neighty eighty-one\n", "\(result.stdout) \(result.stderr)")
    }

    /// route_localnet on the bridge lets packets for 127.0.0.0/8 in from it: a container that
    /// routes 127.0.0.1 to the host would reach what listens on the host's loopback
    /// (CVE-2020-8558). The table's guard drops them; without it, the same packets get there.
    @Test func aContainerCannotReachTheHostsLoopbackThroughTheBridge() throws {
        let sandbox = try Sandbox(), server = sandbox.name("web"), attacker = sandbox.name("in")
        try create(sandbox, server, ["8080:80"])
        try create(sandbox, attacker, [])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            busybox nc -ll -p 9999 -e echo secret & holder=$!
            \(start(server, "10.99.0.2/24", answering: "published"))
            attack='echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet; ip addr flush dev lo
                ip route add 127.0.0.1/32 via 10.99.0.1 dev eth0; nc -w 2 127.0.0.1 9999 </dev/null 2>/dev/null; echo status=$?'
            echo guarded: $("$SWRUN" execute -n \(attacker) -P "$P" \(network.veth("10.99.0.3/24")) -- sh -c "$attack")
            nft flush chain ip swrun guard
            echo unguarded: $("$SWRUN" execute -n \(attacker) -P "$P" \(network.veth("10.99.0.3/24")) -- sh -c "$attack")
            kill $holder
            "$SWRUN" stop -k -n \(server) -P "$P"
            """)
        #expect(result.stdout == "guarded: status=1\nunguarded: secret status=0\n", "\(result.stdout) \(result.stderr)")
    }

    @Test func aHostAddressThatIsNotTheHostsStopsTheStart() throws {
        let sandbox = try Sandbox(), name = sandbox.name("away")
        try create(sandbox, name, ["192.0.2.7:8082:80"])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            "$SWRUN" start -n \(name) -P "$P" \(network.veth("10.99.0.2/24")); echo status=$?
            nft list table ip swrun >/dev/null 2>&1; echo table=$?
            """)
        #expect(result.stdout == "status=1\ntable=1\n", "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("192.0.2.7 is not an address of this host"), "\(result.stderr)")
    }

    /// The forward would take the connections of the host's own server away.
    @Test func aHostPortThatAHostProcessListensOnStopsTheStart() throws {
        let sandbox = try Sandbox(), name = sandbox.name("held")
        try create(sandbox, name, ["8083:80"])
        let result = try network.inOwnNetwork(sandbox, """
            \(NetworkTests.bridge)
            busybox nc -ll -p 8083 -e echo host & holder=$!
            sleep 0.2
            "$SWRUN" start -n \(name) -P "$P" \(network.veth("10.99.0.2/24")); echo status=$?
            echo answer: $(busybox nc -w 3 127.0.0.1 8083 </dev/null)
            kill $holder
            """)
        #expect(result.stdout == "status=1\nanswer: host\n", "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("a process of the host listens on 0.0.0.0:8083/tcp"), "\(result.stderr)")
    }
}
