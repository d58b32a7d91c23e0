import CLinux
import Glibc
import SwrunNetlink

/// Performs setup actions inside the container's init, after clone3 and before
/// the payload exists. Raw system calls only: no allocation, no Swift errors
/// (they allocate). Each action returns 0 or an errno.
struct SetupExecutor {
    var rootFD: Int32 = -1
    /// The sync socket to swrun (for the id-map handshake).
    let sync: Int32
    /// Both ends of each pty: [2 * index] the master, [2 * index + 1] the container's end.
    let terminals: UnsafeMutableBufferPointer<Int32>
    /// Scratch for "/proc/self/fd/N" paths: one for a mount source, one for a target.
    let sourcePath: UnsafeMutableRawBufferPointer
    let targetPath: UnsafeMutableRawBufferPointer
    let netlinkReply: UnsafeMutableRawBufferPointer

    init(scratch: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer),
         terminals: UnsafeMutableBufferPointer<Int32>, sync: Int32) {
        (sourcePath, targetPath, netlinkReply) = scratch
        self.terminals = terminals
        self.sync = sync
    }

    func master(_ index: Int) -> Int32 { terminals[2 * index] }
    func terminal(_ index: Int) -> Int32 { terminals[2 * index + 1] }

    mutating func perform(_ action: SetupAction) -> Int32 {
        switch action {
        case let .joinNamespace(fd, type):
            let error = swrun_setns(fd, type) == 0 ? 0 : errno
            close(fd)  // the other container's namespace: nothing in this one may hold it
            return error
        case .waitForParent:
            guard let answer = SyncMessage.receive(on: sync), answer.message.kind == SyncMessage.Kind.parentDone.rawValue else { return EPIPE }
            return 0
        case let .runHook(path, argv, environment):
            return ContainerChild.runHook(path: path, argv: argv, environment: environment)
        case .enterOwnCgroup(let tasks):
            var zero: UInt8 = 0x30  // "0": the writing thread
            var error: Int32 = 0
            for fd in tasks where fd >= 0 {
                let written = write(fd, &zero, 1)
                if written != 1 && error == 0 { error = written < 0 ? errno : EIO }
                close(fd)  // the host's cgroup files: closed once used
            }
            return error
        case .enterCgroupNamespace:
            return swrun_unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWCGROUP)) == 0 ? 0 : errno
        case .becomeRootInside:
            if setgroups(0, nil) != 0 || swrun_setresgid(0) != 0 || swrun_setresuid(0) != 0 { return errno }
            return 0
        case .makeMountsPrivate:
            return result(mount(nil, "/", nil, 16384 | (1 << 18), nil))  // MS_REC | MS_PRIVATE, as literals: no lazy global in the child
        case let .mount(source, target, fsType, flags, data, optional):
            let error = mountResolved(source: source, target: target, fsType: fsType, flags: flags, data: data)
            return optional && (error == ENOENT || error == ENOTDIR) ? 0 : error
        case let .mask(path, null, tmpfs, tmpfsFlags, data):
            let target = openInRoot(path, flags: SWRUN_O_PATH)
            if target < 0 { return errno == ENOENT || errno == ENOTDIR ? 0 : errno }
            var status = stat()
            let statError = fstat(target, &status) == 0 ? 0 : errno
            close(target)
            if statError != 0 { return statError }
            let error = status.st_mode & S_IFMT == S_IFDIR
                ? mountResolved(source: .host(tmpfs), target: .inRoot(path), fsType: tmpfs, flags: tmpfsFlags, data: data)
                : mountResolved(source: .host(null), target: .inRoot(path), fsType: nil, flags: UInt(MS_BIND), data: nil)
            return error == ENOENT ? 0 : error
        case .openRoot(let path):
            rootFD = open(path, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
            return rootFD < 0 ? errno : 0
        case let .makeDirectories(components, mode):
            return makeDirectories(components, mode: mode)
        case let .makeFile(parent, name):
            // mknod of a regular file makes the mount point without opening whatever is there
            // (a FIFO would hang init, a host tty would become its controlling terminal).
            return inDirectory(parent) { directory in
                mknodat(directory, name, S_IFREG | 0o644, 0) == 0 || errno == EEXIST ? 0 : errno
            }
        case let .makeDevice(parent, name, mode, device):
            return inDirectory(parent) { directory in
                mknodat(directory, name, mode, device) == 0 || errno == EEXIST ? 0 : errno
            }
        case let .changeOwner(parent, name, uid, gid):
            return inDirectory(parent) { directory in
                fchownat(directory, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno
            }
        case let .writeFile(path, value):
            let fd = openInRoot(path, flags: O_WRONLY)
            if fd < 0 { return errno }
            defer { close(fd) }
            return write(fd, value.baseAddress, value.count) == value.count ? 0 : (errno == 0 ? EIO : errno)
        case let .makeSymlink(parent, name, target, replace):
            return inDirectory(parent) { directory in
                if replace && unlinkat(directory, name, 0) != 0 && errno != ENOENT { return errno }
                return symlinkat(target, directory, name) == 0 || errno == EEXIST ? 0 : errno
            }
        case let .openTerminal(ptmx, index):
            return openTerminal(ptmx, index: index)
        case .changeRoot(let path):
            return chroot(path) == 0 && chdir("/") == 0 ? 0 : errno
        case .pivotRoot:
            if fchdir(rootFD) != 0 { return errno }
            if swrun_pivot_root(".", ".") == 0 {
                if umount2(".", SWRUN_MNT_DETACH) != 0 || chdir("/") != 0 { return errno }
            } else if errno == EINVAL && Self.rootIsInitramfs() {
                // The kernel will not pivot away from the initial rootfs (a host running from its
                // initramfs): move the rootfs over / and chroot into it instead, as LXC does there.
                if mount(".", "/", nil, UInt(MS_MOVE), nil) != 0 || chroot(".") != 0 || chdir("/") != 0 { return errno }
            } else {
                return errno
            }
            close(rootFD)
            rootFD = -1
            return 0
        case let .setHostname(name, length):
            return result(sethostname(name, length))
        case .netlinkRequest(let request):
            let fd = openNetlink()
            if fd < 0 { return errno }
            defer { close(fd) }
            return sendNetlink(request, on: fd)
        case let .configureLink(name, requests, count, offsets):
            let index = if_nametoindex(name)
            if index == 0 { return errno }
            let fd = openNetlink()  // one socket for the link's requests, answered in turn
            if fd < 0 { return errno }
            defer { close(fd) }
            var value = Int32(bitPattern: index)
            var position = 0
            while position < count {
                let request = requests[position]
                withUnsafeBytes(of: &value) { raw in
                    for byte in 0..<4 { request[offsets[position] + byte] = raw[byte] }
                }
                let error = sendNetlink(UnsafeRawBufferPointer(request), on: fd)
                if error != 0 { return error }
                position += 1
            }
            return 0
        case let .loadSeccomp(program, count):
            return swrun_load_seccomp_filter(program.baseAddress, count) == 0 ? 0 : errno
        }
    }

    private func result(_ value: Int32) -> Int32 { value == 0 ? 0 : errno }

    // MARK: path resolution

    /// Opens a path inside the rootfs as an O_PATH fd, symlinks resolved as if the rootfs were /.
    private func openInRoot(_ path: UnsafeMutablePointer<CChar>, flags: Int32 = SWRUN_O_PATH) -> Int32 {
        guard rootFD >= 0 else { errno = EBADF; return -1 }
        return swrun_openat2(rootFD, path, UInt64(flags | O_CLOEXEC), 0, SWRUN_RESOLVE_IN_ROOT)
    }

    /// Writes "/proc/self/fd/N" into `buffer` (no allocation) and returns it as a C string.
    private func procPath(for fd: Int32, in buffer: UnsafeMutableRawBufferPointer) -> UnsafePointer<CChar> {
        let prefix: StaticString = "/proc/self/fd/"
        let out = buffer.bindMemory(to: CChar.self)
        var length = 0
        prefix.withUTF8Buffer { bytes in
            for byte in bytes { out[length] = CChar(bitPattern: byte); length += 1 }
        }
        var digits: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var value = fd
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + value % 10)
                value /= 10
                count += 1
            } while value > 0
            for index in stride(from: count - 1, through: 0, by: -1) {
                out[length] = CChar(bitPattern: raw[index])
                length += 1
            }
        }
        out[length] = 0
        return UnsafePointer(out.baseAddress!)
    }

    /// A C path for `path` (through /proc/self/fd for resolved ones) and the fd to close afterwards.
    private func resolve(_ path: SetupPath, into buffer: UnsafeMutableRawBufferPointer) -> (UnsafePointer<CChar>?, Int32, Int32) {
        switch path {
        case .host(let pointer):
            return (UnsafePointer(pointer), -1, 0)
        case .inRoot(let pointer):
            let fd = openInRoot(pointer)
            if fd < 0 { return (nil, -1, errno) }
            return (procPath(for: fd, in: buffer), fd, 0)
        case .terminal(let index):
            guard terminal(index) >= 0 else { return (nil, -1, EBADF) }
            return (procPath(for: terminal(index), in: buffer), -1, 0)
        }
    }

    private func mountResolved(source: SetupPath?, target: SetupPath, fsType: UnsafeMutablePointer<CChar>?,
                               flags: UInt, data: UnsafeMutablePointer<CChar>?) -> Int32 {
        var sourcePointer: UnsafePointer<CChar>? = nil
        var sourceFD: Int32 = -1
        if let source {
            let (pointer, fd, error) = resolve(source, into: sourcePath)
            if error != 0 { return error }
            sourcePointer = pointer
            sourceFD = fd
        }
        defer { if sourceFD >= 0 { close(sourceFD) } }
        let (targetPointer, targetFD, error) = resolve(target, into: targetPath)
        if error != 0 { return error }
        defer { if targetFD >= 0 { close(targetFD) } }
        return mount(sourcePointer, targetPointer, fsType, flags, data) == 0 ? 0 : errno
    }

    /// Runs `body` with a directory inside the rootfs opened (O_PATH works as a dirfd for *at calls).
    private func inDirectory(_ path: UnsafeMutablePointer<CChar>, _ body: (Int32) -> Int32) -> Int32 {
        let directory = openInRoot(path, flags: SWRUN_O_PATH | O_DIRECTORY)
        if directory < 0 { return errno }
        defer { close(directory) }
        return body(directory)
    }

    /// mkdir -p inside the root: `prefixes` is "/a", "/a/b", ...; each missing one is made
    /// with mkdirat under its already resolved parent, so the walk never leaves the root.
    private func makeDirectories(_ prefixes: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, mode: mode_t) -> Int32 {
        // Most mount points exist already: one lookup of the whole path settles that.
        guard prefixes[0] != nil else { return 0 }
        var last = 0
        while prefixes[last + 1] != nil { last += 1 }
        if let full = prefixes[last] {
            let fd = openInRoot(full, flags: SWRUN_O_PATH | O_DIRECTORY)
            if fd >= 0 {
                close(fd)
                return 0
            }
        }
        var parent = rootFD
        defer { if parent != rootFD { close(parent) } }
        var index = 0
        while let prefix = prefixes[index] {
            var fd = openInRoot(prefix, flags: SWRUN_O_PATH | O_DIRECTORY)
            if fd < 0 && errno == ENOENT {
                if mkdirat(parent, baseName(prefix), mode) != 0 && errno != EEXIST { return errno }
                fd = openInRoot(prefix, flags: SWRUN_O_PATH | O_DIRECTORY)
            }
            if fd < 0 { return errno }
            if parent != rootFD { close(parent) }
            parent = fd
            index += 1
        }
        return 0
    }

    private func baseName(_ path: UnsafeMutablePointer<CChar>) -> UnsafeMutablePointer<CChar> {
        var last = path
        var cursor = path
        while cursor.pointee != 0 {
            if cursor.pointee == 0x2F { last = cursor + 1 }
            cursor += 1
        }
        return last
    }

    // MARK: console and network

    private func openTerminal(_ ptmx: UnsafeMutablePointer<CChar>, index: Int) -> Int32 {
        let master = openInRoot(ptmx, flags: O_RDWR | O_NOCTTY)
        if master < 0 { return errno }
        let peer = swrun_open_pty_peer(master)
        if peer < 0 {
            let error = errno
            close(master)
            return error
        }
        terminals[2 * index] = master
        terminals[2 * index + 1] = peer
        return 0
    }

    private func openNetlink() -> Int32 {
        socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)  // NETLINK_ROUTE
    }

    /// Sends one request and reads its ACK (each request asks for one, and waits for it).
    private func sendNetlink(_ request: UnsafeRawBufferPointer, on fd: Int32) -> Int32 {
        if send(fd, request.baseAddress, request.count, 0) != request.count { return errno }
        let count = recv(fd, netlinkReply.baseAddress, netlinkReply.count, 0)
        if count < 0 { return errno }
        return NetlinkReply.errorNumber(in: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(netlinkReply)[0..<count])) ?? EPROTO
    }

    /// Whether / is the kernel's initial rootfs (ramfs, or tmpfs where the kernel uses that).
    static func rootIsInitramfs() -> Bool {
        let type = swrun_filesystem_type("/")
        return type == 0x8584_58f6 /* RAMFS_MAGIC */ || type == 0x0102_1994 /* TMPFS_MAGIC */
    }
}
