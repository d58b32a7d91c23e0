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
///   /run/swrun/nat/NETNS-COOKIE/route_localnet-BRIDGE   swrun turned route_localnet on there
///
/// The host's own connections to 127.0.0.1 reach published ports too, as Docker users expect,
/// in the kernel and with no proxy: the output chain forwards them, but a packet from
/// 127.0.0.1 may leave by another link than lo only where net.ipv4.conf.LINK.route_localnet
/// is 1, so swrun sets it on the bridge of a container that publishes on loopback (and on
/// no other link, nor `all`), masquerades those connections to the bridge's address, and
/// drops what comes in on that bridge for 127.0.0.0/8. It turns the setting off again when
/// the last such port goes, if it was swrun that turned it on.
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
        /// The ports as published: a port left to the start is the one it chose.
        var ports: [PortPublication] = []
        var masquerade: IPv4Network?
        /// The bridge the container's address is on, for connections from the host's loopback.
        var bridge: String?

        var json: JSONValue {
            var object: [String: JSONValue] = ["ports": .array(ports.map { .string($0.description) })]
            if let owner { object["pid"] = .number(String(owner.pid)); object["start"] = .number(String(owner.startTime)) }
            if !address.isEmpty { object["address"] = .string(address.map(String.init).joined(separator: ".")) }
            if let masquerade { object["masquerade"] = .string(masquerade.description) }
            if let bridge { object["bridge"] = .string(bridge) }
            return .object(object)
        }

        init(owner: ProcessIdentity? = nil, address: [UInt8] = [], ports: [PortPublication] = [], masquerade: IPv4Network? = nil,
             bridge: String? = nil) {
            (self.owner, self.address, self.ports, self.masquerade, self.bridge) = (owner, address, ports, masquerade, bridge)
        }

        init?(_ value: JSONValue) {
            if let pid = value["pid"]?.int, let start = value["start"]?.int64 {
                owner = ProcessIdentity(pid: pid_t(pid), startTime: UInt64(start))
            }
            address = value["address"]?.string.flatMap { IPv4Network($0)?.address } ?? []
            ports = value["ports"]?.array?.compactMap { $0.string.flatMap { try? PortPublication(parsing: $0) } } ?? []
            masquerade = value["masquerade"]?.string.flatMap(IPv4Network.init)
            bridge = value["bridge"]?.string.flatMap { LinkName.problem($0) == nil ? $0 : nil }
        }

        /// The bridge that the host's connections to 127.0.0.1 leave by for this entry's ports.
        var loopbackBridge: String? {
            guard address.count == 4, ports.contains(where: { $0.hostAddress == nil || $0.hostAddress?.first == 127 }) else { return nil }
            return bridge
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
            for port in ports where port.hostPort != 0 && entry.ports.contains(where: port.overlaps) {
                return (port, name)
            }
        }
        return nil
    }

    /// The ports a live entry publishes; none when there is no such entry.
    func ports(of key: String) -> [PortPublication] {
        entries().first { $0.0 == key && $0.1.isLive }?.1.ports ?? []
    }

    /// Sets `key`'s entry with its ports as published, and returns them: a port left to the
    /// start gets a free one here, under the lock, so that two starts never choose the same.
    func publish(_ key: String, _ entry: Entry) throws(SwrunError) -> [PortPublication] {
        var published = entry
        try change { () throws(SwrunError) in
            published.ports = try choosePorts(entry.ports, except: key)
            try FileSystem.writeAtomically(directory + "/" + key + ".json", published.json.serialized + "\n")
        }
        return published.ports
    }

    /// `ports` with each host port 0 replaced by the first of the host's ephemeral range
    /// (ip_local_port_range, as Docker takes it) that no live container publishes and no socket
    /// of the host holds; a port another container publishes already stops the start.
    private func choosePorts(_ ports: [PortPublication], except key: String) throws(SwrunError) -> [PortPublication] {
        if let (port, owner) = conflict(with: ports, except: key) { throw Self.published(port, by: owner) }
        var taken = entries().filter { $0.0 != key && $0.1.isLive }.flatMap(\.1.ports)
        var chosen: [PortPublication] = []
        for var port in ports {
            if port.hostPort == 0 {
                let range = HostPorts.ephemeralRange()
                guard let free = range.first(where: { candidate in
                    var trial = port
                    trial.hostPort = candidate
                    return !taken.contains(where: trial.overlaps) && HostPorts.problem(trial) == nil
                }) else {
                    throw SwrunError(.busy, "no free host port for \(port) in \(range.lowerBound)-\(range.upperBound)",
                                     hint: "publish on a port of your choice: -p HOSTPORT:\(port.containerPort)")
                }
                port.hostPort = free
            } else if taken.contains(where: port.overlaps) {
                throw SwrunError(.invalidArgument, "host port \(port.hostPort)/\(port.proto.rawValue) is published twice",
                                 hint: "give each -p its own host port")
            }
            taken.append(port)
            chosen.append(port)
        }
        return chosen
    }

    static func published(_ port: PortPublication, by owner: String) -> SwrunError {
        SwrunError(.alreadyExists, "host port \(port.hostPort)/\(port.proto.rawValue) is published already (\(owner))",
                   hint: "choose another host port, or stop the container that publishes it")
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
        var rules = NATRuleSet()
        var loopbackBridges: Set<String> = []
        for (name, entry) in entries() {
            guard entry.isLive else { try? FileSystem.removeTree(directory + "/" + name + ".json"); continue }
            if let subnet = entry.masquerade { rules.masquerades.append(.init(subnet: subnet)) }
            for port in entry.ports where entry.address.count == 4 && port.hostPort != 0 {
                rules.forwards.append(.init(proto: port.proto == .tcp ? .tcp : .udp, hostAddress: port.hostAddress,
                                            hostPort: port.hostPort, address: entry.address, port: port.containerPort))
            }
            if let bridge = entry.loopbackBridge { loopbackBridges.insert(bridge) }
        }
        rules.loopbackBridges = loopbackBridges.sorted()
        if !rules.isEmpty {
            // Forwarding between the bridge and the host's other links is what NAT is for.
            try? FileSystem.writeExisting("/proc/sys/net/ipv4/ip_forward", "1")
        }
        let socket = try NetlinkSocket.netfilter()
        try socket.apply(NftablesBatch.replace(table: Self.tableName, with: rules, firstSequence: socket.nextSequence()),
                         what: "replace the nftables table ip \(Self.tableName)")
        // After the guard is in place, and before the directory that remembers it may go.
        settleRouteLocalnet(on: loopbackBridges)
        // Nothing left: the table is gone, and so goes this namespace's state.
        if rules.isEmpty { try? FileSystem.removeTree(directory) }
    }

    static let routeLocalnetMark = "route_localnet-"

    /// net.ipv4.conf.BRIDGE.route_localnet is 1 on `bridges`, and back to 0 on those where
    /// swrun turned it on and no published port needs it any more (a bridge that is gone
    /// took the setting along).
    private func settleRouteLocalnet(on bridges: Set<String>) {
        func path(_ bridge: String) -> String { "/proc/sys/net/ipv4/conf/\(bridge)/route_localnet" }
        for bridge in bridges.sorted() where LinkName.problem(bridge) == nil {
            let current = (try? FileSystem.readText(path(bridge)))?.trimmingCharacters(in: " \n")
            guard current == "0", (try? FileSystem.writeExisting(path(bridge), "1")) != nil else { continue }
            try? FileSystem.writeAtomically(directory + "/" + Self.routeLocalnetMark + bridge, "1\n")
        }
        for file in ((try? FileSystem.listDirectory(directory)) ?? []) where file.hasPrefix(Self.routeLocalnetMark) {
            let bridge = String(file.dropFirst(Self.routeLocalnetMark.count))
            guard !bridges.contains(bridge) else { continue }
            if LinkName.problem(bridge) == nil { try? FileSystem.writeExisting(path(bridge), "0") }
            try? FileSystem.removeTree(directory + "/" + file)
        }
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

extension ContainerStore {
    /// The ports container `name` publishes while it runs, with the host ports its start
    /// chose, as this network namespace's NAT table has them; none when it is not running.
    public func publishedPorts(of name: String) throws(SwrunError) -> [PortPublication] {
        try NATTable().ports(of: NATTable.key(containerDirectory: directory(of: name)))
    }
}
