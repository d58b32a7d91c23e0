import CLinux
import Glibc
import SwrunSystem

/// The storage tools a backing store needs, run as LXC's drivers run them: btrfs-progs for
/// subvolumes, mkfs for loop images and volumes, LVM's and ZFS's own commands. A missing tool
/// is named with the package that has it.
enum StorageTool {
    static func run(_ argv: [String], package: String, what: String) throws(SwrunError) {
        let status: Int32
        do {
            status = try Subprocess.run(argv).status
        } catch where error.code == .commandNotFound {
            throw SwrunError(.missingDependency, "\(what) needs \(argv[0]), which is not installed", hint: "install \(package)")
        }
        guard status == 0 else {
            throw SwrunError(.system, "\(argv.joined(separator: " ")) failed with status \(status) (\(what))", hint: "see its message above")
        }
    }
}

enum Btrfs {
    static func createSubvolume(_ path: String) throws(SwrunError) {
        try StorageTool.run(["btrfs", "-q", "subvolume", "create", path], package: "btrfs-progs", what: "a btrfs subvolume")
    }

    static func deleteSubvolume(_ path: String) throws(SwrunError) {
        guard FileSystem.isDirectory(path) else { return }
        try StorageTool.run(["btrfs", "-q", "subvolume", "delete", path], package: "btrfs-progs", what: "removing the subvolume \(path)")
    }

    static func snapshot(_ source: String, to path: String) throws(SwrunError) {
        try StorageTool.run(["btrfs", "-q", "subvolume", "snapshot", source, path], package: "btrfs-progs", what: "a btrfs snapshot")
    }

    /// Whether `path` is the root of a btrfs subvolume (its inode is always 256 there).
    static func isSubvolume(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_ino == 256 && Int64(swrun_filesystem_type(path)) == BackingStore.btrfsMagic
    }

    /// Removes a container's directory (or what was moved aside of one) whose rootfs may be a
    /// subvolume: removeTree stops at a subvolume, as at any other filesystem.
    static func removeTree(_ path: String) throws(SwrunError) {
        if isSubvolume(path) { return try deleteSubvolume(path) }
        for entry in (try? FileSystem.listDirectory(path)) ?? [] where isSubvolume(FileSystem.join(path, entry)) {
            try deleteSubvolume(FileSystem.join(path, entry))
        }
        try FileSystem.removeTree(path)
    }
}

/// A new filesystem on an image file or a volume.
enum FilesystemMaker {
    static func make(_ fstype: String, on target: String) throws(SwrunError) {
        let force = fstype.hasPrefix("ext") ? ["-F"] : fstype == "xfs" || fstype == "btrfs" ? ["-f"] : []
        try StorageTool.run(["mkfs." + fstype, "-q"] + force + [target],
                            package: fstype.hasPrefix("ext") ? "e2fsprogs" : fstype == "xfs" ? "xfsprogs" : fstype == "btrfs" ? "btrfs-progs" : "the mkfs.\(fstype) tools",
                            what: "a \(fstype) filesystem on \(target)")
    }
}
