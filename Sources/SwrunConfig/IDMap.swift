/// One lxc.idmap line: "u 0 100000 65536" maps container IDs 0... to host IDs 100000...
public struct IDMap: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case uid = "u", gid = "g" }

    public var kind: Kind
    public var containerID: UInt32
    public var hostID: UInt32
    public var count: UInt32

    public init(kind: Kind, containerID: UInt32, hostID: UInt32, count: UInt32) {
        self.kind = kind
        self.containerID = containerID
        self.hostID = hostID
        self.count = count
    }

    /// "u|g CONTAINER_ID HOST_ID COUNT", blank-separated, as LXC's parse_idmaps reads it.
    static func parse(_ value: String) throws(ValueError) -> IDMap {
        let hint = "write 'u CONTAINER_ID HOST_ID COUNT' or 'g ...', e.g. 'u 0 100000 65536'"
        let fields = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 4, let kind = Kind(rawValue: fields[0]) else {
            throw ValueError("'\(value)' is not an ID mapping", hint: hint)
        }
        var numbers: [UInt32] = []
        for field in fields.dropFirst() {
            guard let number = Numbers.unsigned32(field) else { throw ValueError("'\(field)' is not a number", hint: hint) }
            numbers.append(number)
        }
        let map = IDMap(kind: kind, containerID: numbers[0], hostID: numbers[1], count: numbers[2])
        guard map.count > 0 else { throw ValueError("the mapping of '\(value)' has no IDs (count 0)", hint: hint) }
        guard UInt64(map.containerID) + UInt64(map.count) <= 1 << 32, UInt64(map.hostID) + UInt64(map.count) <= 1 << 32 else {
            throw ValueError("the mapping of '\(value)' runs past the largest ID (4294967295)", hint: hint)
        }
        return map
    }
}

extension [IDMap] {
    /// The overflow id (nobody): what a container sees for a host id outside its maps.
    public static let overflowID: UInt32 = 65534

    /// Host id `id` as the container sees it, through the maps of `kind`: shifted back into
    /// the container's range, or the overflow id where no map holds it. Without maps of
    /// that kind (a privileged container), the id as it is.
    public func containerID(ofHost id: UInt32, _ kind: IDMap.Kind) -> UInt32 {
        let maps = filter { $0.kind == kind }
        guard !maps.isEmpty else { return id }
        return maps.first { id >= $0.hostID && id - $0.hostID < $0.count }.map { $0.containerID + (id - $0.hostID) } ?? Self.overflowID
    }
}
