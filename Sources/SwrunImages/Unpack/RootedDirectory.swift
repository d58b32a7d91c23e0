import CLinux
import Glibc
import SwrunSystem

/// A directory tree that paths are resolved inside by the kernel: openat2 with
/// RESOLVE_IN_ROOT makes `..` and every symlink, absolute or not, stop at the root,
/// so no archive member can reach outside it, whatever links earlier members made.
final class RootedDirectory {
    let path: String
    let fd: Int32
    /// The last directory opened, since archive members come grouped by directory.
    private var cached: (path: ArchivePath, fd: Int32)?

    init(path: String) throws(SwrunError) {
        self.path = path
        fd = open(path, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open the rootfs \(path)", Errno.current) }
    }

    deinit {
        forget()
        close(fd)
    }

    /// An fd for the directory at `relative`, made (mode 0755, owned by root) where
    /// missing when `create` is set. Owned by this object: valid until the next call.
    func directory(_ relative: ArchivePath, create: Bool) throws(SwrunError) -> Int32 {
        if relative.isRoot { return fd }
        if let cached, cached.path == relative { return cached.fd }
        forget()
        var opened = resolve(relative)
        if opened < 0 && Errno.current == .noSuchFileOrDirectory && create {
            try makeDirectories(relative, links: 0)
            opened = resolve(relative)
        }
        if opened < 0 {
            throw SwrunError.system("cannot open the directory \(describe(relative)) in the rootfs", Errno.current)
        }
        cached = (relative, opened)
        return opened
    }

    /// mkdir -p inside the root. A dangling symlink on the way (an image's `lib -> usr/lib`
    /// before usr/lib exists) gets its target made, inside the root, as Docker does.
    private func makeDirectories(_ relative: ArchivePath, links: Int) throws(SwrunError) {
        guard links < 40 else {
            throw SwrunError(.verificationFailed, "too many levels of symlinks on the way to \(describe(relative))",
                             hint: "the archive is broken or hostile")
        }
        for step in relative.withAncestors {
            let existing = resolve(step)
            if existing >= 0 { close(existing); continue }
            let parent = resolve(step.parent)
            if parent < 0 { throw SwrunError.system("cannot open the directory \(describe(step.parent)) in the rootfs", Errno.current) }
            defer { close(parent) }
            if mkdirat(parent, step.name, 0o755) == 0 { continue }
            guard Errno.current == .fileExists, let target = Self.linkTarget(step.name, in: parent) else {
                throw SwrunError.system("cannot make the directory \(describe(step)) in the rootfs", Errno.current)
            }
            try makeDirectories(.resolvingLink(target, in: step.parent), links: links + 1)
        }
    }

    private static func linkTarget(_ name: String, in directory: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Call after removing or replacing anything: a cached directory may be gone.
    func forget() {
        if let cached { close(cached.fd) }
        cached = nil
    }

    /// `relative` as the user knows it: inside the rootfs on the host.
    func describe(_ relative: ArchivePath) -> String {
        relative.isRoot ? path : path + "/" + relative.description
    }

    private func resolve(_ relative: ArchivePath) -> Int32 {
        if relative.isRoot { return fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        return swrun_openat2(fd, relative.description, UInt64(SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC), 0,
                             SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
    }
}
