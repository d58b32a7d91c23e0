/// LXC's rules for combining lines into what takes effect: a single-value key keeps its
/// last value; a list key collects its lines; an empty value clears the key (and, for
/// keys such as lxc.net or lxc.cgroup2, everything below it). What stays is in file order.
enum EffectiveSettings {
    static func resolve(_ settings: [ConfigSetting]) -> [ConfigSetting] {
        var result: [ConfigSetting] = []
        for setting in settings {
            // Includes were expanded by ConfigLoader; an unknown key was refused before.
            guard setting.key != "lxc.include", let row = ConfigKeys.lookup(setting.key) else { continue }
            if setting.value.isEmpty {
                let below = setting.key + "."
                result.removeAll { earlier in
                    earlier.key == setting.key || row.alsoClears.contains(earlier.key)
                        || (row.kind == .clearOnly && earlier.key.hasPrefix(below))
                }
                continue
            }
            if row.kind == .single { result.removeAll { $0.key == setting.key } }
            result.append(setting)
        }
        return result
    }
}
