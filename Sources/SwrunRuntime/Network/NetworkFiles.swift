import Glibc
import SwrunSystem

/// /etc/hosts and /etc/resolv.conf for a container whose IPv4 address swrun sets: without a
/// DHCP client inside, nothing else would write them. Only swrun's own lines are replaced;
/// a resolv.conf that is a symlink or that someone else wrote is left alone.
enum NetworkFiles {
    static let marker = "# written by swrun"

    /// The hosts file with this container's line (re)placed: its name at its address.
    /// With `extraHosts`, their lines too (--add-host); without an address, only those.
    static func hosts(existing: String, hostname: String, address: String?, extraHosts: [HostEntry] = []) -> String {
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.hasSuffix(marker) }
        while lines.last == "" { lines.removeLast() }
        if lines.isEmpty { lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"] }
        let own = address.map { ["\($0)\t\(hostname) \(marker)"] } ?? []
        return (lines + own + extraHosts.map { "\($0.address)\t\($0.name) \(marker)" }).joined(separator: "\n") + "\n"
    }

    /// resolv.conf naming `servers` (--dns), with the host's search and options lines.
    static func resolvConf(servers: [String], host: String) -> String {
        let kept = host.split(separator: "\n").filter { $0.hasPrefix("search") || $0.hasPrefix("options") || $0.hasPrefix("domain") }
        return ([marker] + servers.map { "nameserver " + $0 } + kept.map(String.init)).joined(separator: "\n") + "\n"
    }

    /// The host's resolvers that a container can reach: a loopback resolver (systemd-resolved's
    /// 127.0.0.53) answers only inside the host's own network namespace. Nil when none is left.
    static func resolvConf(host: String) -> String? {
        var kept: [String] = []
        var servers = 0
        for line in host.split(separator: "\n").map({ $0.trimmingPrefix(while: { $0 == " " || $0 == "\t" }) }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first else { continue }
            if first == "nameserver", words.count > 1 {
                let server = words[1]
                if server.hasPrefix("127.") || server == "::1" { continue }
                servers += 1
                kept.append(String(line))
            } else if first == "search" || first == "options" || first == "domain" {
                kept.append(String(line))
            }
        }
        return servers == 0 ? nil : ([marker] + kept).joined(separator: "\n") + "\n"
    }

    /// Writes both files into `rootfs` (through RootfsFile: the rootfs's /etc may hold links
    /// pointing anywhere). `owner` is the container's root on the host.
    static func write(rootfs: String, hostname: String, address: [UInt8]?, owner: (uid: uid_t, gid: gid_t),
                      extraHosts: [HostEntry] = [], dnsServers: [String] = [], hostResolvConf: String = "/etc/resolv.conf") {
        let dotted = address.map { $0.map(String.init).joined(separator: ".") }
        if dotted != nil || !extraHosts.isEmpty {
            RootfsFile.rewrite("etc/hosts", in: rootfs, create: true, owner: owner) {
                hosts(existing: $0 ?? "", hostname: hostname, address: dotted, extraHosts: extraHosts)
            }
        }
        let hostText = (try? FileSystem.readText(hostResolvConf)) ?? ""
        if !dnsServers.isEmpty {
            // Asked for by name: it replaces whatever the image has.
            RootfsFile.rewrite("etc/resolv.conf", in: rootfs, create: true, owner: owner) { _ in resolvConf(servers: dnsServers, host: hostText) }
            return
        }
        guard dotted != nil, let text = resolvConf(host: hostText) else { return }
        // Ours, or nothing there yet: a resolv.conf of the image's own stays, and so does a symlink.
        RootfsFile.rewrite("etc/resolv.conf", in: rootfs, create: true, owner: owner) { existing in
            existing == nil || existing!.hasPrefix(marker) ? text : nil
        }
    }

    /// The --add-host and --dns files of a container that swrun gives no address.
    static func writeExtras(_ spec: ContainerSpec, hostname: String) {
        guard !spec.extraHosts.isEmpty || !spec.dnsServers.isEmpty, FileSystem.isDirectory(spec.rootfs) else { return }
        write(rootfs: spec.rootfs, hostname: hostname, address: nil, owner: spec.rootOnHost ?? (uid: 0, gid: 0),
              extraHosts: spec.extraHosts, dnsServers: spec.dnsServers)
    }
}
