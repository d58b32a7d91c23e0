import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// The id-mapped binds of a container (OCI's mounts[].uidMappings, idmap, ridmap), made on
/// the host before the clone as runc makes them: each source cloned as a detached mount
/// (open_tree), given the maps of a user namespace made for it (mount_setattr
/// MOUNT_ATTR_IDMAP), and kept open; init attaches each at its target (move_mount), and
/// the parent closes its copies once init holds them.
final class IDMappedMounts {
    /// The detached mounts, in the order they were made.
    private(set) var fds: [Int32] = []
    private var closed = false

    deinit { close() }

    /// Makes the detached, id-mapped copy of `entry`'s source; its fd, kept until `close`.
    func make(_ entry: MountEntry) throws(SwrunError) -> Int32 {
        let recursive = entry.flags & UInt(MS_REC) != 0
        let tree = swrun_open_tree_clone_flags(entry.source, recursive ? 1 : 0)
        guard tree >= 0 else {
            throw SwrunError.system("\(entry.location.file): cannot clone the mount of \(entry.source) for the id-mapped bind on /\(entry.target)", Errno.current,
                                    hint: "the source must exist; open_tree needs Linux 5.2")
        }
        let namespace: Int32
        do { namespace = try MappedUserNamespace.open(entry.idMaps) } catch {
            Glibc.close(tree)
            throw error
        }
        defer { Glibc.close(namespace) }
        guard swrun_mount_set_idmap_flags(tree, namespace, entry.recursiveIDMap ? 1 : 0) == 0 else {
            let error = Errno.current
            Glibc.close(tree)
            throw SwrunError.system("\(entry.location.file): cannot id-map the bind of \(entry.source) on /\(entry.target)", error,
                                    hint: "idmapped mounts need Linux 5.12 and a filesystem that takes them (ext4, xfs, btrfs; tmpfs from 6.3)")
        }
        fds.append(tree)
        return tree
    }

    /// Closes the parent's copies: once init has its own, or when the plan goes.
    func close() {
        guard !closed else { return }
        closed = true
        for fd in fds { Glibc.close(fd) }
    }
}
