import Glibc
import SwrunNetlink
import SwrunSystem

/// A DHCP (and DNS) server on a bridge, for distribution inits that run a DHCP client
/// whatever the config says: dnsmasq, started as lxc-net starts it. Its range is the upper
/// half of the subnet, so it never hands out what swrun leases from the bottom up. Its files
/// live per network namespace, as the bridge does: /run/swrun/dhcp/NETNS-COOKIE/BRIDGE.*
struct BridgeDHCP {
    static let program = "/usr/sbin/dnsmasq"
    let directory: String

    init() throws(SwrunError) {
        directory = "/run/swrun/dhcp/\(try NATTable.namespaceCookie())"
    }

    func pidFile(_ bridge: String) -> String { directory + "/\(bridge).pid" }

    /// The upper half of the subnet's host addresses.
    static func range(of network: IPv4Network) -> (first: [UInt8], last: [UInt8])? {
        let span = IPv4Range(network)
        let hosts = span.hosts
        guard hosts.count >= 4 else { return nil }
        return (IPv4Range.bytes(hosts.lowerBound + UInt32(hosts.count / 2)), IPv4Range.bytes(hosts.upperBound))
    }

    static func dotted(_ address: [UInt8]) -> String { address.map(String.init).joined(separator: ".") }

    /// Starts dnsmasq on `bridge` unless one of swrun's runs there already; returns what it did.
    func start(bridge: String, address: IPv4Network) throws(SwrunError) -> String? {
        if running(bridge) != nil { return nil }
        guard FileSystem.exists(Self.program) else {
            throw SwrunError(.missingDependency, "--dhcp needs dnsmasq, which is not installed", hint: "apt-get install dnsmasq-base")
        }
        guard let range = Self.range(of: address) else {
            throw SwrunError(.invalidArgument, "the subnet of \(address) is too small to hand out addresses", hint: "use a prefix of /29 or shorter")
        }
        try FileSystem.makeDirectories(directory, mode: 0o755)
        let first = Self.dotted(range.first), last = Self.dotted(range.last)
        let argv = [Self.program, "--keep-in-foreground", "--conf-file=", "--strict-order", "--bind-interfaces",
                    "--except-interface=lo", "--interface=\(bridge)", "--listen-address=\(Self.dotted(address.address))",
                    "--dhcp-range=\(first),\(last)", "--dhcp-no-override", "--dhcp-authoritative",
                    "--dhcp-leasefile=\(directory)/\(bridge).leases", "--pid-file=\(pidFile(bridge))"]
        let pid = try Subprocess.spawnDaemon(argv, logPath: directory + "/\(bridge).log")
        // dnsmasq writes its pid file once it listens; a bad start ends it at once.
        for _ in 0..<100 where running(bridge) == nil {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let log = (try? FileSystem.readText(directory + "/\(bridge).log")) ?? ""
                throw SwrunError(.system, "dnsmasq on \(bridge) failed to start: \(log.split(separator: "\n").last ?? "no message")",
                                 hint: "is another DHCP or DNS server bound to \(Self.dotted(address.address))?")
            }
            usleep(10_000)
        }
        return "DHCP \(first)-\(last) (dnsmasq)"
    }

    /// Stops swrun's dnsmasq on `bridge`, if any.
    func stop(bridge: String) {
        guard let pid = running(bridge) else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where ProcessIdentity.of(pid) != nil { usleep(10_000) }
        unlink(pidFile(bridge))
        unlink(directory + "/\(bridge).leases")
        unlink(directory + "/\(bridge).log")
        rmdir(directory)  // the namespace's last one takes the folder with it
    }

    /// The pid of swrun's dnsmasq on `bridge`: the pid file's, if that process is the dnsmasq
    /// started with that pid file (a stale file's pid may belong to anything by now).
    func running(_ bridge: String) -> pid_t? {
        guard let text = try? FileSystem.readText(pidFile(bridge)), let pid = pid_t(text.split(separator: "\n").first ?? ""),
              let command = try? FileSystem.readBytes("/proc/\(pid)/cmdline") else { return nil }
        let words = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.first == Self.program && words.contains("--pid-file=\(pidFile(bridge))") ? pid : nil
    }
}
