import SwrunSystem

/// An image's `config` from meta.tar.xz made self-contained: its
/// `lxc.include = LXC_TEMPLATE_CONFIG/NAME.conf` lines replaced by the settings they stand for.
/// swrun ships those files' settings itself rather than reading /usr/share/lxc/config: the
/// host may have no LXC, and its files name hooks and keys for LXC's own use.
public enum TemplateConfig {
    static let placeholder = "LXC_TEMPLATE_CONFIG/"

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

    /// The settings of the config text, includes resolved, in order; comments and blank lines dropped.
    public static func settings(of text: String, source: String) throws(SwrunError) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SwrunError(.invalidConfig, "\(source):\(number + 1): not a `key = value` line",
                                 hint: "the image's config is damaged; try again with --flush-cache")
            }
            let key = line[..<equals].trimmed
            let value = line[line.index(after: equals)...].trimmed
            if key == "lxc.include" && value.hasPrefix(placeholder) {
                result += try included(String(value.dropFirst(placeholder.count)), source: "\(source):\(number + 1)")
            } else {
                result.append((key, value))
            }
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
