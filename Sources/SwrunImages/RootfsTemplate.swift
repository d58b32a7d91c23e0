import SwrunSystem

/// What fills a new container: its rootfs, and the config lines that suit that rootfs.
/// `swrun create` takes one from `-t`, `swrun import` from a tarball, `swrun run` from an image.
public protocol RootfsTemplate {
    /// Where the rootfs comes from, for the config's header and messages: "the busybox template".
    var origin: String { get }
    /// Fails early, before anything is made, when the host cannot provide the rootfs.
    func checkHost() throws(SwrunError)
    /// Fills `rootfs`, an existing empty directory. On error the caller removes it.
    func install(rootfs: String, name: String, report: @escaping (String) -> Void) throws(SwrunError)
    /// Config lines added after lxc.rootfs.path and lxc.uts.name, in order; `rootfs` is the
    /// one `install` filled (an image's user names resolve through its /etc/passwd).
    func configSettings(rootfs: String) throws(SwrunError) -> [(key: String, value: String)]
}

extension BusyboxTemplate: RootfsTemplate {
    public var origin: String { "the busybox template" }

    public func install(rootfs: String, name: String, report: @escaping (String) -> Void) throws(SwrunError) {
        report("building a busybox rootfs in \(rootfs)")
        try install(rootfs: rootfs, name: name)
    }

    public func configSettings(rootfs: String) -> [(key: String, value: String)] { configSettings() }
}

/// A rootfs from a local tarball (`swrun import`): a whole system in one tar archive,
/// compressed or not, as `tar -C rootfs -cJf rootfs.tar.xz .` makes it.
public struct TarballTemplate: RootfsTemplate {
    public let path: String
    public let opener: ArchiveOpener

    public init(path: String, opener: ArchiveOpener = .inProcess) {
        self.path = path
        self.opener = opener
    }

    public var origin: String { "the tarball \(path)" }

    public func checkHost() throws(SwrunError) {
        guard FileSystem.exists(path), !FileSystem.isDirectory(path) else {
            throw SwrunError(.notFound, "the tarball \(path) does not exist or is not a file",
                             hint: "give the path of a rootfs tar archive (.tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2)")
        }
    }

    public func install(rootfs: String, name: String, report: @escaping (String) -> Void) throws(SwrunError) {
        report("unpacking \(path) into \(rootfs)")
        let count = try RootfsUnpacker(rootfs: rootfs, warn: { report("warning: \($0)") }).unpack(file: path, opener: opener)
        guard count > 0 else {
            throw SwrunError(.verificationFailed, "the tarball \(path) holds no files",
                             hint: "make it from the root of a system: tar -C DIR -cJf rootfs.tar.xz .")
        }
    }

    public func configSettings(rootfs: String) throws(SwrunError) -> [(key: String, value: String)] { [] }
}
