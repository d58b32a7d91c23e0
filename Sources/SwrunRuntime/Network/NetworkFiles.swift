import Glibc
import SwrunSystem

/// /etc/hosts and /etc/resolv.conf for a container whose IPv4 address swrun sets: without a
/// DHCP client inside, nothing else would write them. Only swrun's own lines are replaced;
/// a resolv.conf that is a symlink or that someone else wrote is left alone.
enum NetworkFiles {
    static let marker = "# written by swrun"

    /// The hosts file with this container's line (re)placed: its name at its address.
    static func hosts(existing: String, hostname: String, address: String) -> String {
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.hasSuffix(marker) }
        while lines.last == "" { lines.removeLast() }
        if lines.isEmpty { lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"] }
        return (lines + ["\(address)\t\(hostname) \(marker)"]).joined(separator: "\n") + "\n"
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
    static func write(rootfs: String, hostname: String, address: [UInt8], owner: (uid: uid_t, gid: gid_t),
                      hostResolvConf: String = "/etc/resolv.conf") {
        let dotted = address.map(String.init).joined(separator: ".")
        RootfsFile.rewrite("etc/hosts", in: rootfs, create: true, owner: owner) { hosts(existing: $0 ?? "", hostname: hostname, address: dotted) }
        guard let text = (try? FileSystem.readText(hostResolvConf)).flatMap(resolvConf(host:)) else { return }
        // Ours, or nothing there yet: a resolv.conf of the image's own stays, and so does a symlink.
        RootfsFile.rewrite("etc/resolv.conf", in: rootfs, create: true, owner: owner) { existing in
            existing == nil || existing!.hasPrefix(marker) ? text : nil
        }
    }
}
