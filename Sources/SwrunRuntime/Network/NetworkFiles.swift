import CLinux
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

    /// Writes both files into `rootfs`, opened inside it: the rootfs is the image's, and its
    /// /etc may hold links pointing anywhere. `owner` is the container's root on the host.
    static func write(rootfs: String, hostname: String, address: [UInt8], owner: (uid: uid_t, gid: gid_t),
                      hostResolvConf: String = "/etc/resolv.conf") {
        let root = open(rootfs, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return }
        defer { close(root) }
        let dotted = address.map(String.init).joined(separator: ".")
        update(root, "etc/hosts", owner: owner) { hosts(existing: $0 ?? "", hostname: hostname, address: dotted) }
        if let text = (try? FileSystem.readText(hostResolvConf)).flatMap(resolvConf(host:)) {
            update(root, "etc/resolv.conf", owner: owner) { existing in
                // Ours, or nothing there yet: a resolv.conf of the image's own stays.
                existing == nil || existing!.isEmpty || existing!.hasPrefix(marker) ? text : nil
            }
        }
    }

    /// Rewrites one file; `content` gets the old text (nil when absent) and returns the new, or nil to keep it.
    private static func update(_ root: Int32, _ path: String, owner: (uid: uid_t, gid: gid_t), _ content: (String?) -> String?) {
        // O_NOFOLLOW: a final symlink (a distro's resolv.conf stub) is not followed, and not written.
        let fd = swrun_openat2(root, path, UInt64(O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC), 0o644,
                               SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        let old = (try? FileSystem.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
        guard let new = content(st.st_size == 0 ? nil : old), new != old else { return }
        let bytes = Array(new.utf8)
        guard ftruncate(fd, 0) == 0, bytes.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return }
        if st.st_size == 0 { fchown(fd, owner.uid, owner.gid) }
    }
}
