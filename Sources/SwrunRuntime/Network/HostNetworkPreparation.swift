import SwrunSystem

/// What a start does to the host's network before anything is planned: each bridged link's
/// address settled (the default bridge made if it is missing, an address leased on the
/// bridge, `auto` gateways resolved), and /etc/hosts and /etc/resolv.conf written into the
/// rootfs for the address. The plan is then made from the settled spec, and makes nothing.
enum HostNetworkPreparation {
    /// Settles `spec`'s links for container `name` of `lxcPath`; returns what it did that the
    /// user should hear of (a bridge made on demand).
    static func prepare(_ spec: inout ContainerSpec, container name: String, lxcPath: String) throws(SwrunError) -> [String] {
        guard !spec.networks.isEmpty else {
            NetworkFiles.writeExtras(spec, hostname: spec.hostname ?? name)
            return []
        }
        // What can be refused from the spec alone is, before a bridge may be made below.
        try StartPlan.validate(idMaps: spec.idMaps)
        try SubordinateIDs.checkDelegation(spec.idMaps)
        var notes: [String] = []
        for position in spec.networks.indices {
            try spec.networks[position].settleAddresses(container: name, lxcPath: lxcPath) { notes.append($0) }
        }
        if let address = spec.networks.lazy.compactMap(\.address).first?.address, FileSystem.isDirectory(spec.rootfs) {
            NetworkFiles.write(rootfs: spec.rootfs, hostname: spec.hostname ?? name, address: address, owner: spec.rootOnHost ?? (uid: 0, gid: 0),
                               extraHosts: spec.extraHosts, dnsServers: spec.dnsServers)
        } else {
            NetworkFiles.writeExtras(spec, hostname: spec.hostname ?? name)
        }
        return notes
    }
}
