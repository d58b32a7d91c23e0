import Glibc
import SwrunConfig
import SwrunSystem

/// lxc-create's storage options for the backing stores that are filesystems of their own.
public struct StorageOptions: Sendable {
    /// --fstype: the filesystem of a loop image or a volume.
    public var fstype = "ext4"
    /// --fssize: its size in bytes (LXC's default: 1 GiB).
    public var size: Int64 = 1 << 30
    /// --vgname, --lvname: the volume group (LXC's default "lxc") and the volume's name (the container's).
    public var volumeGroup = "lxc"
    public var volumeName: String?
    /// --zfsroot: the dataset below which the container's goes (LXC's default "lxc").
    public var zfsRoot = "lxc"

    public init() {}

    /// "2G", "512M", "1048576": bytes, with K, M, G or T as powers of 1024.
    public static func size(_ text: String) throws(SwrunError) -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var unit: Int64 = 1
        if let last = digits.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        } else if digits.hasSuffix("B"), let factor = units[digits.dropLast().last ?? " "] {
            unit = factor
            digits = digits.dropLast(2)
        }
        guard let value = Int64(digits), value > 0, value <= Int64.max / unit else {
            throw SwrunError(.invalidArgument, "--fssize \(text) is not a size", hint: "give bytes, or a number with K, M, G or T: 2G")
        }
        return value * unit
    }
}

/// Makes a new container's rootfs in the backing store asked for, and mounts it (in this
/// process's own mount namespace) while the template fills it: a directory, a btrfs
/// subvolume, an image file on a loop device, an LVM volume, a ZFS dataset. What lives outside
/// the container's directory (a volume, a dataset) goes again with `remove`.
enum ContainerStorage {
    /// Makes the rootfs of the container in `directory`; returns lxc.rootfs.path's value and,
    /// for a filesystem of its own, the device, which is mounted on `rootfs` now.
    static func make(_ store: BackingStore, name: String, directory: String, rootfs: String,
                     options: StorageOptions) throws(SwrunError) -> (value: String, device: RootDevice?) {
        switch store {
        case .dir, .overlay:
            try FileSystem.makeDirectory(rootfs, mode: 0o755)
            return ("dir:" + rootfs, nil)
        case .btrfs:
            try BackingStore.requireBtrfs(FileSystem.parentPath(directory))
            try Btrfs.createSubvolume(rootfs)
            return ("btrfs:" + rootfs, nil)
        case .loop:
            try FileSystem.makeDirectory(rootfs, mode: 0o755)
            let image = FileSystem.join(directory, "rootdev")
            let fd = open(image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SwrunError.system("cannot make the rootfs image \(image)", Errno.current) }
            let sized = ftruncate(fd, off_t(options.size)) == 0
            close(fd)
            guard sized else { throw SwrunError.system("cannot size \(image) to \(options.size) bytes", Errno.current) }
            try FilesystemMaker.make(options.fstype, on: image)
            let device = RootDevice.loop(image: image)
            try RootfsMount.mount(device, at: rootfs)
            return (device.configValue, device)
        case .lvm:
            try FileSystem.makeDirectory(rootfs, mode: 0o755)
            let volume = options.volumeName ?? name
            let path = "/dev/\(options.volumeGroup)/\(volume)"
            try StorageTool.run(["vgs", options.volumeGroup], package: "lvm2", what: "-B lvm (the volume group \(options.volumeGroup), --vgname)")
            try StorageTool.run(["lvcreate", "-q", "-y", "-L", "\(options.size)b", "-n", volume, options.volumeGroup], package: "lvm2",
                                what: "the logical volume \(path)")
            try FilesystemMaker.make(options.fstype, on: path)
            let device = RootDevice.block(device: path)
            try RootfsMount.mount(device, at: rootfs)
            return (device.configValue, device)
        case .zfs:
            try FileSystem.makeDirectory(rootfs, mode: 0o755)
            let dataset = options.zfsRoot + "/" + name
            try StorageTool.run(["zfs", "create", "-o", "mountpoint=legacy", dataset], package: "zfsutils-linux",
                                what: "-B zfs (the dataset \(dataset) below --zfsroot \(options.zfsRoot))")
            let device = RootDevice.zfs(dataset: dataset)
            try RootfsMount.mount(device, at: rootfs)
            return (device.configValue, device)
        }
    }

    /// Removes what a container's rootfs has outside its directory: its LVM volume or ZFS dataset.
    static func remove(_ device: RootDevice?) throws(SwrunError) {
        switch device {
        case .block(let path)?: try StorageTool.run(["lvremove", "-q", "-f", path], package: "lvm2", what: "removing \(path)")
        case .zfs(let dataset)?: try StorageTool.run(["zfs", "destroy", "-r", dataset], package: "zfsutils-linux", what: "removing \(dataset)")
        case .loop?, nil: return
        }
    }
}
