import Glibc
import SwrunHTTP
import SwrunSystem

/// COPY and ADD as Docker does them: the sources (globs, relative to a root: the build
/// context or another stage's files) copied into a new layer's directory at the destination.
/// A directory's contents are copied, not the directory; a file lands in a destination that
/// ends in `/` (or is a directory, or takes several sources) under its own name, else as the
/// destination. What is made belongs to root (or --chown), keeps its mode (or --chmod) and
/// time. Links are copied as links, never followed.
public struct BuildCopy {
    /// Where the sources are: the context directory, or a stage's merged files.
    public var root: String
    /// The context's .dockerignore (not for --from).
    public var ignore: DockerIgnore?
    /// The image's layer directories, topmost first: a parent directory made in the layer
    /// takes its mode and owner from there, so the layer does not change what it sits on.
    public var lowers: [String]
    public var owner: (uid: uid_t, gid: gid_t)?
    public var mode: mode_t?

    public init(root: String, ignore: DockerIgnore? = nil, lowers: [String] = [], owner: (uid: uid_t, gid: gid_t)? = nil, mode: mode_t? = nil) {
        (self.root, self.ignore, self.lowers, self.owner, self.mode) = (root, ignore, lowers, owner, mode)
    }

    /// The paths (relative to the root) `patterns` name; each pattern must name something.
    public func sources(_ patterns: [String]) throws(SwrunError) -> [String] {
        var result: [String] = []
        for pattern in patterns {
            let components = pattern.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
            var depth = 0
            for component in components {
                depth += component == ".." ? -1 : 1
                guard depth >= 0 else {
                    throw SwrunError(.invalidConfig, "'\(pattern)' is outside the build context", hint: "COPY and ADD read only files below the context directory")
                }
            }
            let matches = expand(components[...], under: "")
            guard !matches.isEmpty else {
                throw SwrunError(.notFound, "'\(pattern)' is not in the build context (\(root))" + (ignore?.isEmpty == false ? " or .dockerignore leaves it out" : ""),
                                 hint: "check the path, relative to the context directory")
            }
            result += matches
        }
        return result
    }

    private func expand(_ components: ArraySlice<String>, under prefix: String) -> [String] {
        guard let first = components.first else { return [prefix] }
        let directory = prefix.isEmpty ? root : FileSystem.join(root, prefix)
        let isPattern = first.contains { "*?[".contains($0) }
        let names = isPattern ? ((try? FileSystem.listDirectory(directory)) ?? []).sorted().filter { DockerIgnore.glob(Array(first), Array($0)) } : [first]
        return names.flatMap { name -> [String] in
            let path = prefix.isEmpty ? name : prefix + "/" + name
            guard FileSystem.kind(of: FileSystem.join(root, path)) != nil, ignore?.excludes(path) != true || components.count > 1 else { return [] }
            return expand(components.dropFirst(), under: path)
        }
    }

    /// A digest of what `sources` hold (names, modes, sizes, contents), for the build cache.
    public func contentDigest(_ sources: [String]) throws(SwrunError) -> String {
        let hash = SHA256()
        for source in sources { try digest(source, into: hash) }
        return "sha256:" + hash.finalize()
    }

    private func digest(_ path: String, into hash: SHA256) throws(SwrunError) {
        func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { hash.update($0) } }
        if ignore?.excludes(path) == true && ignore?.mayIncludeBelow(path) != true { return }
        let full = path.isEmpty ? root : FileSystem.join(root, path)
        var status = stat()
        guard lstat(full, &status) == 0 else { throw SwrunError.system("cannot read \(full)", Errno.current) }
        let included = ignore?.excludes(path) != true
        if included { add(Array("\(path)\0\(status.st_mode)\0\(status.st_size)\0".utf8)) }
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            for name in try FileSystem.listDirectory(full).sorted() { try digest(path.isEmpty ? name : path + "/" + name, into: hash) }
        case S_IFREG where included:
            add(try FileSystem.readBytes(full))
        case S_IFLNK where included:
            add(Array(((try? FileSystem.readLink(full)) ?? "").utf8))
        default:
            break
        }
    }

    /// Copies `sources` into `layer` at `destination` (absolute in the image); `unpack`
    /// (ADD) unpacks a local tar archive into the destination instead of copying it.
    public func copy(_ sources: [String], to destination: String, into layer: String, unpack: ArchiveOpener? = nil) throws(SwrunError) {
        let intoDirectory = destination.hasSuffix("/") || sources.count > 1
            || sources.contains { FileSystem.isDirectory(FileSystem.join(root, $0)) } || lowersHaveDirectory(destination)
        for source in sources {
            let full = source.isEmpty ? root : FileSystem.join(root, source)
            if let opener = unpack, FileSystem.kind(of: full) == .regular, Self.isArchive(full) {
                let target = try makeDirectory(destination, in: layer)
                let unpacker = try RootfsUnpacker(rootfs: target)
                _ = try unpacker.unpack(file: full, opener: opener)
                continue
            }
            if FileSystem.isDirectory(full) {
                let target = try makeDirectory(destination, in: layer)
                try copyChildren(of: full, relative: source, to: target)
            } else {
                let name = intoDirectory ? FileSystem.join(destination, source.split(separator: "/").last.map(String.init) ?? source) : destination
                let target = try makeParents(of: name, in: layer)
                try copyEntry(full, relative: source, to: target)
            }
        }
    }

    /// Writes `bytes` as the file `destination` (a heredoc of COPY).
    public func write(_ bytes: [UInt8], to destination: String, into layer: String) throws(SwrunError) {
        let target = try makeParents(of: destination, in: layer)
        try FileSystem.writeAtomically(target, bytes, mode: mode ?? 0o644)
        if let owner { chown(target, owner.uid, owner.gid) }
    }

    /// Downloads `url` (ADD URL) into the layer at `destination`, checked against `checksum`
    /// (sha256:HEX) when given; the file is 0600, as Docker makes it.
    public func download(_ url: String, to destination: String, into layer: String, checksum: String?, caFile: String?) throws(SwrunError) {
        let parsed = try HTTPURL(url)
        let fileName = parsed.path.split(separator: "/").last.map(String.init) ?? "download"
        let name = destination.hasSuffix("/") || lowersHaveDirectory(destination) ? FileSystem.join(destination, fileName) : destination
        let target = try makeParents(of: name, in: layer)
        let downloader = Downloader(client: HTTPClient(options: .init(caFile: caFile)))
        try downloader.download(parsed, to: target, expectedSHA256: checksum.map { String($0.dropFirst($0.hasPrefix("sha256:") ? 7 : 0)) })
        chmod(target, mode ?? 0o600)
        if let owner { chown(target, owner.uid, owner.gid) }
    }

    // MARK: the copy itself

    private func copyChildren(of directory: String, relative: String, to target: String) throws(SwrunError) {
        for name in try FileSystem.listDirectory(directory).sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            try copyEntry(FileSystem.join(directory, name), relative: path, to: FileSystem.join(target, name))
        }
    }

    private func copyEntry(_ source: String, relative: String, to target: String) throws(SwrunError) {
        let excluded = ignore?.excludes(relative) == true
        var status = stat()
        guard lstat(source, &status) == 0 else { throw SwrunError.system("cannot read \(source)", Errno.current) }
        let type = status.st_mode & S_IFMT
        if excluded && !(type == S_IFDIR && ignore?.mayIncludeBelow(relative) == true) { return }
        let permissions = mode ?? (status.st_mode & 0o7777)
        switch type {
        case S_IFDIR:
            if mkdir(target, 0o700) != 0 && errno != EEXIST { throw SwrunError.system("cannot make \(target)", Errno.current) }
            try copyChildren(of: source, relative: relative, to: target)
            chmod(target, permissions)
        case S_IFREG:
            unlink(target)
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw SwrunError.system("cannot read \(source)", Errno.current) }
            defer { close(input) }
            let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard output >= 0 else { throw SwrunError.system("cannot write \(target)", Errno.current) }
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0, buffer.withUnsafeBytes({ Glibc.write(output, $0.baseAddress, count) }) == count else {
                    throw SwrunError.system("cannot copy \(source)", Errno.current)
                }
            }
            fchmod(output, permissions)
        case S_IFLNK:
            let link = try FileSystem.readLink(source)
            unlink(target)
            guard symlink(link, target) == 0 else { throw SwrunError.system("cannot make the link \(target)", Errno.current) }
        default:
            return  // devices, FIFOs and sockets of a context are not copied, as Docker skips them
        }
        let (uid, gid) = owner ?? (0, 0)
        lchown(target, uid, gid)
        var times = [timespec(tv_sec: status.st_mtim.tv_sec, tv_nsec: status.st_mtim.tv_nsec),
                     timespec(tv_sec: status.st_mtim.tv_sec, tv_nsec: status.st_mtim.tv_nsec)]
        utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// The layer's path for `destination`, its parent directories made: each as the image
    /// below has it (mode, owner), else 0755 and root's.
    @discardableResult
    public func makeParents(of destination: String, in layer: String) throws(SwrunError) -> String {
        try makeDirectories(destination, in: layer, includingLast: false)
    }

    /// The layer's path for the directory `destination`, made with its parents as makeParents makes them.
    @discardableResult
    public func makeDirectory(_ destination: String, in layer: String) throws(SwrunError) -> String {
        try makeDirectories(destination, in: layer, includingLast: true)
    }

    private func makeDirectories(_ destination: String, in layer: String, includingLast: Bool) throws(SwrunError) -> String {
        let components = destination.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        var path = ""
        for component in includingLast ? components[...] : components.dropLast() {
            guard component != ".." else {
                throw SwrunError(.invalidConfig, "the destination \(destination) climbs out of the image with '..'", hint: "give an absolute path inside the image")
            }
            path += "/" + component
            let made = layer + path
            var existing = stat()
            if lstat(made, &existing) == 0 { continue }
            let below = lowers.lazy.compactMap { lower -> stat? in
                var status = stat()
                return lstat(lower + path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR ? status : nil
            }.first
            guard mkdir(made, 0o755) == 0 else { throw SwrunError.system("cannot make \(made)", Errno.current) }
            if let below {
                chmod(made, below.st_mode & 0o7777)
                chown(made, below.st_uid, below.st_gid)
            }
        }
        return layer + (components.isEmpty ? "" : "/" + components.joined(separator: "/"))
    }

    private func lowersHaveDirectory(_ path: String) -> Bool {
        lowers.contains { FileSystem.isDirectory($0 + path) }
    }

    /// A tar archive, plain or compressed as ADD unpacks them (gzip, bzip2, xz, zstd).
    static func isArchive(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 512)
        let count = read(fd, &header, header.count)
        guard count >= 6 else { return false }
        if header.starts(with: [0x1F, 0x8B]) || header.starts(with: Array("BZh".utf8)) || header.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
            || header.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return true }
        return count >= 262 && Array(header[257..<262]) == Array("ustar".utf8)
    }
}
