import Glibc
import SwrunImages
import SwrunSystem

/// `swrun build --output type=tar`: the built image's files as one tar archive, its layers
/// merged (a read-only view of them, as COPY --from sees a stage), written as `swrun export`
/// writes a container's.
public enum BuildExport {
    public static func rootfs(of image: BuildImage, to destination: String) throws(SwrunError) {
        var template = Array("/tmp/swrun-build-export-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError.system("cannot make a directory in /tmp", Errno.current) }
        let view = String(cString: made)
        try BuildView.mount(image.lowers, at: view)
        defer { BuildView.unmount(view) }
        let output = destination == "-" ? dup(1) : open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw SwrunError.system("cannot write \(destination)", Errno.current) }
        defer { close(output) }
        try ContainerExport.archive(root: view, to: output)
    }
}
