import CLinux
import Glibc
import SystemPackage

/// Small, typed file operations for the parent process (they allocate and throw,
/// so never call them in a forked child).
public enum FileSystem {
    public enum Kind: Sendable, Equatable { case regular, directory, symlink, other }

    /// The kind of the object at `path`, not following a final symlink; nil when nothing is there.
    public static func kind(of path: String) -> Kind? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    public static func exists(_ path: String) -> Bool { kind(of: path) != nil }

    /// The size in bytes of what `path` names (a symlink itself, not followed); nil when it cannot be inspected.
    public static func size(of path: String) -> Int? {
        var st = stat()
        return lstat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// The whole file. `locked` reads it under a shared flock(2), for a file that
    /// `rewriteInPlace` updates: the read sees one whole version.
    public static func readBytes(_ path: String, locked: Bool = false) throws(SwrunError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let errno = Errno.current
            throw SwrunError(errno == .noSuchFileOrDirectory ? .notFound : .system, "cannot read \(path)", errno: errno)
        }
        defer { close(fd) }
        if locked { lockWaiting(fd, LOCK_SH) }
        // Files in /proc report size 0: read those a page at a time; others in one read of their size.
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        do {
            return try readAll(fd, chunkSize: size > 0 ? size + 1 : 4096)
        } catch {
            throw SwrunError.system("cannot read \(path)", error.errno ?? .ioError)
        }
    }

    /// Everything readable from `fd` until end of file.
    public static func readAll(_ fd: Int32, chunkSize: Int = 4096) throws(SwrunError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if Errno.current == .interrupted { continue }
                throw SwrunError.system("cannot read from fd \(fd)", Errno.current)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// A close-on-exec pipe: (read end, write end).
    public static func makePipe() throws(SwrunError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if swrun_pipe_cloexec(&fds) != 0 { throw SwrunError.system("cannot create a pipe", Errno.current) }
        return (fds[0], fds[1])
    }

    public static func readText(_ path: String) throws(SwrunError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into place,
    /// so that a reader never sees half a file.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SwrunError) {
        try writeAtomically(path, mode: mode) { (fd) throws(SwrunError) in
            var written = 0
            while written < bytes.count {
                let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                if count < 0 {
                    if Errno.current == .interrupted { continue }
                    throw SwrunError.system("cannot write \(path)", Errno.current)
                }
                written += count
            }
        }
    }

    /// Writes `path` through a temporary file that `fill` writes and that is renamed over
    /// `path` only once it is complete: readers see the old file or the whole new one.
    public static func writeAtomically(_ path: String, mode: mode_t, fill: (Int32) throws(SwrunError) -> Void) throws(SwrunError) {
        // A name of our own (pid and random bits), created exclusively and never through a
        // symlink: concurrent writers never share a temporary file, and nobody can plant one.
        let temporary = path + ".swrun-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 { throw SwrunError.system("cannot write \(path)", Errno.current) }
        do {
            try fill(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        fchmod(fd, mode)  // the umask must not narrow what the caller asked for
        close(fd)
        // A file already there is exchanged with the new one, and the old one (now under the
        // temporary name) unlinked: as atomic for readers as a rename over it, and ext4 makes
        // a rename over a file write the new data out first (auto_da_alloc), which cost a
        // start two to three times a plain rename (swrun.state is replaced at each start).
        if kind(of: path) == .regular && swrun_rename_exchange(temporary, path) == 0 {
            unlink(temporary)
            return
        }
        if rename(temporary, path) != 0 {
            let errno = Errno.current
            unlink(temporary)
            throw SwrunError.system("cannot write \(path)", errno)
        }
    }

    /// Replaces the content of an existing regular file in place, under an exclusive flock(2)
    /// that `readBytes(locked:)` waits for, so that a reader never sees half of it. For a
    /// file rewritten several times a run (the runtime record): no new inode each time, which
    /// on ext4 costs more the more files were deleted near it (hundreds of parallel starts).
    /// False when there is no such file: make it with writeAtomically.
    public static func rewriteInPlace(_ path: String, _ bytes: [UInt8]) throws(SwrunError) -> Bool {
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if Errno.current == .noSuchFileOrDirectory { return false }
            throw SwrunError.system("cannot write \(path)", Errno.current)
        }
        defer { close(fd) }  // and with it the lock
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw SwrunError(.system, "cannot write \(path): not a regular file", hint: "remove it; swrun makes it again")
        }
        lockWaiting(fd, LOCK_EX)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + written, $0.count - written, off_t(written)) }
            if count < 0 {
                if Errno.current == .interrupted { continue }
                throw SwrunError.system("cannot write \(path)", Errno.current)
            }
            written += count
        }
        if ftruncate(fd, off_t(bytes.count)) != 0 { throw SwrunError.system("cannot write \(path)", Errno.current) }
        return true
    }

    /// A file rewritten several times (a runtime record): in place when it is there, else
    /// made whole with writeAtomically.
    public static func rewrite(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SwrunError) {
        if try rewriteInPlace(path, bytes) { return }
        try writeAtomically(path, bytes, mode: mode)
    }

    /// flock(2), waiting through signals.
    private static func lockWaiting(_ fd: Int32, _ operation: Int32) {
        while flock(fd, operation) != 0 && Errno.current == .interrupted {}
    }

    public static func writeAtomically(_ path: String, _ text: String, mode: mode_t = 0o644) throws(SwrunError) {
        try writeAtomically(path, Array(text.utf8), mode: mode)
    }

    /// Writes `value` into an existing file in one write(2), as kernel interfaces (cgroup
    /// files, /proc/PID/uid_map) want it; nothing is created or truncated.
    public static func writeExisting(_ path: String, _ value: String, hint: String? = nil) throws(SwrunError) {
        if let errno = tryWriteExisting(path, value) {
            throw SwrunError.system("cannot write '\(value.split(separator: "\n").joined(separator: " "))' to \(path)", errno, hint: hint)
        }
    }

    /// writeExisting for a best-effort write: the errno it failed with, and no error built.
    @discardableResult
    public static func tryWriteExisting(_ path: String, _ value: String) -> Errno? {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        var value = value
        let written = fd < 0 ? -1 : value.withUTF8 { write(fd, $0.baseAddress, $0.count) }
        let errno = Errno.current
        if fd >= 0 { close(fd) }
        return written == value.utf8.count ? nil : errno
    }

    /// Writes each value to an existing file with a write(2) of its own, through one open: a
    /// kernel file that takes one rule a write (a v1 cgroup's devices.allow) gets them all.
    public static func writeEach(_ path: String, _ values: [String], hint: String? = nil) throws(SwrunError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        defer { if fd >= 0 { close(fd) } }
        for value in values {
            let bytes = Array(value.utf8)
            let written = fd < 0 ? -1 : bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written != bytes.count {
                throw SwrunError.system("cannot write '\(value.split(separator: "\n").joined(separator: " "))' to \(path)", Errno.current, hint: hint)
            }
        }
    }

    /// mkdir -p: creates `path` and its missing parents. An existing directory is fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SwrunError) {
        if isDirectory(path) { return }
        let parent = parentPath(path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && Errno.current != .fileExists {
            throw SwrunError.system("cannot create directory \(path)", Errno.current)
        }
    }

    /// Creates one directory; fails if it exists (used to claim a name atomically).
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SwrunError) {
        if mkdir(path, mode) != 0 {
            let errno = Errno.current
            throw SwrunError(errno == .fileExists ? .alreadyExists : .system, "cannot create directory \(path)", errno: errno)
        }
    }

    /// The names in a directory (without . and ..), sorted.
    public static func listDirectory(_ path: String) throws(SwrunError) -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            let errno = Errno.current
            throw SwrunError(errno == .noSuchFileOrDirectory ? .notFound : .system, "cannot list \(path)", errno: errno)
        }
        defer { close(fd) }
        return try entries(of: fd, path: path).map(\.name).sorted()
    }

    /// The entries of the open directory `directory` (named `path` in errors), without . and
    /// .., each with its lstat: symlinks are described, not followed.
    /// The names of the entries of one type (DT_DIR, DT_LNK...) in `directory`, from the
    /// entries' types alone (no stat of each: cgroupfs directories hold dozens of files); nil
    /// when it cannot be listed.
    public static func names(in directory: String, ofType type: Int32) -> [String]? {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, let listing = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return nil
        }
        defer { closedir(listing) }
        var result: [String] = []
        while let entry = readdir(listing) {
            guard Int32(entry.pointee.d_type) == type else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }

    /// The names of the directories in `directory` (see names(in:ofType:)).
    public static func subdirectories(of directory: String) -> [String]? { names(in: directory, ofType: Int32(DT_DIR)) }

    public static func entries(of directory: Int32, path: String) throws(SwrunError) -> [(name: String, status: stat)] {
        let copy = fcntl(directory, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0, let listing = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw SwrunError.system("cannot list \(path)", Errno.current)
        }
        defer { closedir(listing) }
        var result: [(name: String, status: stat)] = []
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name == "." || name == ".." { continue }
            var st = stat()
            if fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw SwrunError.system("cannot inspect \(path)/\(name)", Errno.current) }
            result.append((name, st))
        }
        return result
    }

    /// The target of the symlink at `path`.
    public static func readLink(_ path: String) throws(SwrunError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        if count < 0 { throw SwrunError.system("cannot read the symlink \(path)", Errno.current) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func symlink(_ target: String, at path: String) throws(SwrunError) {
        if Glibc.symlink(target, path) != 0 { throw SwrunError.system("cannot create symlink \(path) -> \(target)", Errno.current) }
    }

    /// Copies a file of any size in the kernel (sendfile), never holding it in memory.
    public static func copyFile(from source: String, to destination: String, mode: mode_t) throws(SwrunError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 { throw SwrunError.system("cannot open \(source)", Errno.current) }
        defer { close(input) }
        try writeAtomically(destination, mode: mode) { (output) throws(SwrunError) in
            while true {
                let count = sendfile(output, input, nil, 1 << 30)
                if count == 0 { return }
                if count < 0 && Errno.current != .interrupted { throw SwrunError.system("cannot copy \(source) to \(destination)", Errno.current) }
            }
        }
    }

    /// rm -rf that never follows symlinks and never crosses into another
    /// filesystem (a mount left inside a rootfs is an error, not something to empty).
    public static func removeTree(_ path: String) throws(SwrunError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if Errno.current == .noSuchFileOrDirectory { return }
            throw SwrunError.system("cannot remove \(path)", Errno.current)
        }
        if st.st_mode & S_IFMT != S_IFDIR {
            if unlink(path) != 0 { throw SwrunError.system("cannot remove \(path)", Errno.current) }
            return
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open \(path)", Errno.current) }
        defer { close(fd) }
        try removeContents(of: fd, device: st.st_dev, path: path)
        if rmdir(path) != 0 { throw SwrunError.system("cannot remove \(path)", Errno.current) }
    }

    /// Removes `name` (a file, link or whole tree) from the open directory `directory`, named
    /// `path` in errors; symlinks are removed, never followed. A missing name is not an error.
    public static func removeEntry(_ name: String, in directory: Int32, path: String) throws(SwrunError) {
        var st = stat()
        guard fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if Errno.current == .noSuchFileOrDirectory { return }
            throw SwrunError.system("cannot remove \(path)/\(name)", Errno.current)
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw SwrunError.system("cannot open \(path)/\(name)", Errno.current) }
            defer { close(fd) }
            try removeContents(of: fd, device: st.st_dev, path: path + "/" + name)
        }
        if unlinkat(directory, name, st.st_mode & S_IFMT == S_IFDIR ? AT_REMOVEDIR : 0) != 0 {
            throw SwrunError.system("cannot remove \(path)/\(name)", Errno.current)
        }
    }

    private static func removeContents(of directory: Int32, device: dev_t, path: String) throws(SwrunError) {
        for (name, st) in try entries(of: directory, path: path) {
            let child = path + "/" + name
            if st.st_mode & S_IFMT == S_IFDIR {
                if st.st_dev != device {
                    throw SwrunError(.busy, "cannot remove \(child): a filesystem is mounted there",
                                     hint: "unmount it (umount \(child)) and try again")
                }
                let childFd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if childFd < 0 { throw SwrunError.system("cannot open \(child)", Errno.current) }
                defer { close(childFd) }
                try removeContents(of: childFd, device: device, path: child)
                if unlinkat(directory, name, AT_REMOVEDIR) != 0 { throw SwrunError.system("cannot remove \(child)", Errno.current) }
            } else if unlinkat(directory, name, 0) != 0 {
                throw SwrunError.system("cannot remove \(child)", Errno.current)
            }
        }
    }

    /// "/a/b/c" -> "c"; "/a/b/" -> "b".
    /// The path with every symlink, "." and ".." resolved (realpath), or nil if it does not exist.
    public static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// "/a/b/c" -> "/a/b"; "c" -> ""; "/" -> "/".
    public static func parentPath(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Joins path pieces with single slashes.
    public static func join(_ base: String, _ rest: String) -> String {
        if rest.isEmpty { return base }
        if base.hasSuffix("/") { return base + (rest.hasPrefix("/") ? String(rest.dropFirst()) : rest) }
        return base + (rest.hasPrefix("/") ? rest : "/" + rest)
    }
}

