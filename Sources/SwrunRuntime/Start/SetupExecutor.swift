import CLinux
import Glibc
import SwrunNetlink

/// Performs setup actions inside the container's init, after clone3 and before
/// the payload exists. Raw system calls only, through `calls` (LinuxCalls in init, a
/// recording double in tests): no allocation, no Swift errors (they allocate). Each action
/// returns 0 or an errno. The netlink requests and the sync socket are made directly.
struct SetupExecutor<Calls: ContainerCalls> {
    let calls: Calls
    var rootFD: Int32 = -1
    /// The sync socket to swrun (for the id-map handshake).
    let sync: Int32
    /// Both ends of each pty: [2 * index] the master, [2 * index + 1] the container's end.
    let terminals: UnsafeMutableBufferPointer<Int32>
    /// Scratch for "/proc/self/fd/N" paths: one for a mount source, one for a target.
    let sourcePath: UnsafeMutableRawBufferPointer
    let targetPath: UnsafeMutableRawBufferPointer
    let netlinkReply: UnsafeMutableRawBufferPointer

    /// The state the OCI hooks read on stdin.
    let hookState: HookStateInput?

    init(calls: Calls, scratch: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer),
         terminals: UnsafeMutableBufferPointer<Int32>, sync: Int32, hookState: HookStateInput? = nil) {
        self.calls = calls
        self.hookState = hookState
        (sourcePath, targetPath, netlinkReply) = scratch
        self.terminals = terminals
        self.sync = sync
    }

    func master(_ index: Int) -> Int32 { terminals[2 * index] }
    func terminal(_ index: Int) -> Int32 { terminals[2 * index + 1] }

    mutating func perform(_ action: SetupAction) -> Int32 {
        switch action {
        case let .joinNamespace(fd, type):
            let error = calls.setns(fd, type)
            calls.close(fd)  // the other container's namespace: nothing in this one may hold it
            return error
        case .waitForParent:
            guard let answer = SyncMessage.receive(on: sync), answer.message.kind == SyncMessage.Kind.parentDone.rawValue else { return EPIPE }
            return 0
        case let .runHook(path, argv, environment, readsState, timeout):
            return calls.runHook(path, argv, environment, input: readsState ? hookState?.bytes() : nil, timeout: timeout)
        case .enterOwnCgroup(let tasks):
            var zero: UInt8 = 0x30  // "0": the writing thread
            var error: Int32 = 0
            for fd in tasks where fd >= 0 {
                let written = withUnsafeBytes(of: &zero) { calls.write(fd, $0) }
                if written != 0 && error == 0 { error = written }
                calls.close(fd)  // the host's cgroup files: closed once used
            }
            return error
        case .enterCgroupNamespace:
            return calls.unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWCGROUP))
        case let .makeTimeNamespace(offsets, offsetsFile, forChildren):
            return makeTimeNamespace(offsets: offsets, offsetsFile: offsetsFile, forChildren: forChildren)
        case .becomeRootInside:
            return calls.becomeUser(0)
        case .makeMountsPrivate:
            return calls.mount(nil, "/", nil, 16384 | (1 << 18), nil)  // MS_REC | MS_PRIVATE, as literals: no lazy global in the child
        case let .mount(source, target, fsType, flags, data, optional):
            let error = mountResolved(source: source, target: target, fsType: fsType, flags: flags, data: data)
            return optional && (error == ENOENT || error == ENOTDIR) ? 0 : error
        case let .setMountAttributes(path, set, clear, optional):
            let target = openInRoot(path, flags: SWRUN_O_PATH)
            if target < 0 { return optional && (-target == ENOENT || -target == ENOTDIR) ? 0 : -target }
            defer { calls.close(target) }
            return calls.setMountAttributes(target, set: set, clear: clear)
        case let .attachMount(fd, path):
            defer { calls.close(fd) }  // the detached mount: attached, or of no use
            let target = openInRoot(path, flags: SWRUN_O_PATH)
            if target < 0 { return -target }
            defer { calls.close(target) }
            return calls.moveMount(fd, onto: target)
        case let .mask(path, null, tmpfs, tmpfsFlags, data):
            let target = openInRoot(path, flags: SWRUN_O_PATH)
            if target < 0 { return -target == ENOENT || -target == ENOTDIR ? 0 : -target }
            defer { calls.close(target) }
            let (statError, isDirectory) = calls.isDirectory(target)
            if statError != 0 { return statError }
            // Mounted on the fd just looked at, so the path is resolved once.
            let onto = procPath(for: target, in: targetPath)
            let error = isDirectory
                ? calls.mount(UnsafePointer(tmpfs), onto, tmpfs, tmpfsFlags, data)
                : calls.mount(UnsafePointer(null), onto, nil, UInt(MS_BIND), nil)
            return error == ENOENT ? 0 : error
        case .openRoot(let path):
            rootFD = calls.open(path, SWRUN_O_PATH | O_DIRECTORY)
            if rootFD < 0 {
                defer { rootFD = -1 }
                return -rootFD
            }
            return 0
        case let .makeDirectories(components, mode):
            return makeDirectories(components, mode: mode)
        case let .makeFile(parent, name):
            // mknod of a regular file makes the mount point without opening whatever is there
            // (a FIFO would hang init, a host tty would become its controlling terminal).
            return inDirectory(parent) { directory in
                let error = calls.mknodat(directory, name, S_IFREG | 0o644, 0)
                return error == EEXIST ? 0 : error
            }
        case let .makeDevice(parent, name, mode, device):
            return inDirectory(parent) { directory in
                let error = calls.mknodat(directory, name, mode, device)
                return error == EEXIST ? 0 : error
            }
        case let .changeOwner(parent, name, uid, gid):
            return inDirectory(parent) { directory in calls.fchownat(directory, name, uid, gid) }
        case let .writeFile(path, value):
            let fd = openInRoot(path, flags: O_WRONLY)
            if fd < 0 { return -fd }
            defer { calls.close(fd) }
            return calls.write(fd, value)
        case let .makeSymlink(parent, name, target, replace):
            return inDirectory(parent) { directory in
                if replace {
                    let error = calls.unlinkat(directory, name)
                    if error != 0 && error != ENOENT { return error }
                }
                let error = calls.symlinkat(target, directory, name)
                return error == EEXIST ? 0 : error
            }
        case let .openTerminal(ptmx, index):
            return openTerminal(ptmx, index: index)
        case .changeRoot(let path):
            let error = calls.chroot(path)
            return error != 0 ? error : calls.chdir("/")
        case .pivotRoot:
            var error = calls.fchdir(rootFD)
            if error != 0 { return error }
            error = calls.pivotRootHere()
            if error == EINVAL && calls.rootIsInitramfs() {
                // The kernel will not pivot away from the initial rootfs (a host running from its
                // initramfs): move the rootfs over / and chroot into it instead, as LXC does there.
                error = calls.mount(".", "/", nil, UInt(MS_MOVE), nil)
                if error == 0 { error = calls.chroot(".") }
            }
            if error == 0 { error = calls.chdir("/") }
            if error != 0 { return error }
            calls.close(rootFD)
            rootFD = -1
            return 0
        case let .setHostname(name, length):
            return calls.sethostname(name, length)
        case let .setDomainName(name, length):
            return calls.setdomainname(name, length)
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
            return calls.loadSeccomp(program, count)
        }
    }

    private func makeTimeNamespace(offsets: UnsafeRawBufferPointer, offsetsFile: UnsafeMutablePointer<CChar>,
                                   forChildren: UnsafeMutablePointer<CChar>) -> Int32 {
        var error = calls.unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWTIME))
        if error != 0 { return error }
        let file = calls.open(offsetsFile, O_WRONLY)
        if file < 0 { return -file }
        error = calls.write(file, offsets)
        calls.close(file)
        if error != 0 { return error }
        let namespace = calls.open(forChildren, O_RDONLY)
        if namespace < 0 { return -namespace }
        error = calls.setns(namespace, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWTIME))
        calls.close(namespace)
        return error
    }

    // MARK: path resolution

    /// Opens a path inside the rootfs (an O_PATH fd unless `flags` say otherwise), symlinks
    /// resolved as if the rootfs were /: a fd, or minus an errno.
    private func openInRoot(_ path: UnsafeMutablePointer<CChar>, flags: Int32 = SWRUN_O_PATH) -> Int32 {
        calls.openInRoot(rootFD, path, flags)
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
            if fd < 0 { return (nil, -1, -fd) }
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
        defer { if sourceFD >= 0 { calls.close(sourceFD) } }
        let (targetPointer, targetFD, error) = resolve(target, into: targetPath)
        if error != 0 { return error }
        defer { if targetFD >= 0 { calls.close(targetFD) } }
        return calls.mount(sourcePointer, targetPointer, fsType, flags, data)
    }

    /// Runs `body` with a directory inside the rootfs opened (O_PATH works as a dirfd for *at calls).
    private func inDirectory(_ path: UnsafeMutablePointer<CChar>, _ body: (Int32) -> Int32) -> Int32 {
        let directory = openInRoot(path, flags: SWRUN_O_PATH | O_DIRECTORY)
        if directory < 0 { return -directory }
        defer { calls.close(directory) }
        return body(directory)
    }

    /// mkdir -p inside the root: `prefixes` is "/a", "/a/b", ...; each missing one is made
    /// with mkdirat under its already resolved parent, so the walk never leaves the root.
    private func makeDirectories(_ prefixes: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, mode: mode_t) -> Int32 {
        guard prefixes[0] != nil else { return 0 }
        var last = 0
        while prefixes[last + 1] != nil { last += 1 }
        // Most mount points exist already: one lookup of the whole path settles that.
        let whole = openInRoot(prefixes[last]!, flags: SWRUN_O_PATH | O_DIRECTORY)
        if whole >= 0 {
            calls.close(whole)
            return 0
        }
        if whole != -ENOENT { return -whole }
        // Else the deepest one that exists, looked for upwards (usually the target's parent).
        var missing = last
        var parent = rootFD
        while missing > 0 {
            let fd = openInRoot(prefixes[missing - 1]!, flags: SWRUN_O_PATH | O_DIRECTORY)
            if fd >= 0 {
                parent = fd
                break
            }
            if fd != -ENOENT { return -fd }
            missing -= 1
        }
        defer { if parent != rootFD { calls.close(parent) } }
        while let prefix = prefixes[missing] {
            let error = calls.mkdirat(parent, baseName(prefix), mode)
            if error != 0 && error != EEXIST { return error }
            if missing == last { break }  // what mounts on it resolves it again
            let fd = openInRoot(prefix, flags: SWRUN_O_PATH | O_DIRECTORY)
            if fd < 0 { return -fd }
            if parent != rootFD { calls.close(parent) }
            parent = fd
            missing += 1
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
        if master < 0 { return -master }
        let peer = calls.openPtyPeer(master)
        if peer < 0 {
            calls.close(master)
            return -peer
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

}
