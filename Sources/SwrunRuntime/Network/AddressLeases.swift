import Glibc
import SwrunNetlink
import SwrunSystem

/// IPv4 addresses handed to containers on a bridge, without a DHCP server. One file a
/// bridge, LXCPATH/.swrun-leases/BRIDGE, holds a line "ADDRESS NAME" a container; a lease
/// lasts until the container is destroyed, so a container keeps its address across
/// restarts.
///
/// An flock on the directory itself makes leases and releases take turns. No lock file sits
/// beside the tables, and every write here happens under that lock: whoever holds it knows
/// that a BRIDGE.swrun-tmp-* file is no write in flight but one killed half-way, and removes
/// it. A lease whose container directory is gone (a destroy killed before its release, or a
/// release that failed) is reclaimed by the next lease or release: leases are taken at start,
/// when the container's directory exists, and its directory goes before its release.
/// OCI containers (ROOT/ID) configure no bridge, so they take no lease.
struct AddressLeases {
    let lxcPath: String
    let directory: String

    init(lxcPath: String) {
        self.lxcPath = lxcPath
        directory = FileSystem.join(lxcPath, ".swrun-leases")
    }

    /// The address `name` holds on `bridge`, whose own address is `bridgeAddress`. With
    /// `requested`, that address, refused when outside the bridge's subnet or held by another
    /// container; without, the one `name` already holds, or else the lowest free one. A
    /// refusal names `key`, the config key the address came from.
    func lease(for name: String, on bridge: String, bridgeAddress: IPv4Network,
               requested: [UInt8]?, key: String) throws(SwrunError) -> [UInt8] {
        try FileSystem.makeDirectories(directory, mode: 0o700)
        let lock = try FileLock.acquire(directory: directory)
        defer { withExtendedLifetime(lock) {} }
        removeLeftovers()
        let path = FileSystem.join(directory, bridge)
        var table = try LeaseTable(file: path)
        table.removeAll { $0 != name && containerIsGone($0) }
        let address: [UInt8]
        do {
            address = try table.assign(name, in: bridgeAddress, requested: requested)
        } catch {
            throw error.explained(key: key, bridge: bridge, leases: path)
        }
        try FileSystem.writeAtomically(path, table.text, mode: 0o600)
        return address
    }

    /// Frees every address `name` holds (on destroy), and those of containers gone meanwhile.
    func release(_ name: String) throws(SwrunError) {
        guard FileSystem.isDirectory(directory) else { return }
        let lock = try FileLock.acquire(directory: directory)
        defer { withExtendedLifetime(lock) {} }
        for file in removeLeftovers() {
            let path = FileSystem.join(directory, file)
            var table = try LeaseTable(file: path)
            guard !table.removeAll(where: { $0 == name || containerIsGone($0) }).isEmpty else { continue }
            try FileSystem.writeAtomically(path, table.text, mode: 0o600)
        }
    }

    /// Removes what is not a lease table (see LeaseFile), with the lock held; the tables left.
    @discardableResult
    private func removeLeftovers() -> [String] {
        var tables: [String] = []
        for file in (try? FileSystem.listDirectory(directory)) ?? [] {
            let path = FileSystem.join(directory, file)
            switch LeaseFile(name: file, size: FileSystem.size(of: path)) {
            case .table: tables.append(file)
            case .leftover: unlink(path)
            case .foreign: continue
            }
        }
        return tables
    }

    private func containerIsGone(_ name: String) -> Bool {
        FileSystem.kind(of: FileSystem.join(lxcPath, name)) == nil
    }
}

/// What a file in LXCPATH/.swrun-leases is, by its name.
enum LeaseFile: Equatable {
    /// A bridge's lease table: named as a link may be named.
    case table
    /// FileSystem.writeAtomically's temporary file (BRIDGE.swrun-tmp-PID-RANDOM) of a writer
    /// that was killed; a lock file an earlier release took on another's temporary file
    /// (BRIDGE.swrun-tmp-PID-RANDOM.lock); an empty BRIDGE.lock, of the per-bridge locks
    /// used before the directory's own.
    case leftover
    /// Anything else (a file named as no link can be): left alone.
    case foreign

    /// `size`: the file's size in bytes, nil when unknown.
    init(name: String, size: Int?) {
        if name.contains(".swrun-tmp-") {
            self = .leftover
        } else if name.hasSuffix(".lock") && size == 0 {
            self = .leftover
        } else if Self.isLinkName(name) {
            self = .table
        } else {
            self = .foreign
        }
    }

    /// As the kernel takes a link name: 1 to 15 bytes, no '/', ':' or white space, not . or ..
    static func isLinkName(_ name: String) -> Bool {
        (1...15).contains(name.utf8.count) && name != "." && name != ".."
            && !name.utf8.contains { $0 <= 0x20 || $0 == 0x2F || $0 == 0x3A || $0 == 0x7F }
    }
}

/// Why an address could not be leased.
enum LeaseError: Error, Equatable {
    case outsideSubnet(IPv4Network)
    case heldBy(String)
    case bridgeAddress
    case exhausted(IPv4Network)

    func explained(key: String, bridge: String, leases: String) -> SwrunError {
        switch self {
        case .outsideSubnet(let subnet):
            SwrunError(.invalidConfig, "\(key): the address is outside \(subnet), the subnet of the bridge \(bridge)",
                       hint: "pick an address in \(subnet), or remove the key to have one allocated")
        case .heldBy(let holder):
            SwrunError(.busy, "\(key): the address is leased to the container '\(holder)' on \(bridge)",
                       hint: "pick another address, or remove the key to have a free one allocated (leases: \(leases))")
        case .bridgeAddress:
            SwrunError(.invalidConfig, "\(key): the address is the bridge \(bridge)'s own",
                       hint: "pick another address of the bridge's subnet")
        case .exhausted(let subnet):
            SwrunError(.busy, "\(key): every address of \(subnet) on \(bridge) is leased",
                       hint: "destroy containers you no longer need (their leases go with them: \(leases))")
        }
    }
}

/// The leases of one bridge, in file order: what AddressLeases reads, changes and writes.
struct LeaseTable {
    private(set) var entries: [(address: [UInt8], name: String)] = []

    init() {}

    /// The table in `path`; empty when there is no such file yet.
    init(file path: String) throws(SwrunError) {
        self.init(text: FileSystem.exists(path) ? String(decoding: try FileSystem.readBytes(path), as: UTF8.self) : "")
    }

    /// "ADDRESS NAME" lines; anything else (a line written by hand, half an edit) is dropped.
    init(text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let network = IPv4Network(String(fields[0])), network.prefixLength == 32 else { continue }
            entries.append((network.address, String(fields[1])))
        }
    }

    var text: String {
        entries.map { "\($0.address.map(String.init).joined(separator: ".")) \($0.name)\n" }.joined()
    }

    /// Gives `name` an address of the bridge's subnet and records it (see AddressLeases.lease).
    mutating func assign(_ name: String, in bridge: IPv4Network, requested: [UInt8]?) throws(LeaseError) -> [UInt8] {
        let subnet = IPv4Range(bridge)
        if let requested {
            guard subnet.contains(requested) else { throw .outsideSubnet(subnet.network) }
            guard requested != bridge.address else { throw .bridgeAddress }
            if let holder = entries.first(where: { $0.address == requested && $0.name != name }) { throw .heldBy(holder.name) }
            entries.removeAll { $0.name == name }
            entries.append((requested, name))
            return requested
        }
        if let held = entries.first(where: { $0.name == name && subnet.contains($0.address) }) { return held.address }
        let taken = Set(entries.map { IPv4Range.number($0.address) } + [IPv4Range.number(bridge.address)])
        guard let free = subnet.hosts.first(where: { !taken.contains($0) }) else { throw .exhausted(subnet.network) }
        entries.removeAll { $0.name == name }
        entries.append((IPv4Range.bytes(free), name))
        return IPv4Range.bytes(free)
    }

    /// Removes `name`'s lease; whether it had one.
    mutating func remove(_ name: String) -> Bool {
        let before = entries.count
        entries.removeAll { $0.name == name }
        return entries.count != before
    }

    /// Removes the leases of the containers `gone` picks; their names.
    @discardableResult
    mutating func removeAll(where gone: (String) -> Bool) -> [String] {
        var removed: [String] = []
        entries.removeAll { entry in
            guard gone(entry.name) else { return false }
            removed.append(entry.name)
            return true
        }
        return removed
    }
}

/// The addresses of a subnet as numbers, for allocation.
struct IPv4Range {
    let first: UInt32  // the network address
    let last: UInt32   // the broadcast address

    init(_ network: IPv4Network) {
        let mask: UInt32 = network.prefixLength == 0 ? 0 : ~UInt32(0) << (32 - UInt32(network.prefixLength))
        first = Self.number(network.address) & mask
        last = first | ~mask
    }

    var network: IPv4Network {
        IPv4Network(address: Self.bytes(first), prefixLength: UInt8(32 - (last - first + 1).trailingZeroBitCount))!
    }

    /// Addresses a host may have: not the network or broadcast address (a /31 or /32 has no such pair).
    var hosts: ClosedRange<UInt32> { last - first < 2 ? first...last : (first + 1)...(last - 1) }

    func contains(_ address: [UInt8]) -> Bool { hosts.contains(Self.number(address)) }

    static func number(_ address: [UInt8]) -> UInt32 { address.reduce(0) { $0 << 8 | UInt32($1) } }
    static func bytes(_ number: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: number >> $0) } }
}
