/// A container's rootfs that is a filesystem of its own, mounted on LXCPATH/NAME/rootfs when
/// the container starts, as LXC's storage drivers mount it.
public enum RootDevice: Sendable, Equatable {
    /// An image file (lxc-create -B loop), attached to a free loop device.
    case loop(image: String)
    /// A block device: an LVM logical volume (lxc-create -B lvm).
    case block(device: String)
    /// A ZFS dataset (lxc-create -B zfs), mounted as LXC mounts it (mountpoint=legacy).
    case zfs(dataset: String)

    /// The value of lxc.rootfs.path.
    public var configValue: String {
        switch self {
        case .loop(let image): "loop:" + image
        case .block(let device): "lvm:" + device
        case .zfs(let dataset): "zfs:" + dataset
        }
    }
}
