import Glibc
import SwrunCgroups
import SwrunJSON
import SwrunSystem

/// One OCI container as the runtime keeps it: ROOT/ID/ holds state.json (what `state` and
/// `delete` need: the bundle, init's identity, its cgroups), a copy of the bundle's
/// config.json (its hooks still run at delete, when the bundle may be gone), swrun.profile
/// (for exec), and while the container is created but not started, the socket `gate` its
/// init waits on.
public struct OCIContainer: Sendable {
    public enum Status: String, Sendable { case creating, created, running, paused, stopped }

    public let root: String
    public let id: String
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var initProcess: ProcessIdentity?
    public var cgroups: [String] = []
    public var annotations: [String: String] = [:]
    /// What init's payload steps were, to name the one that failed when `start` hears of it.
    public var payloadSteps: [String] = []

    public var directory: String { FileSystem.join(root, id) }
    public var gatePath: String { FileSystem.join(directory, Self.gateName) }
    static let gateName = "gate"
    static let stateName = "state.json"
    static let configName = "config.json"

    public init(root: String, id: String, bundle: String, rootfs: String) {
        self.root = root
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        created = Self.now()
    }

    /// runc's rule for an id: it names a directory, so letters, digits and `_ + - .` only.
    public static func checkID(_ id: String) throws(SwrunError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
        guard !id.isEmpty, id != ".", id != "..", id.count <= 1024, id.allSatisfy(allowed.contains) else {
            throw SwrunError(.invalidArgument, "invalid container id '\(id)'", hint: "use letters, digits, '_', '+', '-' and '.'")
        }
    }

    public static func load(root: String, id: String) throws(SwrunError) -> OCIContainer {
        try checkID(id)
        let path = FileSystem.join(FileSystem.join(root, id), stateName)
        guard let bytes = try? FileSystem.readBytes(path, locked: true) else {
            throw SwrunError(.notFound, "container does not exist: \(id)", hint: "see the containers with `swrun-oci --root \(root) list`")
        }
        guard let document = try? JSONValue(parsing: bytes), let bundle = document["bundle"]?.string else {
            throw SwrunError(.invalidConfig, "\(path) is damaged", hint: "remove the container with `swrun-oci --root \(root) delete --force \(id)`")
        }
        var container = OCIContainer(root: root, id: id, bundle: bundle, rootfs: document["rootfs"]?.string ?? "")
        container.created = document["created"]?.string ?? container.created
        if let pid = document["pid"]?.int.flatMap({ pid_t(exactly: $0) }), let start = document["init_start_time"]?.int64 {
            container.initProcess = ProcessIdentity(pid: pid, startTime: UInt64(start))
        }
        container.cgroups = document["cgroups"]?.array?.compactMap(\.string) ?? []
        container.payloadSteps = document["payload_steps"]?.array?.compactMap(\.string) ?? []
        for (key, value) in document["annotations"]?.object ?? [:] { container.annotations[key] = value.string }
        return container
    }

    public func save() throws(SwrunError) {
        var document: [String: JSONValue] = [
            "id": .string(id), "bundle": .string(bundle), "rootfs": .string(rootfs), "created": .string(created),
            "cgroups": .array(cgroups.map { .string($0) }), "payload_steps": .array(payloadSteps.map { .string($0) }),
            "annotations": .object(annotations.mapValues { .string($0) }),
        ]
        if let initProcess {
            document["pid"] = .number(String(initProcess.pid))
            document["init_start_time"] = .number(String(initProcess.startTime))
        }
        // Saved twice a create (before and after init exists): made once, then rewritten in
        // place under the lock that `load` reads it with.
        try FileSystem.rewrite(FileSystem.join(directory, Self.stateName), Array((JSONValue.object(document).serialized + "\n").utf8), mode: 0o600)
    }

    /// Where the container is in its life: stopped once its init is gone (or was never
    /// made), created while init waits at the gate, paused while its cgroup is frozen.
    public var status: Status {
        guard let initProcess else { return .creating }
        guard initProcess.isAlive else { return .stopped }
        if FileSystem.exists(gatePath) { return .created }
        if let freezer = CgroupFreezer(directories: cgroups), freezer.isFrozen { return .paused }
        return .running
    }

    /// The runtime-spec's state document: what `state` prints and hooks read on stdin.
    public func stateDocument(status: Status? = nil) -> JSONValue {
        let status = status ?? self.status
        var document: [String: JSONValue] = [
            "ociVersion": .string(OCIContainer.specVersion), "id": .string(id), "status": .string(status == .creating ? "creating" : status.rawValue),
            "pid": .number(String(status == .stopped ? 0 : initProcess?.pid ?? 0)), "bundle": .string(bundle),
            "rootfs": .string(rootfs), "created": .string(created), "owner": .string(""),
        ]
        if !annotations.isEmpty { document["annotations"] = .object(annotations.mapValues { .string($0) }) }
        return .object(document)
    }

    public static let specVersion = "1.0.2"

    /// The copy of the bundle's config.json kept beside the state.
    func savedConfig() -> OCIDocument? {
        try? OCIDocument.load(FileSystem.join(directory, Self.configName))
    }

    /// The resctrl group its linux.intelRdt put it in, if any.
    func resctrlGroup() throws(SwrunError) -> ResctrlGroup? {
        guard let document = savedConfig(), let rdt = try IntelRDT.read(document["linux.intelRdt"], in: document) else { return nil }
        return ResctrlGroup(rdt, containerID: id)
    }

    public static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var broken = tm()
        gmtime_r(&seconds, &broken)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let nanoseconds = String(now.tv_nsec)
        return "\(broken.tm_year + 1900)-\(two(broken.tm_mon + 1))-\(two(broken.tm_mday))T\(two(broken.tm_hour)):\(two(broken.tm_min)):\(two(broken.tm_sec))."
            + String(repeating: "0", count: 9 - nanoseconds.count) + nanoseconds + "Z"
    }
}
