import SwrunSystem

/// The system-wide LXC settings: /etc/lxc/lxc.conf, what lxc-config prints.
public struct SystemConfig: Sendable {
    public static let defaultPath = "/etc/lxc/lxc.conf"

    /// What `lxc-config -l` lists, in its order (src/lxc/tools/lxc_config.c).
    public static var keys: [String] {
        ["lxc.default_config", "lxc.lxcpath", "lxc.bdev.lvm.vg", "lxc.bdev.lvm.thin_pool",
         "lxc.bdev.zfs.root", "lxc.cgroup.use", "lxc.cgroup.pattern"]
    }

    /// The values used when the file does not set a key, for root (initutils.c and the
    /// build's defaults); nil where LXC has none ("KEY is not set").
    static let defaults: [String: String?] = [
        "lxc.default_config": "/etc/lxc/default.conf",
        "lxc.lxcpath": "/var/lib/lxc",
        "lxc.bdev.lvm.vg": "lxc",
        "lxc.bdev.lvm.thin_pool": "lxc",
        "lxc.bdev.zfs.root": "lxc",
        // LXC answers for this one too, though lxc-config does not list it.
        "lxc.bdev.rbd.rbdpool": "lxc",
        "lxc.cgroup.use": nil,
        "lxc.cgroup.pattern": nil,
    ]

    public var path: String
    private var lines: [String]

    /// Reads the file; a missing file means every key has its default.
    public static func load(_ path: String = defaultPath) throws(SwrunError) -> SystemConfig {
        do {
            return SystemConfig(path: path, text: try FileSystem.readText(path))
        } catch {
            if error.code == .notFound { return SystemConfig(path: path, text: "") }
            throw error
        }
    }

    public init(path: String, text: String) {
        self.path = path
        self.lines = ConfigFile.split(text).map(\.text)
    }

    /// The value of a key lxc-config knows: from the file, else the default. nil for an
    /// unknown key, and for a known key that is set nowhere.
    public func value(_ key: String) -> String? {
        guard let fallback = Self.defaults[key] else { return nil }
        guard var found = fileValue(key) else { return fallback }
        // LXC drops trailing slashes from the container directory.
        if key == "lxc.lxcpath" {
            while found.count > 1 && found.hasSuffix("/") { found.removeLast() }
        }
        return found
    }

    public var lxcPath: String { value("lxc.lxcpath") ?? "/var/lib/lxc" }
    public var defaultConfigPath: String { value("lxc.default_config") ?? "/etc/lxc/default.conf" }

    /// LXC's reading of lxc.conf (lxc_global_config_value): the first line, not starting
    /// with '#', that holds the key after optional blanks, then optional blanks and '=';
    /// the value is the rest after blanks. A line with an empty value does not count.
    private func fileValue(_ key: String) -> String? {
        for line in lines where !line.hasPrefix("#") {
            let content = line.drop { $0 == " " || $0 == "\t" }
            guard content.hasPrefix(key) else { continue }
            let afterKey = content.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            guard afterKey.first == "=" else { continue }
            let value = afterKey.dropFirst().drop { $0 == " " || $0 == "\t" }
            if !value.isEmpty { return String(value) }
        }
        return nil
    }
}
