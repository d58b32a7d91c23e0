import SwrunSystem

/// An image's `config` from meta.tar.xz made self-contained: its
/// `lxc.include = LXC_TEMPLATE_CONFIG/NAME.conf` lines replaced by the settings they stand for.
/// swrun ships those files' settings itself rather than reading /usr/share/lxc/config: the
/// host may have no LXC, and its files name hooks and keys for LXC's own use.
///
/// The image is not trusted with the rest of the container's config: hooks run on the host,
/// mount entries, idmaps, capability, seccomp and cgroup keys decide what the container may
/// do to it. Only the keys LXC's images use, and others that shape nothing but what runs
/// inside the container, are taken; the rest are left out, and the caller says which.
public enum TemplateConfig {
    static let placeholder = "LXC_TEMPLATE_CONFIG/"

    /// What a downloaded image's config may set (LXC's images set only lxc.arch and the includes).
    static let imageKeys: Set<String> = [
        "lxc.arch", "lxc.uts.name", "lxc.signal.halt", "lxc.signal.reboot", "lxc.signal.stop",
        "lxc.tty.max", "lxc.pty.max", "lxc.init.cmd", "lxc.init.cwd", "lxc.environment",
    ]

    /// More ttys than this would be ptys the host makes for an image that asked.
    static let largestTTYCount = 16

    /// An image's config, includes resolved, with the keys an image may not set left out.
    public struct ImageSettings {
        public var settings: [(key: String, value: String)]
        /// The keys left out, each once, in the order met.
        public var leftOut: [String]
    }

    /// The settings a downloaded image's config may give the container.
    public static func imageSettings(of text: String, source: String) throws(SwrunError) -> ImageSettings {
        var result = ImageSettings(settings: [], leftOut: [])
        for line in try lines(of: text, source: source) {
            if line.key == "lxc.include" && line.value.hasPrefix(placeholder) {
                result.settings += try included(String(line.value.dropFirst(placeholder.count)), source: line.source)
            } else if isAllowed(line.key, line.value) {
                result.settings.append((line.key, line.value))
            } else if !result.leftOut.contains(line.key) {
                result.leftOut.append(line.key)
            }
        }
        return result
    }

    static func isAllowed(_ key: String, _ value: String) -> Bool {
        guard imageKeys.contains(key) else { return false }
        if key == "lxc.tty.max" { return Int(value).map { (0...largestTTYCount).contains($0) } ?? false }
        return true
    }

    /// The settings of LXC's common.conf that a container started by swrun needs.
    static let common: [(String, String)] = [
        ("lxc.cap.drop", "mac_admin mac_override sys_time sys_module sys_rawio"),
        ("lxc.pty.max", "1024"),
        ("lxc.tty.max", "4"),
        ("lxc.autodev", "1"),
        ("lxc.mount.auto", "cgroup:mixed proc:mixed sys:mixed"),
        ("lxc.mount.entry", "mqueue dev/mqueue mqueue rw,relatime,create=dir,optional 0 0"),
        ("lxc.mount.entry", "/sys/fs/fuse/connections sys/fs/fuse/connections none bind,optional 0 0"),
    ]

    /// userns.conf: what an unprivileged container needs on top of common.conf.
    static let userns: [(String, String)] = [
        ("lxc.mount.auto", "cgroup:mixed proc:mixed sys:mixed"),
    ]

    /// The `key = value` lines of the config text, in order, each with its place for messages;
    /// comments and blank lines dropped.
    static func lines(of text: String, source: String) throws(SwrunError) -> [(key: String, value: String, source: String)] {
        var result: [(key: String, value: String, source: String)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SwrunError(.invalidConfig, "\(source):\(number + 1): not a `key = value` line",
                                 hint: "the image's config is damaged; try again with --flush-cache")
            }
            result.append((line[..<equals].trimmed, line[line.index(after: equals)...].trimmed, "\(source):\(number + 1)"))
        }
        return result
    }

    /// A distribution's own file (debian.common.conf) adds only LXC's hooks to common.conf.
    static func included(_ name: String, source: String) throws(SwrunError) -> [(key: String, value: String)] {
        if name == "common.conf" || name.hasSuffix(".common.conf") { return common.map { ($0.0, $0.1) } }
        if name == "userns.conf" || name.hasSuffix(".userns.conf") { return userns.map { ($0.0, $0.1) } }
        throw SwrunError(.invalidConfig, "\(source): the image includes LXC_TEMPLATE_CONFIG/\(name), which swrun does not know",
                         hint: "swrun knows common.conf, userns.conf and their per-distribution forms; report the image to swrun's authors")
    }
}
