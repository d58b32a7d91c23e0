import Glibc
import SwrunCgroups
import SwrunSystem

/// `swrun checkconfig` (lxc-checkconfig): what this kernel and host offer, and which
/// swrun feature needs each thing that is missing.
public struct HostCheck {
    public enum Result: String, Sendable { case enabled, missing, module, unknown }

    public struct Item: Sendable {
        public var section: String
        public var name: String
        public var result: Result
        /// What needs it (said when it is missing).
        public var neededFor: String
        /// Where the answer came from: the running system, or the kernel config.
        public var detail: String
    }

    /// CONFIG_ lines of the running kernel (from /proc/config.gz or /boot/config-RELEASE); empty when neither is readable.
    let kernelConfig: [String: String]

    public init(kernelConfig: [String: String]? = nil) {
        self.kernelConfig = kernelConfig ?? Self.readKernelConfig()
    }

    static func readKernelConfig() -> [String: String] {
        var text = ""
        if FileSystem.exists("/proc/config.gz"), let (status, output) = try? Subprocess.run(["gzip", "-dc", "/proc/config.gz"]), status == 0 {
            text = String(decoding: output, as: UTF8.self)
        } else {
            var names = utsname()
            uname(&names)
            let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            text = (try? FileSystem.readText("/boot/config-" + release)) ?? ""
        }
        return parseKernelConfig(text)
    }

    static func parseKernelConfig(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// y: built in; m: a module; absent: missing; unknown without a kernel config.
    func config(_ key: String) -> Result {
        if kernelConfig.isEmpty { return .unknown }
        switch kernelConfig[key] {
        case "y"?: return .enabled
        case "m"?: return .module
        default: return .missing
        }
    }

    public func items() -> [Item] {
        var items: [Item] = []
        let namespaces: [(String, String, String)] = [
            ("mnt", "Mount namespace", "every container"), ("uts", "UTS namespace", "every container (hostname)"),
            ("ipc", "IPC namespace", "every container"), ("pid", "PID namespace", "every container"),
            ("net", "Network namespace", "every container"), ("cgroup", "Cgroup namespace", "every container"),
            ("user", "User namespace", "unprivileged containers (lxc.idmap)"),
        ]
        for (file, name, needed) in namespaces {
            let present = FileSystem.exists("/proc/self/ns/" + file)
            items.append(Item(section: "Namespaces", name: name, result: present ? .enabled : .missing,
                              neededFor: needed, detail: "/proc/self/ns/" + file))
        }
        let userNamespaces = (try? FileSystem.readText("/proc/sys/user/max_user_namespaces")).flatMap { Int($0.trimmingCharacters(in: " \n")) }
        if let userNamespaces {
            items.append(Item(section: "Namespaces", name: "User namespaces allowed", result: userNamespaces > 0 ? .enabled : .missing,
                              neededFor: "unprivileged containers", detail: "/proc/sys/user/max_user_namespaces = \(userNamespaces)"))
        }

        let mode = CgroupMode.detect()
        items.append(Item(section: "Control groups", name: "Cgroup mode", result: mode == nil ? .missing : .enabled,
                          neededFor: "cgroup limits, freeze, stats", detail: mode?.rawValue ?? "no cgroup filesystem at /sys/fs/cgroup"))
        if let mode {
            let (v1, v2) = CgroupMode.controllers(mode: mode)
            // Block I/O is "io" in v2 and "blkio" in v1; v2 has no freezer or devices
            // controller because cgroup.freeze and BPF programs take their place.
            for (controller, v1Name, builtIntoV2) in [("memory", "memory", false), ("cpu", "cpu", false), ("pids", "pids", false),
                                                     ("cpuset", "cpuset", false), ("io", "blkio", false),
                                                     ("freezer", "freezer", true), ("devices", "devices", true)] {
                let detail: String?
                if v2.contains(controller) {
                    detail = "in cgroup v2"
                } else if v1.contains(v1Name) {
                    detail = "in cgroup v1" + (v1Name == controller ? "" : " as \(v1Name)")
                } else if builtIntoV2 && mode != .legacy && !v2.isEmpty {
                    detail = "built into cgroup v2"
                } else {
                    detail = nil
                }
                items.append(Item(section: "Control groups", name: "Controller \(controller)", result: detail == nil ? .missing : .enabled,
                                  neededFor: "\(controller) limits and stats", detail: detail ?? "not mounted"))
            }
        }

        let kernel: [(String, String, String, String)] = [
            ("Networking", "veth pairs", "CONFIG_VETH", "lxc.net.N.type = veth"),
            ("Networking", "Bridges", "CONFIG_BRIDGE", "lxc.net.N.link (a bridge)"),
            ("Networking", "macvlan", "CONFIG_MACVLAN", "lxc.net.N.type = macvlan"),
            ("Networking", "ipvlan", "CONFIG_IPVLAN", "lxc.net.N.type = ipvlan"),
            ("Networking", "802.1Q VLANs", "CONFIG_VLAN_8021Q", "lxc.net.N.type = vlan"),
            ("Networking", "nftables", "CONFIG_NF_TABLES", "NAT and published ports"),
            ("Networking", "nftables masquerade", "CONFIG_NFT_MASQ", "outbound NAT"),
            ("Networking", "nftables NAT", "CONFIG_NFT_NAT", "published ports"),
            ("Security", "Seccomp filters", "CONFIG_SECCOMP_FILTER", "lxc.seccomp.profile"),
        ]
        for (section, name, key, needed) in kernel {
            items.append(Item(section: section, name: name, result: config(key), neededFor: needed, detail: key))
        }
        let filesystems = (try? FileSystem.readText("/proc/filesystems")) ?? ""
        for (name, type, needed) in [("Overlay filesystem", "overlay", "overlayfs: rootfs"), ("devpts", "devpts", "ptys in containers"),
                                     ("tmpfs", "tmpfs", "lxc.autodev"), ("mqueue", "mqueue", "/dev/mqueue")] {
            let present = filesystems.split(separator: "\n").contains { $0.split(separator: "\t").last == Substring(type) }
            items.append(Item(section: "Filesystems", name: name, result: present ? .enabled : config("CONFIG_OVERLAY_FS") == .module && type == "overlay" ? .module : .missing,
                              neededFor: needed, detail: "/proc/filesystems"))
        }
        let seccomp = FileSystem.exists("/proc/sys/kernel/seccomp/actions_avail")
        if let index = items.firstIndex(where: { $0.name == "Seccomp filters" }), items[index].result == .unknown {
            items[index].result = seccomp ? .enabled : .missing
            items[index].detail = "/proc/sys/kernel/seccomp/actions_avail"
        }
        return items
    }
}
