import CLinux
import Glibc
import SwrunSystem

/// `swrun cp` (docker cp): files between the host and a container's root. Every path in the
/// container is resolved by the kernel inside its root (openat2 RESOLVE_IN_ROOT), and below
/// that each entry is opened relative to its parent with O_NOFOLLOW: a symlink the container
/// planted is copied as a link, or refused as a place to write through, never followed out.
public enum ContainerCopy {
    /// Copies container `path` (under `root`) to the host's `destination`: into it when it is
    /// a directory, else as it.
    public static func copyOut(_ path: String, root: String, to destination: String) throws(SwrunError) {
        let source = try openInRoot(path, root: root)
        defer { close(source.fd) }
        var target = destination
        if FileSystem.isDirectory(destination) { target = FileSystem.join(destination, baseName(path)) }
        try copyEntry(from: source.fd, status: source.status, named: path, to: target)
    }

    /// Copies the host's `source` into the container at `path` (under `root`): into it when it
    /// is a directory there, else as it. What is made belongs to `owner` (the container's root
    /// on the host); modes stay the source's.
    public static func copyIn(_ source: String, root: String, to path: String, owner: (uid: uid_t, gid: gid_t)) throws(SwrunError) {
        var status = stat()
        guard lstat(source, &status) == 0 else { throw SwrunError.system("cannot read \(source)", Errno.current) }
        let into: (parent: Int32, name: String)
        if let directory = try? openInRoot(path, root: root), directory.status.st_mode & S_IFMT == S_IFDIR {
            into = (directory.fd, baseName(source))
        } else {
            let parent = try openInRoot(FileSystem.parentPath(path).isEmpty ? "/" : FileSystem.parentPath(path), root: root)
            guard parent.status.st_mode & S_IFMT == S_IFDIR else {
                close(parent.fd)
                throw SwrunError(.invalidArgument, "\(FileSystem.parentPath(path)) is not a directory in the container", hint: "copy into a directory")
            }
            into = (parent.fd, baseName(path))
        }
        defer { close(into.parent) }
        try place(source, status: status, in: into.parent, name: into.name, owner: owner)
    }

    // MARK: out of the container

    private static func copyEntry(from fd: Int32, status: stat, named name: String, to target: String) throws(SwrunError) {
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdir(target, status.st_mode & 0o7777) != 0 && errno != EEXIST { throw SwrunError.system("cannot make \(target)", Errno.current) }
            let directory = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directory >= 0, let stream = fdopendir(directory) else { throw SwrunError.system("cannot read \(name) in the container", Errno.current) }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let child = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if child == "." || child == ".." { continue }
                let handle = openat(dirfd(stream), child, SWRUN_O_PATH | O_NOFOLLOW | O_CLOEXEC)
                guard handle >= 0 else { throw SwrunError.system("cannot open \(name)/\(child) in the container", Errno.current) }
                defer { close(handle) }
                var childStatus = stat()
                guard fstat(handle, &childStatus) == 0 else { throw SwrunError.system("cannot stat \(name)/\(child)", Errno.current) }
                try copyEntry(from: handle, status: childStatus, named: name + "/" + child, to: FileSystem.join(target, child))
            }
        case S_IFREG:
            let input = open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw SwrunError.system("cannot read \(name) in the container", Errno.current) }
            defer { close(input) }
            let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, status.st_mode & 0o7777)
            guard output >= 0 else { throw SwrunError.system("cannot write \(target)", Errno.current) }
            defer { close(output) }
            try pump(from: input, to: output, what: name)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlinkat(fd, "", &buffer, buffer.count - 1)
            guard count >= 0 else { throw SwrunError.system("cannot read the link \(name)", Errno.current) }
            let link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            unlink(target)
            if symlink(link, target) != 0 { throw SwrunError.system("cannot make the link \(target)", Errno.current) }
        default:
            throw SwrunError(.invalidArgument, "\(name) in the container is a device, FIFO or socket, which cp does not copy",
                             hint: "copy regular files, directories and links")
        }
    }

    // MARK: into the container

    private static func place(_ source: String, status: stat, in parent: Int32, name: String, owner: (uid: uid_t, gid: gid_t)) throws(SwrunError) {
        let mode = status.st_mode & 0o7777
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdirat(parent, name, mode) != 0 && errno != EEXIST { throw SwrunError.system("cannot make \(name) in the container", Errno.current) }
            let directory = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard directory >= 0 else {
                throw SwrunError.system("cannot enter \(name) in the container (a link there is not followed)", Errno.current)
            }
            defer { close(directory) }
            _ = fchown(directory, owner.uid, owner.gid)
            for child in try FileSystem.listDirectory(source).sorted() {
                var childStatus = stat()
                let path = FileSystem.join(source, child)
                guard lstat(path, &childStatus) == 0 else { throw SwrunError.system("cannot read \(path)", Errno.current) }
                try place(path, status: childStatus, in: directory, name: child, owner: owner)
            }
        case S_IFREG:
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw SwrunError.system("cannot read \(source)", Errno.current) }
            defer { close(input) }
            let output = openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
            guard output >= 0 else {
                throw SwrunError.system("cannot write \(name) in the container (a link there is not followed)", Errno.current)
            }
            defer { close(output) }
            _ = fchown(output, owner.uid, owner.gid)
            _ = fchmod(output, mode)
            try pump(from: input, to: output, what: source)
        case S_IFLNK:
            guard let link = try? FileSystem.readLink(source) else { throw SwrunError.system("cannot read the link \(source)", Errno.current) }
            unlinkat(parent, name, 0)
            if symlinkat(link, parent, name) != 0 { throw SwrunError.system("cannot make the link \(name) in the container", Errno.current) }
            _ = fchownat(parent, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW)
        default:
            throw SwrunError(.invalidArgument, "\(source) is a device, FIFO or socket, which cp does not copy", hint: "copy regular files, directories and links")
        }
    }

    // MARK: helpers

    /// `path` inside `root`, opened O_PATH without following a final link.
    private static func openInRoot(_ path: String, root: String) throws(SwrunError) -> (fd: Int32, status: stat) {
        let rootFD = open(root, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw SwrunError.system("cannot open the container's root \(root)", Errno.current) }
        defer { close(rootFD) }
        let fd = swrun_openat2(rootFD, path, UInt64(SWRUN_O_PATH | O_NOFOLLOW | O_CLOEXEC), 0, SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
        guard fd >= 0 else {
            throw SwrunError(errno == ENOENT ? .notFound : .system, "\(path) in the container: \(Errno.current)", hint: "check the path inside the container")
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            close(fd)
            throw SwrunError.system("cannot stat \(path) in the container", Errno.current)
        }
        return (fd, status)
    }

    private static func pump(from input: Int32, to output: Int32, what: String) throws(SwrunError) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count == 0 { return }
            guard count > 0 else { throw SwrunError.system("cannot read \(what)", Errno.current) }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
                guard written > 0 else { throw SwrunError.system("cannot write a copy of \(what)", Errno.current) }
                offset += written
            }
        }
    }

    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? "/"
    }
}

extension ContainerStore {
    /// Runs `body` with container `name`'s root as it sees it: a running one's through its
    /// init, a stopped one's as ContainerFiles gives it; and its root's ids on the host.
    public func withRoot<T>(of name: String, _ body: (_ root: String, _ owner: (uid: uid_t, gid: gid_t)) throws(SwrunError) -> T) throws(SwrunError) -> T {
        try requireExisting(name)
        let config = try config(of: name)
        let owner = (uid: config.idmaps.first { $0.kind == .uid && $0.containerID == 0 }?.hostID ?? 0,
                     gid: config.idmaps.first { $0.kind == .gid && $0.containerID == 0 }?.hostID ?? 0)
        if let pid = status(of: name).initPID { return try body("/proc/\(pid)/root", owner) }
        return try ContainerFiles.withFiles(of: config, in: directory(of: name), scratch: ".cp") { (root) throws(SwrunError) in try body(root, owner) }
    }
}
