/// How the value of one key is checked: the validation column of the key table.
/// Empty values are never checked here: for every key they mean "unset" or "clear".
enum ValueRule: Sendable {
    case text
    case path
    case unsigned
    case integer
    /// "0" or "1", as LXC's boolean keys take them.
    case boolean
    case choice([String])
    case signal
    case capabilities(keep: Bool)
    case mountAuto
    case mountEntry
    case idmap
    case environment
    case architecture
    case hostname
    case rootfs
    case logLevel
    case syslogFacility
    case namespaces
    case timeOffset
    case resourceLimit
    case byteSize
    /// A cgroup directory below the container's: neither absolute nor climbing up with "..".
    case relativePath
    /// One directory name, no slash.
    case directoryName
    case groupList
    case vlanID
    /// lxc.net.N.veth.vlan.id also takes "none".
    case vlanIDOrNone
    /// A MAC address, where LXC lets 'x' stand for a random hex digit.
    case hardwareAddress

    func check(_ value: String) throws(ValueError) {
        switch self {
        case .text:
            return
        case .path:
            if value.utf8.count >= 4096 { throw ValueError("the path is longer than PATH_MAX (4096 bytes)") }
        case .unsigned:
            guard Numbers.unsigned32(value) != nil else {
                throw ValueError("'\(value)' is not a number", hint: "use a whole number from 0 to \(UInt32.max)")
            }
        case .integer:
            guard Numbers.signed32(value) != nil else {
                throw ValueError("'\(value)' is not a number", hint: "use a whole number, e.g. 10 or -5")
            }
        case .boolean:
            guard let number = Numbers.unsigned32(value), number <= 1 else {
                throw ValueError("'\(value)' is not 0 or 1", hint: "use 1 to turn it on and 0 to turn it off")
            }
        case .choice(let choices):
            guard choices.contains(value) else {
                throw ValueError("'\(value)' is not one of: \(choices.joined(separator: ", "))",
                                 hint: Suggestions.closest(to: value, among: choices).map { "did you mean '\($0)'?" }
                                    ?? "use one of the values listed")
            }
        case .signal:
            _ = try SignalNames.parseValue(value)
        case .capabilities(let keep):
            _ = try CapabilityNames.parse(value, keep: keep)
        case .mountAuto:
            var auto = MountAuto()
            try auto.apply(value)
        case .mountEntry:
            _ = try MountEntry.parseFields(value)
        case .idmap:
            _ = try IDMap.parse(value)
        case .environment:
            _ = try EnvironmentEntry.parse(value)
        case .architecture:
            _ = try Architecture.parse(value)
        case .hostname:
            // utsname.nodename holds 64 bytes and a NUL.
            if value.utf8.count > 64 {
                throw ValueError("'\(value)' is longer than 64 bytes", hint: "the kernel limits host names to 64 bytes")
            }
        case .rootfs:
            _ = try RootfsSource.parse(value)
        case .logLevel:
            let levels = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL"]
            if Numbers.signed32(value) == nil && !levels.contains(value.uppercased()) {
                throw ValueError("'\(value)' is not a log level", hint: "use one of \(levels.joined(separator: ", ")) or a number")
            }
        case .syslogFacility:
            let facilities = ["daemon"] + (0...7).map { "local\($0)" }
            if !facilities.contains(value.lowercased()) {
                throw ValueError("'\(value)' is not a syslog facility", hint: "use daemon or local0 to local7")
            }
        case .namespaces:
            let known = ["user", "mnt", "pid", "uts", "ipc", "net", "cgroup", "time"]
            for name in value.split(whereSeparator: { $0 == " " || $0 == "\t" }) where !known.contains(String(name)) {
                throw ValueError("'\(name)' is not a namespace", hint: "use some of: \(known.joined(separator: " "))")
            }
        case .timeOffset:
            try Self.checkTimeOffset(value)
        case .resourceLimit:
            try Self.checkResourceLimit(value)
        case .byteSize:
            try Self.checkByteSize(value)
        case .relativePath:
            if value.hasPrefix("/") {
                throw ValueError("'\(value)' is absolute", hint: "give a path relative to the cgroup root")
            }
            if value.split(separator: "/").contains("..") {
                throw ValueError("'\(value)' climbs up with '..'", hint: "give a path below the cgroup root")
            }
            // "." or "a/./b" names a cgroup that is not a new one of the container's own: its
            // removal at stop would take what is there (swrun's own cgroup, for ".").
            if !value.isEmpty && value.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." }) {
                throw ValueError("'\(value)' has an empty or '.' component", hint: "name a cgroup of the container's own below the root, e.g. lxc/web")
            }
        case .directoryName:
            if value.contains("/") || value == "." || value == ".." {
                throw ValueError("'\(value)' is not a single directory name", hint: "give one name without '/'")
            }
        case .groupList:
            for group in value.split(separator: ",") where Numbers.unsigned32(group) == nil {
                throw ValueError("'\(group)' is not a group number", hint: "give numeric group IDs separated by commas")
            }
        case .vlanID:
            if Numbers.unsigned(value, max: 4094) == nil {
                throw ValueError("'\(value)' is not a VLAN ID", hint: "use a number from 0 to 4094")
            }
        case .vlanIDOrNone:
            if value != "none" { try ValueRule.vlanID.check(value) }
        case .hardwareAddress:
            // Any digit in place of the x's tells whether the shape is right.
            guard HardwareAddress(String(value.map { $0 == "x" || $0 == "X" ? "0" : $0 })) != nil else {
                throw ValueError("'\(value)' is not a unicast MAC address", hint: "use six hex bytes such as 00:16:3e:xx:xx:xx (an x is a random digit)")
            }
        }
    }

    /// "-10s", "5 h", "300ms": a whole number and a unit (h, m, s, ms, us, ns).
    private static func checkTimeOffset(_ value: String) throws(ValueError) {
        _ = try ClockOffset.parseLXC(value)
    }

    /// "unlimited", "1024", or "SOFT:HARD" with either side a number or "unlimited".
    private static func checkResourceLimit(_ value: String) throws(ValueError) {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        let valid = parts.count <= 2 && parts.allSatisfy { part in
            let limit = part.trimmingBlanks()
            return limit == "unlimited" || Numbers.unsigned(limit, max: UInt64.max) != nil
        }
        if !valid {
            throw ValueError("'\(value)' is not a resource limit", hint: "write LIMIT or SOFT:HARD, each a number or 'unlimited'")
        }
    }

    /// "auto", or a number of bytes with an optional B, kB, MB or GB suffix.
    private static func checkByteSize(_ value: String) throws(ValueError) {
        if value == "auto" { return }
        let digits = value.prefix { $0.isNumber }
        let suffix = value.dropFirst(digits.count).trimmingBlanks().uppercased()
        guard !digits.isEmpty, Numbers.unsigned(digits, max: UInt64(Int64.max)) != nil,
              ["", "B", "KB", "MB", "GB"].contains(suffix) else {
            throw ValueError("'\(value)' is not a size", hint: "write 'auto' or a number with an optional kB, MB or GB suffix")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs, the blanks LXC trims.
    func trimmingBlanks() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
