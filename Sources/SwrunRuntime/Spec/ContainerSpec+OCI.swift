import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunJSON
import SwrunSeccomp
import SwrunSystem

/// The OCI front end: a bundle's config.json (runtime-spec 1.x, Linux) as a spec. Every
/// field crun honours on Linux is read; one swrun cannot honour is refused by name, never
/// dropped in silence.
extension ContainerSpec {
    public init(ociBundle bundle: String) throws(SwrunError) {
        let document = try OCIDocument.load(FileSystem.join(bundle, "config.json"))
        try self.init(oci: document, bundle: bundle)
    }

    init(oci document: OCIDocument, bundle: String) throws(SwrunError) {
        try document.checkVersion()
        guard let rootPath = try document.string("root.path") else {
            throw document.error("root.path", "is missing", hint: "name the bundle's rootfs directory, e.g. \"rootfs\"")
        }
        guard let processDocument = document["process"] else {
            throw document.error("process", "is missing", hint: "give the process to run: args, cwd, user")
        }
        let processReader = OCIProcess(processDocument, in: document, key: "process")
        let process = try processReader.spec()
        self.init(rootfs: rootPath.hasPrefix("/") ? rootPath : FileSystem.join(bundle, rootPath), process: process)
        if let ungranted = try processReader.ungrantedCapabilities() { warnings.append(ungranted) }
        readOnlyRoot = try document.bool("root.readonly") ?? false
        hostname = try document.string("hostname")
        domainname = try document.string("domainname").flatMap { $0.isEmpty ? nil : $0 }
        devices.standardNodes = true  // every OCI container gets them (the spec's "default devices")
        try readNamespaces(document)
        // Before the mounts: an idmap mount that gives no maps takes these.
        idMaps = try document.idMaps("linux.uidMappings", kind: .uid) + document.idMaps("linux.gidMappings", kind: .gid)
        if idMaps.isEmpty, let path = namespaces.joined["user"] { idMaps = try Self.idMaps(ofUserNamespace: path, document) }
        try readMounts(document)
        maskedPaths = try document.strings("linux.maskedPaths")
        readOnlyPaths = try document.strings("linux.readonlyPaths")
        devices.nodes = try document.deviceNodes()
        resources = try OCIResources.read(document["linux.resources"], in: document, key: "linux.resources")
        let unapplied = OCIResources.unapplied(document["linux.resources"])
        if !unapplied.isEmpty { warnings.append("not applied: linux.resources." + unapplied.joined(separator: ", linux.resources.")) }
        resources.cgroupDirectory = try document.string("linux.cgroupsPath").flatMap { $0.isEmpty ? nil : $0 }
        for (key, value) in try document.stringMap("linux.sysctl").sorted(by: { $0.key < $1.key }) {
            sysctls.append((key, value))
        }
        hooks = try document.hooks()
        if let propagation = try document.string("linux.rootfsPropagation"), !propagation.isEmpty {
            guard let flags = MountOptions.propagation[propagation] else {
                throw document.error("linux.rootfsPropagation", "'\(propagation)' is not a propagation type", hint: "use private, rprivate, slave, rslave, shared or rshared")
            }
            rootPropagation = flags
        }
        if let personality = document["linux.personality"] {
            let domain = personality["domain"]?.string ?? ""
            switch domain {
            case "LINUX": break
            case "LINUX32": self.process.profile.linux32Architecture = "i686"
            default: throw document.error("linux.personality.domain", "'\(domain)' is not LINUX or LINUX32", hint: "use LINUX or LINUX32")
            }
        }
        // An SELinux label means nothing where SELinux is off (as crun and runc take it).
        if document["linux.mountLabel"].map(OCIDocument.isSet) == true && SELinux.isEnabled {
            throw document.error("linux.mountLabel", "is not supported: swrun applies no SELinux labels", hint: "drop linux.mountLabel from config.json")
        }
        intelRdt = try IntelRDT.read(document["linux.intelRdt"], in: document)
        try readTimeOffsets(document)
        if let seccomp = document["linux.seccomp"] {
            let filter = try OCISeccomp.filter(seccomp, in: document, linux32: self.process.profile.linux32Architecture != nil)
            self.process.profile.seccompProgram = filter.map(\.bytes) ?? []
            self.process.profile.seccompSource = filter.map { "config.json's linux.seccomp: \($0.rules.count) rules, default \($0.defaultAction)" } ?? ""
            self.process.profile.seccompListener = try OCISeccomp.listener(seccomp, filter: filter, in: document)
        } else {
            self.process.profile.seccompProgram = []
            self.process.profile.seccompSource = ""
        }
    }

    // MARK: namespaces

    private mutating func readNamespaces(_ document: OCIDocument) throws(SwrunError) {
        var listed: Set<String> = []
        for (index, item) in (document["linux.namespaces"]?.array ?? []).enumerated() {
            let key = "linux.namespaces[\(index)]"
            guard let type = item["type"]?.string else { throw document.error(key + ".type", "is missing", hint: "pid, network, mount, ipc, uts, user, cgroup or time") }
            guard let kind = Self.namespaceKinds[type] else {
                throw document.error(key + ".type", "'\(type)' is not a namespace swrun makes", hint: "use pid, network, mount, ipc, uts, user, cgroup or time")
            }
            guard listed.insert(kind).inserted else { throw document.error(key, "lists the \(type) namespace twice", hint: "list each namespace once") }
            guard let path = item["path"]?.string, !path.isEmpty else {
                if kind == "time" { timeNamespace = TimeOffsets() }
                continue
            }
            guard SharedNamespaces.flags[kind] != nil else {
                throw document.error(key + ".path", "swrun cannot join an existing \(type) namespace", hint: "drop the path: the container gets a new \(type) namespace")
            }
            namespaces.joined[kind] = path
        }
        if !listed.contains("mnt") && process.terminal {
            throw document.error("linux.namespaces", "has no mount namespace, so the container gets no devpts for its terminal",
                                 hint: "add {\"type\": \"mount\"}, or set process.terminal to false")
        }
        // A user namespace joined has its maps: read from it where the bundle gives none.
        if listed.contains("user") && namespaces.joined["user"] == nil && (document["linux.uidMappings"]?.array ?? []).isEmpty {
            throw document.error("linux.uidMappings", "is empty, but the container has a user namespace", hint: "map the container's root, e.g. {\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}")
        }
        if !listed.contains("user") && !(document["linux.uidMappings"]?.array ?? []).isEmpty {
            throw document.error("linux.uidMappings", "needs a user namespace", hint: "add {\"type\": \"user\"} to linux.namespaces")
        }
        namespaces.fromHost = Set(["mnt", "pid", "net", "uts", "ipc", "cgroup"].filter { !listed.contains($0) })
        namespaces.hostNetwork = namespaces.fromHost.contains("net")
        for (key, value) in [("hostname", hostname), ("domainname", domainname)]
            where namespaces.fromHost.contains("uts") && value.map({ !$0.isEmpty }) == true {
            throw document.error(key, "cannot be set without a uts namespace of the container's own", hint: "add {\"type\": \"uts\"} to linux.namespaces, or drop \(key)")
        }
    }

    /// The maps of the user namespace at `path`, /proc/PID/ns/user: from /proc/PID/uid_map and
    /// gid_map. Another kind of path (a bind-mounted nsfs file) needs the bundle to give them.
    static func idMaps(ofUserNamespace path: String, _ document: OCIDocument) throws(SwrunError) -> [IDMap] {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "proc", parts[2] == "ns", parts[3] == "user", pid_t(parts[1]) != nil else {
            throw document.error("linux.uidMappings", "is empty, and the maps of the user namespace \(path) cannot be read from its path",
                                 hint: "give linux.uidMappings and gidMappings as the namespace has them, or join it as /proc/PID/ns/user")
        }
        var maps: [IDMap] = []
        for (kind, file) in [(IDMap.Kind.uid, "uid_map"), (IDMap.Kind.gid, "gid_map")] {
            let text: String
            do { text = try FileSystem.readText("/proc/\(parts[1])/\(file)") } catch {
                throw document.error("linux.namespaces", "joins the user namespace \(path), whose \(file) cannot be read", hint: "the process \(parts[1]) must live")
            }
            for line in text.split(separator: "\n") {
                let numbers = line.split(separator: " ").compactMap { UInt32($0) }
                if numbers.count == 3 { maps.append(IDMap(kind: kind, containerID: numbers[0], hostID: numbers[1], count: numbers[2])) }
            }
        }
        return maps
    }

    static let namespaceKinds = ["pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user", "cgroup": "cgroup",
                                 "time": "time"]

    /// linux.timeOffsets, for the time namespace the container makes (one joined has its
    /// offsets already: the kernel fixes them when the first process enters).
    private mutating func readTimeOffsets(_ document: OCIDocument) throws(SwrunError) {
        guard let value = document["linux.timeOffsets"], OCIDocument.isSet(value) else { return }
        guard let clocks = value.object else { throw document.error("linux.timeOffsets", "is not an object", hint: "write {\"boottime\": {\"secs\": 3600}}") }
        if namespaces.joined["time"] != nil {
            throw document.error("linux.timeOffsets", "cannot change the clocks of a time namespace the container joins", hint: "drop linux.timeOffsets, or the time namespace's path")
        }
        guard var offsets = timeNamespace else {
            throw document.error("linux.timeOffsets", "needs a time namespace of the container's own", hint: "add {\"type\": \"time\"} to linux.namespaces")
        }
        for (clock, item) in clocks.sorted(by: { $0.key < $1.key }) {
            let key = "linux.timeOffsets.\(clock)"
            guard clock == "monotonic" || clock == "boottime" else {
                throw document.error(key, "is not a clock a time namespace offsets", hint: "use monotonic or boottime")
            }
            let seconds = try document.number(item["secs"], key + ".secs", as: Int64.self) ?? 0
            let nanoseconds = try document.number(item["nanosecs"], key + ".nanosecs", as: UInt32.self) ?? 0
            guard nanoseconds < 1_000_000_000 else {
                throw document.error(key + ".nanosecs", "must be below 1000000000", hint: "carry whole seconds into secs")
            }
            if clock == "monotonic" { offsets.monotonic = ClockOffset(seconds: seconds, nanoseconds: nanoseconds) }
            else { offsets.boottime = ClockOffset(seconds: seconds, nanoseconds: nanoseconds) }
        }
        timeNamespace = offsets
    }

    // MARK: mounts

    /// The mounts, in order. proc, sysfs, the cgroup tree and /dev, /dev/pts at their usual
    /// places are swrun's own kernel filesystems (mounted as the spec's options ask); every
    /// other one is mounted as given.
    private mutating func readMounts(_ document: OCIDocument) throws(SwrunError) {
        devices.standardNodes = false
        for (index, item) in (document["mounts"]?.array ?? []).enumerated() {
            let key = "mounts[\(index)]"
            guard let destination = item["destination"]?.string, !destination.isEmpty else {
                throw document.error(key + ".destination", "is missing", hint: "give the absolute path inside the container")
            }
            let type = item["type"]?.string ?? ""
            let source = item["source"]?.string ?? ""
            var options: [String] = []
            for (position, option) in (item["options"]?.array ?? []).enumerated() {
                guard let text = option.string else { throw document.error("\(key).options[\(position)]", "is not a string", hint: "write options as strings, e.g. \"nosuid\"") }
                options.append(text)
            }
            let target = destination.hasPrefix("/") ? destination : "/" + destination
            let readOnly = options.contains("ro")
            switch (type, target) {
            case ("proc", "/proc"):
                filesystems.proc = .rw
                mounts.append(.proc)
            case ("sysfs", "/sys"):
                filesystems.sys = readOnly ? .ro : .rw
                mounts.append(.sysfs)
            case ("cgroup", "/sys/fs/cgroup"), ("cgroup2", "/sys/fs/cgroup"):
                filesystems.cgroup = readOnly ? .ro : .rw
                filesystems.cgroupKind = type == "cgroup2" ? .cgroup2 : .cgroup
                mounts.append(.cgroup)
            case ("tmpfs", "/dev"):
                devices.standardNodes = true
                mounts.append(.dev)
            case ("devpts", "/dev/pts"):
                mounts.append(.devpts)  // the container's own devpts instance, with its terminal
            default:
                var entry = try Self.mountEntry(type: type, source: source, target: target, options: options, key: key, document: document)
                try readIDMaps(of: &entry, item, options: options, key: key, document: document)
                mounts.append(.entry(entry))
            }
        }
        // linux.devices and the terminal need their places even where the bundle mounts no /dev or devpts.
        if !mounts.contains(.dev) { mounts.append(.dev) }
        if !mounts.contains(.devpts) { mounts.append(.devpts) }
    }

    /// An id-mapped bind, as runc reads one: the mount's own uidMappings and gidMappings (both,
    /// or neither), or with idmap or ridmap and none given, the container's user namespace maps.
    private func readIDMaps(of entry: inout MountEntry, _ item: JSONValue, options: [String], key: String,
                            document: OCIDocument) throws(SwrunError) {
        let asked = options.contains("idmap") || options.contains("ridmap")
        let hasUIDs = item["uidMappings"].map(OCIDocument.isSet) == true, hasGIDs = item["gidMappings"].map(OCIDocument.isSet) == true
        guard asked || hasUIDs || hasGIDs else { return }
        guard entry.flags & UInt(MS_BIND) != 0 else {
            throw document.error(key, "is id-mapped, which only a bind mount can be", hint: "make it a bind mount (type bind, option rbind), or drop its id maps")
        }
        guard hasUIDs == hasGIDs else {
            throw document.error(key, "gives \(hasUIDs ? "uidMappings without gidMappings" : "gidMappings without uidMappings")", hint: "give both, or neither")
        }
        var maps = try document.idMaps(item["uidMappings"], "\(key).uidMappings", kind: .uid)
            + document.idMaps(item["gidMappings"], "\(key).gidMappings", kind: .gid)
        if maps.isEmpty {
            guard !idMaps.isEmpty else {
                throw document.error(key, "asks for idmap without uidMappings, and the container has no user namespace maps to take",
                                     hint: "give the mount's uidMappings and gidMappings, or the container's linux.uidMappings")
            }
            maps = idMaps
        }
        entry.idMaps = maps
        entry.recursiveIDMap = options.contains("ridmap")
    }

    /// The mount, its options read as lxc.mount.entry's are (the same option names).
    private static func mountEntry(type: String, source: String, target: String, options: [String], key: String,
                                   document: OCIDocument) throws(SwrunError) -> MountEntry {
        let isBind = type == "bind" || options.contains("bind") || options.contains("rbind")
        // rro and rrw are no mount(2) options: the plan applies them with mount_setattr.
        var kept = options.filter { !["tmpcopyup", "copy-symlink", "notmpcopyup", "rro", "rrw", "idmap", "ridmap"].contains($0) }
        let recursiveReadOnly = options.last { $0 == "rro" || $0 == "rrw" }.map { $0 == "rro" }
        if type == "bind", !kept.contains("bind") && !kept.contains("rbind") { kept.append("rbind") }
        var create = "create=dir"
        if isBind {
            var status = stat()
            guard stat(source, &status) == 0 else {
                throw document.error(key + ".source", "\(source) does not exist on the host", hint: "bind an existing path")
            }
            if status.st_mode & S_IFMT != S_IFDIR { create = "create=file" }
        }
        let fsType = isBind || type.isEmpty ? "none" : type
        var entry = try MountEntry.make(source: source.isEmpty ? fsType : source, target: String(target.dropFirst()), fsType: fsType,
                                        options: kept + [create], location: ConfigLocation(file: document.path, line: 0), key: key)
        entry.recursiveReadOnly = recursiveReadOnly
        return entry
    }
}

enum SELinux {
    static var isEnabled: Bool { FileSystem.exists("/sys/fs/selinux/enforce") }
}

/// config.json, read with the key paths its errors name.
struct OCIDocument {
    let path: String
    let root: JSONValue

    static func load(_ path: String) throws(SwrunError) -> OCIDocument {
        try OCIDocument(path: path, bytes: try bytes(of: path))
    }

    /// The file's bytes; its absence is the bundle's fault.
    static func bytes(of path: String) throws(SwrunError) -> [UInt8] {
        do { return try FileSystem.readBytes(path) } catch {
            throw SwrunError(.notFound, "the bundle has no \(FileSystem.lastComponent(path)): cannot read \(path)", errno: error.errno,
                             hint: "give --bundle the directory that holds config.json (`swrun-oci spec` writes one)")
        }
    }

    /// The document `bytes` hold, read from `path`.
    init(path: String, bytes: [UInt8]) throws(SwrunError) {
        let root: JSONValue
        do { root = try JSONValue(parsing: bytes) } catch {
            throw SwrunError(.invalidConfig, "\(path) is not valid JSON: \(error)", hint: "fix the file")
        }
        guard root.object != nil else { throw SwrunError(.invalidConfig, "\(path) is not a JSON object", hint: "config.json holds one object") }
        self.init(path: path, root: root)
    }

    init(path: String, root: JSONValue) {
        self.path = path
        self.root = root
    }

    /// The value at a dotted key path ("linux.resources.memory"); nil when absent or null.
    subscript(key: String) -> JSONValue? {
        var value: JSONValue? = root
        for part in key.split(separator: ".") { value = value?[String(part)] }
        return value?.isNull == true ? nil : value
    }

    /// Whether a value says anything: not null, not an empty string, list or object.
    static func isSet(_ value: JSONValue) -> Bool {
        if value.isNull || value.string == "" { return false }
        if let items = value.array { return !items.isEmpty }
        if let object = value.object { return !object.isEmpty }
        return true
    }

    func error(_ key: String, _ message: String, hint: String) -> SwrunError {
        SwrunError(.invalidConfig, "\(path): \(key) \(message)", hint: hint)
    }

    func checkVersion() throws(SwrunError) {
        guard let version = root["ociVersion"]?.string else {
            throw error("ociVersion", "is missing", hint: "set it to the runtime-spec version, e.g. \"1.0.2\"")
        }
        guard version.split(separator: ".").first == "1" else {
            throw error("ociVersion", "'\(version)' is not a 1.x runtime-spec version, the only one swrun reads", hint: "write the bundle for runtime-spec 1.x")
        }
    }

    func string(_ key: String) throws(SwrunError) -> String? {
        guard let value = self[key] else { return nil }
        guard let text = value.string else { throw error(key, "is not a string", hint: "write it in quotes") }
        return text
    }

    /// A string, `value` read at `key` (for messages).
    func string(_ value: JSONValue?, _ key: String) throws(SwrunError) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.string else { throw error(key, "is not a string", hint: "write it in quotes") }
        return text
    }

    func bool(_ key: String) throws(SwrunError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard let flag = value.bool else { throw error(key, "is not true or false", hint: "write true or false") }
        return flag
    }

    func strings(_ key: String) throws(SwrunError) -> [String] {
        try strings(self[key], key)
    }

    /// A list of strings, `value` read at `key` (for messages).
    func strings(_ value: JSONValue?, _ key: String) throws(SwrunError) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.array else { throw error(key, "is not a list", hint: "write a JSON array of strings") }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.string else { throw error("\(key)[\(index)]", "is not a string", hint: "write it in quotes") }
            result.append(text)
        }
        return result
    }

    func stringMap(_ key: String) throws(SwrunError) -> [String: String] {
        guard let value = self[key] else { return [:] }
        guard let object = value.object else { throw error(key, "is not an object", hint: "write {\"name\": \"value\"}") }
        var result: [String: String] = [:]
        for (name, item) in object {
            guard let text = item.string else { throw error("\(key).\(name)", "is not a string", hint: "write it in quotes") }
            result[name] = text
        }
        return result
    }

    /// An unsigned number that fits `T`, at `key` of `value`.
    func number<T: FixedWidthInteger>(_ value: JSONValue?, _ key: String, as type: T.Type = T.self) throws(SwrunError) -> T? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.numberText, let number = T(text) else {
            throw error(key, "is not a number that fits \(T.self)", hint: "write a whole number in range")
        }
        return number
    }

    func idMaps(_ key: String, kind: IDMap.Kind) throws(SwrunError) -> [IDMap] {
        try idMaps(self[key], key, kind: kind)
    }

    /// Id maps, `value` read at `key` (for messages).
    func idMaps(_ value: JSONValue?, _ key: String, kind: IDMap.Kind) throws(SwrunError) -> [IDMap] {
        var maps: [IDMap] = []
        for (index, item) in (value?.array ?? []).enumerated() {
            let itemKey = "\(key)[\(index)]"
            guard let inside = try number(item["containerID"], itemKey + ".containerID", as: UInt32.self),
                  let host = try number(item["hostID"], itemKey + ".hostID", as: UInt32.self),
                  let size = try number(item["size"], itemKey + ".size", as: UInt32.self) else {
                throw error(itemKey, "needs containerID, hostID and size", hint: "for example {\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}")
            }
            maps.append(IDMap(kind: kind, containerID: inside, hostID: host, count: size))
        }
        return maps
    }

    func deviceNodes() throws(SwrunError) -> [DeviceNode] {
        var nodes: [DeviceNode] = []
        for (index, item) in (self["linux.devices"]?.array ?? []).enumerated() {
            let key = "linux.devices[\(index)]"
            guard let path = item["path"]?.string, path.hasPrefix("/dev/") else {
                throw error(key + ".path", "must be a path below /dev", hint: "for example /dev/fuse")
            }
            let kinds: [String: mode_t] = ["c": S_IFCHR, "u": S_IFCHR, "b": S_IFBLK, "p": S_IFIFO]
            guard let typeText = item["type"]?.string, let kind = kinds[typeText] else {
                throw error(key + ".type", "must be c, u, b or p", hint: "c for a character device")
            }
            let major = try number(item["major"], key + ".major", as: UInt32.self)
            let minor = try number(item["minor"], key + ".minor", as: UInt32.self)
            if kind != S_IFIFO && (major == nil || minor == nil) {
                throw error(key, "needs major and minor numbers", hint: "see `ls -l \(path)` on the host")
            }
            let mode = try number(item["fileMode"], key + ".fileMode", as: mode_t.self) ?? 0o666
            nodes.append(DeviceNode(path: path, mode: kind | (mode & 0o7777), major: major ?? 0, minor: minor ?? 0,
                                    uid: try number(item["uid"], key + ".uid", as: uid_t.self) ?? 0,
                                    gid: try number(item["gid"], key + ".gid", as: gid_t.self) ?? 0))
        }
        return nodes
    }

    func hooks() throws(SwrunError) -> HookSet {
        func read(_ point: String) throws(SwrunError) -> [Hook] {
            var hooks: [Hook] = []
            for (index, item) in (self["hooks.\(point)"]?.array ?? []).enumerated() {
                let key = "hooks.\(point)[\(index)]"
                guard let path = item["path"]?.string, path.hasPrefix("/") else {
                    throw error(key + ".path", "must be an absolute path", hint: "give the hook program's full path")
                }
                let args = try strings(item["args"], key + ".args")
                let environment = try strings(item["env"], key + ".env")
                let timeout = try number(item["timeout"], key + ".timeout", as: Int.self)
                if let timeout, timeout <= 0 { throw error(key + ".timeout", "must be more than 0 seconds", hint: "drop it for no limit") }
                hooks.append(Hook(label: "\(key) (\(path))", path: path, args: args.isEmpty ? [path] : args, environment: environment,
                                  timeout: timeout, inheritsEnvironment: false, readsState: true))
            }
            return hooks
        }
        var set = HookSet()
        set.runtimeCreated = try read("prestart") + read("createRuntime")
        set.mount = try read("createContainer")
        set.start = try read("startContainer")
        set.started = try read("poststart")
        set.stopped = try read("poststop")
        return set
    }
}

/// process (config.json's, or exec's process.json): what runs, as whom, with what.
struct OCIProcess {
    let value: JSONValue
    let document: OCIDocument
    let key: String

    init(_ value: JSONValue, in document: OCIDocument, key: String) {
        self.value = value
        self.document = document
        self.key = key
    }

    func spec() throws(SwrunError) -> ProcessSpec {
        var args: [String] = []
        for (index, item) in (value["args"]?.array ?? []).enumerated() {
            guard let text = item.string else { throw document.error("\(key).args[\(index)]", "is not a string", hint: "write it in quotes") }
            args.append(text)
        }
        guard !args.isEmpty else { throw document.error("\(key).args", "is empty", hint: "name the program to run, e.g. [\"/bin/sh\"]") }
        var profile = ProcessProfile()
        guard let cwd = value["cwd"]?.string, cwd.hasPrefix("/") else {
            throw document.error("\(key).cwd", "must be an absolute path", hint: "for example \"/\"")
        }
        profile.cwd = cwd
        for (index, item) in (value["env"]?.array ?? []).enumerated() {
            guard let text = item.string, text.contains("=") else {
                throw document.error("\(key).env[\(index)]", "is not NAME=VALUE", hint: "write each variable as \"NAME=VALUE\"")
            }
            profile.environment.append(text)
        }
        profile.uid = try document.number(value["user"]?["uid"], "\(key).user.uid", as: uid_t.self) ?? 0
        profile.gid = try document.number(value["user"]?["gid"], "\(key).user.gid", as: gid_t.self) ?? 0
        profile.umask = try document.number(value["user"]?["umask"], "\(key).user.umask", as: mode_t.self)
        for (index, item) in (value["user"]?["additionalGids"]?.array ?? []).enumerated() {
            guard let group = try document.number(item, "\(key).user.additionalGids[\(index)]", as: gid_t.self) else { continue }
            profile.additionalGroups.append(group)
        }
        profile.noNewPrivileges = value["noNewPrivileges"]?.bool ?? false
        let available = Capabilities.all & Capabilities.permitted()
        let bounding = try capabilities("bounding")
        profile.keptCapabilities = bounding & available
        profile.capabilitySets = CapabilitySets(effective: try capabilities("effective") & available, permitted: try capabilities("permitted") & available,
                                                inheritable: try capabilities("inheritable") & available, ambient: try capabilities("ambient") & available)
        profile.resourceLimits = try resourceLimits()
        if value["selinuxLabel"].map(OCIDocument.isSet) == true && SELinux.isEnabled {
            throw document.error("\(key).selinuxLabel", "is not supported: swrun applies no SELinux labels", hint: "drop \(key).selinuxLabel")
        }
        if let label = value["apparmorProfile"]?.string, !label.isEmpty {
            // As runc: a profile on a host without AppArmor is refused, not ignored.
            guard AppArmor.isEnabled() else {
                throw document.error("\(key).apparmorProfile", "names a profile, but this host does not run AppArmor", hint: "drop \(key).apparmorProfile")
            }
            profile.appArmorProfile = label
        }
        profile.ioPriority = try ioPriority()
        profile.scheduler = try scheduler()
        profile.execCPUAffinity = try execCPUAffinity()
        var process = ProcessSpec(args: args, profile: profile)
        process.argsOrigin = "\(key).args"
        process.terminal = value["terminal"]?.bool ?? false
        process.terminalIsControlling = true
        process.usesDefaultEnvironment = false
        if let size = value["consoleSize"],
           let rows = try document.number(size["height"], "\(key).consoleSize.height", as: UInt16.self),
           let columns = try document.number(size["width"], "\(key).consoleSize.width", as: UInt16.self) {
            process.consoleSize = (rows, columns)
        }
        process.oomScoreAdjustment = try document.number(value["oomScoreAdj"], "\(key).oomScoreAdj", as: Int.self)
        return process
    }

    /// One capability set ("CAP_NET_RAW" names) as a mask.
    /// What the capability sets ask for that swrun cannot give (it lacks them itself: root
    /// without CAP_SYS_RESOURCE, say), as a warning; nil when it can give them all.
    func ungrantedCapabilities() throws(SwrunError) -> String? {
        var asked: UInt64 = 0
        for set in ["bounding", "effective", "permitted", "inheritable", "ambient"] { asked |= try capabilities(set) }
        let missing = asked & ~(Capabilities.all & Capabilities.permitted())
        guard missing != 0 else { return nil }
        let names = (0..<64).filter { missing & (UInt64(1) << UInt64($0)) != 0 }.map { "CAP_" + Capabilities.name(Int32($0)).uppercased() }
        return "not granted: \(key).capabilities \(names.joined(separator: ", ")), which swrun itself does not hold here"
    }

    private func capabilities(_ set: String) throws(SwrunError) -> UInt64 {
        var mask: UInt64 = 0
        for (index, item) in (value["capabilities"]?[set]?.array ?? []).enumerated() {
            let name = item.string ?? ""
            let short = name.lowercased().hasPrefix("cap_") ? String(name.lowercased().dropFirst(4)) : name.lowercased()
            guard let number = Capabilities.number(short) else {
                throw document.error("\(key).capabilities.\(set)[\(index)]", "'\(name)' is not a capability this kernel knows",
                                     hint: "use the names of capabilities(7), e.g. CAP_NET_BIND_SERVICE")
            }
            mask |= UInt64(1) << UInt64(number)
        }
        return mask
    }

    private func resourceLimits() throws(SwrunError) -> [ResourceLimit] {
        var limits: [ResourceLimit] = []
        for (index, item) in (value["rlimits"]?.array ?? []).enumerated() {
            let itemKey = "\(key).rlimits[\(index)]"
            guard let type = item["type"]?.string, let resource = ResourceLimit.number(ofType: type) else {
                throw document.error(itemKey + ".type", "'\(item["type"]?.string ?? "")' is not an RLIMIT_ name", hint: "for example RLIMIT_NOFILE")
            }
            guard !limits.contains(where: { $0.resource == resource }) else {
                throw document.error(itemKey, "sets \(type) twice", hint: "give each limit once")
            }
            guard let soft = try document.number(item["soft"], itemKey + ".soft", as: UInt64.self),
                  let hard = try document.number(item["hard"], itemKey + ".hard", as: UInt64.self) else {
                throw document.error(itemKey, "needs soft and hard", hint: "for example {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 1024}")
            }
            limits.append(ResourceLimit(resource: resource, name: type, soft: soft, hard: hard))
        }
        return limits
    }
}
