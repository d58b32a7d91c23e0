/// Capability names as lxc.cap.drop and lxc.cap.keep take them: lowercase, without "cap_".
/// Not SwrunSystem.Capabilities: that one asks libcap and the running kernel and takes
/// "CAP_" spellings, while a config must read the same everywhere and as strictly as LXC.
public enum CapabilityNames {
    /// Indexed by capability number, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40), as in
    /// linux/capability.h. A fixed table rather than libcap, so that parsing a config
    /// gives the same answer on every host.
    static let names: [String] = [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
        "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
        "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
        "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
    ]

    /// The config's spelling of a name given as Docker's flags give it (NET_ADMIN,
    /// CAP_NET_ADMIN, net_admin); nil for a name that is none.
    public static func canonical(_ name: String) -> String? {
        var lower = name.lowercased()
        if lower.hasPrefix("cap_") { lower.removeFirst(4) }
        return names.contains(lower) ? lower : nil
    }

    public static var all: [String] { names }

    /// The capability number for a name, or for a number LXC would accept in its place.
    static func number(of name: String) -> Int? {
        if let index = names.firstIndex(of: name) { return index }
        if let first = name.first, first.isNumber, let number = Numbers.unsigned32(name), number < names.count {
            return Int(number)
        }
        return nil
    }

    /// Splits one lxc.cap.* value (blank-separated names) into canonical names.
    /// "none" is only meaningful for lxc.cap.keep, where it empties the list so far.
    static func parse(_ value: String, keep: Bool) throws(ValueError) -> [String] {
        var result: [String] = []
        for token in value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            if token == "none" {
                guard keep else {
                    throw ValueError("'none' is only valid in lxc.cap.keep",
                                     hint: "lxc.cap.keep = none keeps no capability; to drop none, remove the lxc.cap.drop line")
                }
                result.append(token)
                continue
            }
            guard let number = number(of: token) else {
                var hint = "capability names are lowercase without the cap_ prefix, e.g. sys_admin"
                var bare = token.lowercased()
                if bare.hasPrefix("cap_") { bare.removeFirst(4) }
                if names.contains(bare) {
                    hint = "write '\(bare)': LXC takes lowercase names without the cap_ prefix"
                } else if let close = Suggestions.closest(to: bare, among: names) {
                    hint = "did you mean '\(close)'?"
                }
                throw ValueError("'\(token)' is not a capability", hint: hint)
            }
            result.append(names[number])
        }
        return result
    }
}
