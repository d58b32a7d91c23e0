import Glibc
import SwrunJSON
import SwrunNetlink
import SwrunSystem

/// swrun's one nftables table (`ip swrun`): masquerade for the bridges `swrun net up` made,
/// and the ports running containers publish. It is rebuilt whole, in one atomic netlink
/// batch, from small entry files each time something changes, and entries whose owner is
/// dead are dropped on the way: a crashed monitor leaves no rule behind after the next change.
/// The entries live per network namespace, as the table does, under the namespace's cookie
/// (which, unlike its inode number, no later namespace gets again):
///   /run/swrun/nat/NETNS-COOKIE/NAME.json
///   /run/swrun/nat/NETNS-COOKIE/netns      "net:[INODE]", to tell when the namespace is gone
struct NATTable {
    static let tableName = "swrun"
    static let stateRoot = "/run/swrun/nat"
    let directory: String

    init() throws(SwrunError) {
        directory = Self.stateRoot + "/\(try Self.namespaceCookie())"
    }

    /// SO_NETNS_COOKIE (Linux 5.14): a number unique to this network namespace for the whole boot.
    static func namespaceCookie() throws(SwrunError) -> UInt64 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SwrunError.system("cannot identify this network namespace (socket)", Errno.current) }
        defer { close(fd) }
        var cookie: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        guard getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &length) == 0 else {
            throw SwrunError.system("cannot identify this network namespace (SO_NETNS_COOKIE)", Errno.current,
                                    hint: "swrun's NAT needs Linux 5.14 or newer")
        }
        return cookie
    }

    func has(_ key: String) -> Bool { FileSystem.exists(directory + "/" + key + ".json") }

    struct Entry {
        var owner: ProcessIdentity?
        var address: [UInt8] = []
        var ports: [PortPublication] = []
        var masquerade: IPv4Network?

        var json: JSONValue {
            var object: [String: JSONValue] = ["ports": .array(ports.map { .string($0.description) })]
            if let owner { object["pid"] = .number(String(owner.pid)); object["start"] = .number(String(owner.startTime)) }
            if !address.isEmpty { object["address"] = .string(address.map(String.init).joined(separator: ".")) }
            if let masquerade { object["masquerade"] = .string(masquerade.description) }
            return .object(object)
        }

        init(owner: ProcessIdentity? = nil, address: [UInt8] = [], ports: [PortPublication] = [], masquerade: IPv4Network? = nil) {
            (self.owner, self.address, self.ports, self.masquerade) = (owner, address, ports, masquerade)
        }

        init?(_ value: JSONValue) {
            if let pid = value["pid"]?.int, let start = value["start"]?.int64 {
                owner = ProcessIdentity(pid: pid_t(pid), startTime: UInt64(start))
            }
            address = value["address"]?.string.flatMap { IPv4Network($0)?.address } ?? []
            ports = value["ports"]?.array?.compactMap { $0.string.flatMap { try? PortPublication(parsing: $0) } } ?? []
            masquerade = value["masquerade"]?.string.flatMap(IPv4Network.init)
        }

        /// A container's entry lives as long as its init; a bridge's until `net down`.
        var isLive: Bool { owner?.isAlive ?? true }
    }

    /// Entry files are named after the container's directory, so that two LXCPATHs sharing
    /// a namespace keep their own.
    static func key(containerDirectory: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in containerDirectory.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let name = containerDirectory.split(separator: "/").last.map(String.init) ?? "container"
        return "container-\(name)-\(String(hash, radix: 16))"
    }

    static func key(bridge: String) -> String { "bridge-\(bridge)" }

    /// A port of `ports` that a live container other than `key` publishes already.
    func conflict(with ports: [PortPublication], except key: String) -> (PortPublication, String)? {
        for (name, entry) in entries() where name != key && entry.isLive {
            for port in ports where entry.ports.contains(where: { $0.hostPort == port.hostPort && $0.proto == port.proto }) {
                return (port, name)
            }
        }
        return nil
    }

    func set(_ key: String, _ entry: Entry) throws(SwrunError) {
        try change { () throws(SwrunError) in
            try FileSystem.writeAtomically(directory + "/" + key + ".json", entry.json.serialized + "\n")
        }
    }

    func remove(_ key: String) throws(SwrunError) {
        guard FileSystem.exists(directory + "/" + key + ".json") else { return }
        try change { () throws(SwrunError) in try FileSystem.removeTree(directory + "/" + key + ".json") }
    }

    /// Applies one change and rebuilds the table, under the lock, so that two containers
    /// starting at once each see the other's entry.
    private func change(_ body: () throws(SwrunError) -> Void) throws(SwrunError) {
        let lock = try lockState()
        defer { withExtendedLifetime(lock) {} }
        Self.pruneEndedNamespaces(except: directory)
        try body()
        var rules = NATRuleSet(masquerades: [], forwards: [])
        for (name, entry) in entries() {
            guard entry.isLive else { try? FileSystem.removeTree(directory + "/" + name + ".json"); continue }
            if let subnet = entry.masquerade { rules.masquerades.append(.init(subnet: subnet)) }
            for port in entry.ports where entry.address.count == 4 {
                rules.forwards.append(.init(proto: port.proto == .tcp ? .tcp : .udp, hostPort: port.hostPort,
                                            address: entry.address, port: port.containerPort))
            }
        }
        if !rules.masquerades.isEmpty || !rules.forwards.isEmpty {
            // Forwarding between the bridge and the host's other links is what NAT is for.
            try? FileSystem.writeExisting("/proc/sys/net/ipv4/ip_forward", "1")
        }
        let socket = try NetlinkSocket.netfilter()
        try socket.apply(NftablesBatch.replace(table: Self.tableName, with: rules, firstSequence: socket.nextSequence()),
                         what: "replace the nftables table ip \(Self.tableName)")
        // Nothing left: the table is gone, and so goes this namespace's state.
        if rules.masquerades.isEmpty && rules.forwards.isEmpty { try? FileSystem.removeTree(directory) }
    }

    /// The state's lock. The last change removes the directory, so a lock taken on a file
    /// that was removed meanwhile is no lock: take it again on the new one.
    private func lockState() throws(SwrunError) -> FileLock {
        while true {
            try FileSystem.makeDirectories(directory, mode: 0o700)
            let lock = try FileLock.acquire(directory + "/.lock")
            var held = stat(), current = stat()
            if fstat(lock.fd, &held) == 0, stat(directory + "/.lock", &current) == 0, held.st_ino == current.st_ino {
                if !FileSystem.exists(directory + "/netns"), let namespace = Self.namespace(of: "self") {
                    try FileSystem.writeAtomically(directory + "/netns", namespace + "\n")
                }
                return lock
            }
        }
    }

    /// "net:[INODE]" of a process's network namespace.
    private static func namespace(of process: String) -> String? { link("/proc/\(process)/ns/net") }

    /// Removes the state of network namespaces that have ended (a test's or a script's
    /// `unshare -n` that never ran `net down`): their tables went with them. A namespace lives
    /// while a thread is in it, an fd holds it, or a mount (ip netns) pins it; state without a
    /// netns file (older swrun), or whose lock is held, stays.
    private static func pruneEndedNamespaces(except own: String) {
        let others = ((try? FileSystem.listDirectory(stateRoot)) ?? []).map { stateRoot + "/" + $0 }.filter { $0 != own }
        let recorded = others.compactMap { directory in
            (try? FileSystem.readText(directory + "/netns")).map { (directory, $0.trimmingCharacters(in: " \n")) }
        }
        guard !recorded.isEmpty else { return }
        let live = liveNetworkNamespaces()
        for (directory, namespace) in recorded where !live.contains(namespace) {
            guard let lock = try? FileLock.tryAcquire(directory + "/.lock") else { continue }
            try? FileSystem.removeTree(directory)
            withExtendedLifetime(lock) {}
        }
    }

    /// "net:[INODE]" of every network namespace something still holds.
    private static func liveNetworkNamespaces() -> Set<String> {
        var live: Set<String> = []
        for process in ((try? FileSystem.listDirectory("/proc")) ?? []) where process.allSatisfy(\.isNumber) {
            for thread in ((try? FileSystem.listDirectory("/proc/\(process)/task")) ?? []) {
                if let namespace = link("/proc/\(process)/task/\(thread)/ns/net") { live.insert(namespace) }
            }
            for fd in ((try? FileSystem.listDirectory("/proc/\(process)/fd")) ?? []) {
                if let target = link("/proc/\(process)/fd/\(fd)"), target.hasPrefix("net:[") { live.insert(target) }
            }
        }
        // nsfs mounts (ip netns add) show "net:[INODE]" as their root in mountinfo.
        for line in ((try? FileSystem.readText("/proc/self/mountinfo")) ?? "").split(separator: "\n") {
            if let field = line.split(separator: " ").dropFirst(3).first, field.hasPrefix("net:[") { live.insert(String(field)) }
        }
        return live
    }

    private static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink(path, &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }

    private func entries() -> [(String, Entry)] {
        var result: [(String, Entry)] = []
        for file in ((try? FileSystem.listDirectory(directory)) ?? []) where file.hasSuffix(".json") {
            guard let bytes = try? FileSystem.readBytes(directory + "/" + file), let value = try? JSONValue(parsing: bytes),
                  let entry = Entry(value) else { continue }
            result.append((String(file.dropLast(5)), entry))
        }
        return result
    }
}
