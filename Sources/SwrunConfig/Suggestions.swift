/// "Did you mean ...?" for unknown keys and names.
public enum Suggestions {
    /// The candidate nearest to `word` by edit distance, when near enough to be a typo:
    /// about one edit per four characters of `significant` length, from one to three.
    public static func closest(to word: String, among candidates: [String], significant: Int? = nil) -> String? {
        let limit = min(3, max(1, (significant ?? word.count) / 4))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Edit distance over Unicode scalars, where swapping two neighbours is one edit
    /// (optimal string alignment): "nmae" is one typo away from "name".
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }

    /// Keys that LXC 3.0 renamed (what lxc-update-config rewrites); LXC 5 refuses the old
    /// names, and so does swrun, but the hint names the new one.
    static let legacyRenames: [String: String] = [
        "lxc.rootfs": "lxc.rootfs.path", "lxc.id_map": "lxc.idmap", "lxc.pts": "lxc.pty.max",
        "lxc.tty": "lxc.tty.max", "lxc.devttydir": "lxc.tty.dir", "lxc.aa_profile": "lxc.apparmor.profile",
        "lxc.aa_allow_incomplete": "lxc.apparmor.allow_incomplete", "lxc.se_context": "lxc.selinux.context",
        "lxc.mount": "lxc.mount.fstab", "lxc.utsname": "lxc.uts.name", "lxc.seccomp": "lxc.seccomp.profile",
        "lxc.console": "lxc.console.path", "lxc.haltsignal": "lxc.signal.halt",
        "lxc.rebootsignal": "lxc.signal.reboot", "lxc.stopsignal": "lxc.signal.stop",
        "lxc.syslog": "lxc.log.syslog", "lxc.loglevel": "lxc.log.level", "lxc.logfile": "lxc.log.file",
        "lxc.init_cmd": "lxc.init.cmd", "lxc.init_uid": "lxc.init.uid", "lxc.init_gid": "lxc.init.gid",
    ]

    /// The hint for an unknown key: its new name, the nearest known key, or where to look.
    static func hint(forUnknownKey key: String) -> String {
        if let renamed = legacyRenames[key] {
            return "'\(key)' was renamed '\(renamed)' in LXC 3.0; lxc-update-config converts old configs"
        }
        if key.hasPrefix("lxc.network.") || key == "lxc.network" {
            return "lxc.network.* was renamed lxc.net.N.* in LXC 3.0; lxc-update-config converts old configs"
        }
        if key.hasPrefix("lxc.limit.") {
            return "lxc.limit.* was renamed lxc.prlimit.* in LXC 3.0"
        }
        // "lxc." is common to all keys, so only the rest counts towards the allowed edits.
        if let close = closest(to: key, among: ConfigKeys.spelledOut(near: key), significant: key.count - 4) {
            return "did you mean '\(close)'?"
        }
        return "see lxc.container.conf(5) for the keys LXC accepts; fix or remove the line"
    }
}
