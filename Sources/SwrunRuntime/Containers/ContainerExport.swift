import Glibc
import SwrunConfig
import SwrunSystem

/// `swrun export` (docker export): a container's files as one tar archive, as the container
/// sees them: a running one through its init's root, a stopped one as ContainerFiles gives
/// them (an overlay's layers merged, a loop image mounted); an unprivileged container's
/// owners as it sees them too (its host ids shifted back through lxc.idmap).
/// Owners stay numeric and extended attributes come along; no other filesystem is entered,
/// so a running container's /proc, /sys and /dev are left out.
public enum ContainerExport {
    public static func export(_ name: String, of store: ContainerStore, to output: Int32) throws(SwrunError) {
        try store.requireExisting(name)
        let config = try store.config(of: name)
        let directory = store.directory(of: name)
        let maps = try OwnerMapFiles(config.idmaps, in: directory)
        defer { maps?.remove() }
        if let pid = store.status(of: name).initPID {
            return try archive(root: "/proc/\(pid)/root", to: output, running: true, maps: maps)
        }
        try ContainerFiles.withFiles(of: config, in: directory, scratch: ".export") { (root) throws(SwrunError) in
            try archive(root: root, to: output, maps: maps)
        }
    }

    /// GNU tar: pax format for the attributes, without the access and change times that
    /// would make every archive differ. Files of a running container may change as they are
    /// read; tar's status 1 says so, and that archive is still whole.
    static func archive(root: String, to output: Int32, running: Bool = false, maps: OwnerMapFiles? = nil) throws(SwrunError) {
        let argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--pax-option=delete=atime,delete=ctime",
                    "--one-file-system"] + (running ? ["--warning=no-file-changed"] : [])
            + (maps.map { ["--owner-map=" + $0.owners, "--group-map=" + $0.groups] } ?? []) + ["-C", root, "-cf", "-", "."]
        let pid: pid_t
        do { pid = try Subprocess.spawn(argv, stdout: .fd(output)) } catch {
            throw SwrunError.system("cannot run tar to export \(root)", error, hint: "install tar")
        }
        let status = try waitForProcess(pid)
        guard status == .exited(0) || (running && status == .exited(1)) else {
            throw SwrunError(.system, "tar of \(root) \(status)", hint: "see tar's message above; the output may be full or unwritable")
        }
    }
}

/// GNU tar's --owner-map and --group-map files for an unprivileged container: a line
/// "+HOST +CONTAINER" for each id of its lxc.idmap ranges, so that the archive holds the ids
/// the container sees. Written in the container's directory, removed after.
struct OwnerMapFiles {
    let owners: String
    let groups: String

    /// nil for a container without maps (its ids are the host's).
    init?(_ maps: [IDMap], in directory: String) throws(SwrunError) {
        guard maps.contains(where: { $0.kind == .uid }) || maps.contains(where: { $0.kind == .gid }) else { return nil }
        owners = FileSystem.join(directory, ".export-owners")
        groups = FileSystem.join(directory, ".export-groups")
        try FileSystem.writeAtomically(owners, Self.lines(maps, .uid), mode: 0o600)
        try FileSystem.writeAtomically(groups, Self.lines(maps, .gid), mode: 0o600)
    }

    static func lines(_ maps: [IDMap], _ kind: IDMap.Kind) -> String {
        var text = ""
        for map in maps where map.kind == kind {
            for offset in 0..<map.count { text += "+\(map.hostID + offset) +\(map.containerID + offset)\n" }
        }
        return text
    }

    func remove() {
        unlink(owners)
        unlink(groups)
    }
}
