import Glibc
import SwrunConfig
import SwrunSystem

/// A stopped container's files as one directory, whatever holds them: its rootfs directory,
/// or its overlay or filesystem mounted (in this process's own mount namespace) on a scratch
/// directory of its own, unmounted and removed after.
enum ContainerFiles {
    static func withFiles<T>(of config: ContainerConfig, in directory: String, scratch: String,
                             _ body: (String) throws(SwrunError) -> T) throws(SwrunError) -> T {
        guard config.rootOverlay != nil || config.rootDevice != nil else {
            return try body(ContainerSpec.rootfsPath(config, directory: directory))
        }
        let view = FileSystem.join(directory, scratch)
        try? FileSystem.removeTree(view)
        try FileSystem.makeDirectory(view, mode: 0o700)
        defer { rmdir(view) }
        if let overlay = config.rootOverlay { try RootfsMount.mount(overlay, at: view, idMaps: config.idmaps) }
        if let device = config.rootDevice { try RootfsMount.mount(device, at: view) }
        defer { RootfsMount.unmount(at: view, overlay: config.rootOverlay) }
        return try body(view)
    }
}
