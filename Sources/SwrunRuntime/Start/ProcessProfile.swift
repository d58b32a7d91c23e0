import Glibc
import SwrunConfig
import SwrunJSON
import SwrunSeccomp
import SwrunSystem

/// What a container's processes run with: identity, capabilities, seccomp filter, directory
/// and environment. Decided once from the config when the container starts, and kept in
/// LXCPATH/NAME/swrun.profile while it runs, so that `attach` gives its command exactly that,
/// whatever the config says by then (a start with -s, a file edited since).
struct ProcessProfile: Equatable, Sendable {
    var uid: uid_t = 0
    var gid: gid_t = 0
    /// The bounding set, and the effective and permitted sets of root.
    var keptCapabilities: UInt64 = 0
    var noNewPrivileges = false
    var cwd = "/"
    /// lxc.environment as NAME=VALUE, a variable without a value taken from the host's at start.
    var environment: [String] = []
    /// The compiled filter (struct sock_filter array); empty for none.
    var seccompProgram: [UInt8] = []
    /// What the filter is, for --explain.
    var seccompSource = ""
    /// OCI linux.seccomp.listenerPath: the filter has SCMP_ACT_NOTIFY rules, and its notify fd
    /// goes to the agent listening there (the runtime sends it, as runc does).
    var seccompListener: String?
    /// lxc.arch, when it asks for the 32-bit personality (PER_LINUX32).
    var linux32Architecture: String?
    /// OCI process.user.additionalGids: supplementary groups (none for LXC).
    var additionalGroups: [gid_t] = []
    /// OCI process.capabilities: each set as given. nil: root gets the bounding set as its
    /// effective and permitted sets, anyone else none (LXC's way).
    var capabilitySets: CapabilitySets?
    /// OCI process.rlimits, set before the command runs.
    var resourceLimits: [ResourceLimit] = []
    /// OCI process.user.umask; nil: 022.
    var umask: mode_t?
    /// OCI process.ioPriority; nil: inherited from swrun.
    var ioPriority: IOPriority?
    /// OCI process.scheduler; nil: inherited from swrun.
    var scheduler: SchedulerSettings?
    /// OCI process.execCPUAffinity: for exec'd processes only (the spec leaves init's alone).
    var execCPUAffinity: ExecCPUAffinity?
    /// lxc.apparmor.profile, OCI process.apparmorProfile: the AppArmor profile the command
    /// changes to as it execs (only where the host runs AppArmor).
    var appArmorProfile: String?

    static let fileName = "swrun.profile"
    static let maxFilterInstructions = 4096  // BPF_MAXINSNS

    init() {}

    /// The profile a config gives, on this host (what swrun itself lacks it cannot hand on).
    init(config: ContainerConfig, containerDirectory: String, hostEnvironment: [String: String]) throws(SwrunError) {
        uid = config.initUid ?? 0
        gid = config.initGid ?? 0
        keptCapabilities = try Self.keptCapabilities(config)
        noNewPrivileges = config.noNewPrivs
        cwd = config.initCwd ?? "/"
        additionalGroups = config.initGroups
        resourceLimits = try config.resourceLimits.map { limit throws(SwrunError) in
            guard let resource = ResourceLimit.numbers[limit.name] else {
                throw SwrunError(.invalidConfig, "lxc.prlimit.\(limit.name): not a resource this host knows", hint: "see prlimit(1) for the names")
            }
            return ResourceLimit(resource: resource, name: "RLIMIT_" + limit.name.uppercased(), soft: limit.soft, hard: limit.hard)
        }
        if let architecture = config.architecture, Architecture.personality(for: architecture) == .linux32 { linux32Architecture = architecture }
        environment = config.environment.compactMap { entry in
            (entry.value ?? hostEnvironment[entry.name]).map { "\(entry.name)=\($0)" }
        }
        var filter: SeccompFilter
        if let profile = config.seccompProfile {
            filter = try SeccompProfile.load(profile.hasPrefix("/") ? profile : FileSystem.join(containerDirectory, profile))
            seccompSource = "lxc.seccomp.profile \(profile)"
        } else {
            filter = DefaultFilter.filter(allowNesting: config.seccompAllowNesting)
            seccompSource = "swrun's default filter, which denies" + (config.seccompAllowNesting ? "" : " (unshare and clone: only with CLONE_NEWUSER; mknod: only of block devices)")
        }
        seccompSource += ": " + filter.rules.map(\.name).joined(separator: " ")
        if let architecture = linux32Architecture {
            // Its programs make i386 calls (int 0x80): the filter judges them by their own numbers.
            guard let compat = filter.judgingI386Calls() else {
                throw SwrunError(.invalidConfig, "lxc.arch = \(architecture): the seccomp profile \(config.seccompProfile ?? "") names calls by x86_64 number, which cannot be judged for 32-bit programs",
                                 hint: "name the calls in the profile (version 2), or drop lxc.arch")
            }
            filter = compat
            seccompSource += " (x86_64 and i386 calls)"
        }
        guard filter.program.count <= Self.maxFilterInstructions else {
            throw SwrunError(.invalidConfig, "the seccomp profile \(config.seccompProfile ?? "") makes a filter of \(filter.program.count) instructions; the kernel takes \(Self.maxFilterInstructions)",
                             hint: "name fewer calls")
        }
        seccompProgram = filter.bytes
    }

    static let sysAdmin = UInt64(1) << UInt64(Capabilities.number("sys_admin") ?? 21)

    /// Whether the process keeps CAP_SYS_ADMIN, which loading a filter needs without no_new_privs.
    var keepsSysAdmin: Bool { uid == 0 && keptCapabilities & Self.sysAdmin != 0 }

    /// lxc.cap.keep, else all but lxc.cap.drop (LXC's common list when the config says nothing).
    private static func keptCapabilities(_ config: ContainerConfig) throws(SwrunError) -> UInt64 {
        func bit(_ name: String) throws(SwrunError) -> UInt64 {
            guard let number = Capabilities.number(name) else {
                throw SwrunError(.invalidConfig, "unknown capability '\(name)'", hint: "use the names of capabilities(7) without CAP_, e.g. sys_admin")
            }
            return UInt64(1) << UInt64(number)
        }
        // What swrun itself lacks it cannot hand on (this host's root has no CAP_SYS_RESOURCE, for one).
        let available = Capabilities.all & Capabilities.permitted()
        if !config.capKeep.isEmpty {
            var kept: UInt64 = 0
            for name in config.capKeep where name != "none" { kept |= try bit(name) }
            return kept & available
        }
        let drop = config.settings.contains(where: { $0.key == "lxc.cap.drop" }) ? config.capDrop : StartPlan.defaultCapDrop
        var kept = available
        for name in drop { kept &= ~(try bit(name)) }
        return kept
    }

    // MARK: the file, beside the runtime record

    /// Writes the profile of the container whose init is `initProcess` (which it names, so that
    /// a file left by an earlier run is never taken for this one's).
    func write(toContainer directory: String, initProcess: ProcessIdentity) throws(SwrunError) {
        let document: JSONValue = .object([
            "init_pid": .number(String(initProcess.pid)), "init_start_time": .number(String(initProcess.startTime)),
            "uid": .number(String(uid)), "gid": .number(String(gid)),
            "capabilities": .number(String(keptCapabilities)), "no_new_privs": .bool(noNewPrivileges),
            "cwd": .string(cwd), "environment": .array(environment.map { .string($0) }),
            "seccomp": .string(Self.hex(seccompProgram)), "seccomp_source": .string(seccompSource),
            "seccomp_listener": seccompListener.map { .string($0) } ?? .null,
            "linux32_architecture": linux32Architecture.map { .string($0) } ?? .null,
            "additional_groups": .array(additionalGroups.map { .number(String($0)) }),
            "capability_sets": capabilitySets.map { sets in
                .array([sets.effective, sets.permitted, sets.inheritable, sets.ambient].map { .number(String($0)) })
            } ?? .null,
            "rlimits": .array(resourceLimits.map { .array([.number(String($0.resource)), .string($0.name), .number(String($0.soft)), .number(String($0.hard))]) }),
            "umask": umask.map { .number(String($0)) } ?? .null,
            "io_priority": ioPriority.map { .array([.number(String($0.ioClass.rawValue)), .number(String($0.level))]) } ?? .null,
            "scheduler": scheduler.map { settings in
                .array([settings.policy.rawValue, UInt32(bitPattern: settings.nice), settings.priority].map { .number(String($0)) }
                       + [settings.flags, settings.runtime, settings.deadline, settings.period].map { .string(String($0)) })
            } ?? .null,
            "apparmor_profile": appArmorProfile.map { .string($0) } ?? .null,
            "exec_cpu_affinity": execCPUAffinity.map { .array([$0.initial, $0.final].map { $0.map { .string($0.text) } ?? .null }) } ?? .null,
        ])
        try FileSystem.writeAtomically(FileSystem.join(directory, Self.fileName), document.serialized + "\n", mode: 0o600)
    }

    /// The profile the running container with init `initProcess` was started with.
    static func load(fromContainer directory: String, name: String, initProcess: ProcessIdentity) throws(SwrunError) -> ProcessProfile {
        let path = FileSystem.join(directory, fileName)
        let restart = "restart the container (`swrun stop -n \(name)`, then start it) so that swrun records what it runs with"
        guard let bytes = try? FileSystem.readBytes(path) else {
            throw SwrunError(.notFound, "container '\(name)' has no record of what its processes run with (\(path))", hint: restart)
        }
        let document = try? JSONValue(parsing: bytes)
        guard let document, document["init_pid"]?.int == Int(initProcess.pid),
              document["init_start_time"]?.int64.map({ UInt64($0) }) == initProcess.startTime else {
            throw SwrunError(.invalidConfig, "\(path) does not describe the running container '\(name)'", hint: restart)
        }
        var profile = ProcessProfile()
        guard let uid = document["uid"]?.int64.flatMap({ uid_t(exactly: $0) }), let gid = document["gid"]?.int64.flatMap({ gid_t(exactly: $0) }),
              let capabilities = document["capabilities"]?.int64.flatMap({ UInt64(exactly: $0) }),
              let program = document["seccomp"]?.string.flatMap(Self.bytes(hex:)), program.count % 8 == 0 else {
            throw SwrunError(.invalidConfig, "\(path) is damaged", hint: restart)
        }
        (profile.uid, profile.gid, profile.keptCapabilities, profile.seccompProgram) = (uid, gid, capabilities, program)
        profile.noNewPrivileges = document["no_new_privs"]?.bool ?? false
        profile.cwd = document["cwd"]?.string ?? "/"
        profile.environment = document["environment"]?.array?.compactMap(\.string) ?? []
        profile.seccompSource = document["seccomp_source"]?.string ?? ""
        profile.seccompListener = document["seccomp_listener"]?.string
        profile.linux32Architecture = document["linux32_architecture"]?.string
        profile.additionalGroups = document["additional_groups"]?.array?.compactMap { $0.int64.flatMap { gid_t(exactly: $0) } } ?? []
        if let sets = document["capability_sets"]?.array?.compactMap({ $0.int64.flatMap { UInt64(exactly: $0) } }), sets.count == 4 {
            profile.capabilitySets = CapabilitySets(effective: sets[0], permitted: sets[1], inheritable: sets[2], ambient: sets[3])
        }
        profile.resourceLimits = document["rlimits"]?.array?.compactMap { item -> ResourceLimit? in
            guard let fields = item.array, fields.count == 4, let resource = fields[0].int, let name = fields[1].string,
                  let soft = fields[2].string.flatMap(UInt64.init) ?? fields[2].int64.flatMap({ UInt64(exactly: $0) }),
                  let hard = fields[3].string.flatMap(UInt64.init) ?? fields[3].int64.flatMap({ UInt64(exactly: $0) }) else { return nil }
            return ResourceLimit(resource: Int32(resource), name: name, soft: soft, hard: hard)
        } ?? []
        profile.umask = document["umask"]?.int.flatMap { mode_t(exactly: $0) }
        profile.ioPriority = document["io_priority"]?.array.flatMap { fields -> IOPriority? in
            guard fields.count == 2, let ioClass = fields[0].int.flatMap({ IOPriority.Class(rawValue: Int32($0)) }),
                  let level = fields[1].int.flatMap({ Int32(exactly: $0) }) else { return nil }
            return IOPriority(ioClass: ioClass, level: level)
        }
        profile.scheduler = document["scheduler"]?.array.flatMap { fields -> SchedulerSettings? in
            guard fields.count == 7, let policy = fields[0].int64.flatMap({ UInt32(exactly: $0) }).flatMap(SchedulerSettings.Policy.init(rawValue:)),
                  let nice = fields[1].int64.flatMap({ UInt32(exactly: $0) }), let priority = fields[2].int64.flatMap({ UInt32(exactly: $0) }) else { return nil }
            let numbers = fields[3...].compactMap { $0.string.flatMap(UInt64.init) }
            guard numbers.count == 4 else { return nil }
            return SchedulerSettings(policy: policy, nice: Int32(bitPattern: nice), priority: priority, flags: numbers[0],
                                     runtime: numbers[1], deadline: numbers[2], period: numbers[3])
        }
        profile.appArmorProfile = document["apparmor_profile"]?.string
        profile.execCPUAffinity = document["exec_cpu_affinity"]?.array.flatMap { fields -> ExecCPUAffinity? in
            guard fields.count == 2 else { return nil }
            return ExecCPUAffinity(initial: fields[0].string.flatMap(CPUList.init), final: fields[1].string.flatMap(CPUList.init))
        }
        return profile
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: text, as: UTF8.self)
    }

    private static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = UInt8(String(UnicodeScalar(digits[index])), radix: 16),
                  let low = UInt8(String(UnicodeScalar(digits[index + 1])), radix: 16) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
