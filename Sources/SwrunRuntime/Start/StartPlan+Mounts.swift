import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// The mount half of the plan: the container's filesystem tree, built before pivot_root.
extension StartPlan {
    func planMounts() throws(SwrunError) {
        // With a user namespace, the ids must be mapped before the first mount. Otherwise init
        // builds its mounts while swrun moves it into its cgroup (a cgroup v1 move waits for an
        // RCU grace period) and makes its links, and waits only where it needs them: before
        // the cgroup namespace and the cgroup mounts, and before pivot_root at the latest.
        planCgroupEntry()
        // Before the id maps: see planTimeNamespace.
        planTimeNamespace()
        if usesUserNamespace { planWaitForParent() }
        if spec.namespaces.fromHost.contains("mnt") { return planChangeRoot() }
        addSetup(.makeMountsPrivate, "make all mounts private",
                 call: "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)",
                 why: "the new mount namespace starts as a copy of the host's; private means nothing mounted here propagates back")
        let root = c(rootfs)
        addSetup(.mount(source: .host(root), target: .host(root), fsType: nil, flags: MountFlags([.bind, .recursive]).rawValue, data: nil, optional: false),
                 "bind-mount the rootfs \(rootfs) onto itself",
                 call: "mount(\"\(rootfs)\", \"\(rootfs)\", NULL, MS_BIND|MS_REC, NULL)",
                 why: "pivot_root needs the new root to be a mount point")
        addSetup(.openRoot(root), "open the rootfs \(rootfs)",
                 call: "open(\"\(rootfs)\", O_PATH|O_DIRECTORY)",
                 why: "from here on every path inside the container is resolved with openat2(RESOLVE_IN_ROOT) against this fd, so no symlink in the rootfs can point a mount at the host")
        for step in spec.mounts {
            switch step {
            case .proc, .sysfs, .cgroup: try planKernelFilesystem(step)
            case .dev: planDevices()
            case .devpts: planTerminals()
            case .entry(let entry):
                if entry.fsType.hasPrefix("cgroup") { planWaitForParent() }  // a cgroup hierarchy shows the namespace's root
                try planMountEntry(entry)
            }
        }
        if spec.process.createsWorkingDirectory && profile.cwd != "/" {
            makeDirectoriesInRoot(profile.cwd, why: "the image's WorkingDir (lxc.init.cwd) is made when missing, as Docker makes it")
        }
        planSysctls()
        planPathRestrictions()
        planWaitForParent()
        planHooks(spec.hooks.mount + spec.hooks.autodev, inContainer: false)
        addSetup(.pivotRoot, "pivot_root into \(rootfs)",
                 call: "fchdir(rootfs); pivot_root(\".\", \".\"); umount2(\".\", MNT_DETACH); chdir(\"/\")",
                 why: "the rootfs becomes /, and the host's tree, stacked on top of it by pivot_root, is detached: no host mount stays reachable")
        if let propagation = spec.rootPropagation {
            addSetup(.mount(source: nil, target: .host(c("/")), fsType: nil, flags: propagation, data: nil, optional: false),
                     "set the propagation of /", call: "mount(NULL, \"/\", NULL, \(MountFlags(rawValue: propagation).cNames), NULL)",
                     why: "linux.rootfsPropagation")
        }
        if spec.readOnlyRoot || spec.rootFlags.set != 0 {
            let flags = MountFlags(rawValue: spec.rootFlags.set).union([.bind, .remount]).union(spec.readOnlyRoot ? .readOnly : [])
            addSetup(.mount(source: nil, target: .host(c("/")), fsType: nil, flags: flags.rawValue, data: nil, optional: false),
                     spec.readOnlyRoot ? "make / read-only" : "remount / with lxc.rootfs.options",
                     call: "mount(NULL, \"/\", NULL, \(flags.cNames), NULL)",
                     why: spec.readOnlyRoot ? "root.readonly or lxc.rootfs.options = ro: the rootfs is read-only inside" : "lxc.rootfs.options")
        }
    }

    /// An OCI bundle without a mount namespace: init is in swrun's, where it may mount nothing;
    /// the rootfs becomes its root by chroot alone, as runc does it then.
    private func planChangeRoot() {
        planWaitForParent()
        if !spec.mounts.allSatisfy({ $0 == .dev || $0 == .devpts }) || !spec.maskedPaths.isEmpty || !spec.readOnlyPaths.isEmpty {
            warnings.append("mounts, masked and read-only paths are not applied: the container has no mount namespace of its own")
        }
        addSetup(.changeRoot(c(rootfs)), "chroot into \(rootfs)", call: "chroot(\"\(rootfs)\"); chdir(\"/\")",
                 why: "without a mount namespace of its own the container may not pivot_root (that would move the host's root): chroot alone")
    }

    /// Init waits for swrun's part, then enters its cgroup namespace and becomes root in its
    /// user namespace, where it has them; planned once, at the first step that needs it.
    func planWaitForParent() {
        guard !parentWaitPlanned else { return }
        parentWaitPlanned = true
        if waitsForParent {
            addSetup(.waitForParent, "wait for swrun", call: "recv(sync) until swrun has done its part",
                     why: (usesUserNamespace ? "swrun writes uid_map and gid_map from outside; until then every id inside is the overflow id 65534. " : "")
                         + (cgroupEntry == .movedBySwrun ? "swrun moves init into the container's own cgroup, where its limits hold" : "")
                         + (networkLinks.isEmpty ? "" : (usesUserNamespace ? "; " : "") + "swrun makes the container's network links"))
        }
        if cgroupEntry == .movedBySwrun { planCgroupNamespace() }
        if usesUserNamespace {
            addSetup(.becomeRootInside, "become root in the user namespace", call: "setgroups(0, NULL); setresgid(0, 0, 0); setresuid(0, 0, 0)",
                     why: "root inside, with every capability over the container's namespaces, and an unprivileged id on the host")
        }
    }

    /// Init in its own cgroup first of all (unless swrun must move it: see CgroupEntry), then
    /// in a cgroup namespace rooted there.
    private func planCgroupEntry() {
        switch cgroupEntry {
        case .movesItself?:
            let count = containerHierarchies.filter { !$0.isUnified }.count
            addSetup(.enterOwnCgroup(tasks: UnsafeBufferPointer(cgroupTaskFDs)), "enter the container's own cgroup",
                     call: "write(tasks, \"0\") in each of its \(count) v1 hierarchies",
                     why: "init moves its single thread itself, which the kernel does without the lock (and RCU grace period) that moving a process from outside takes"
                         + (cgroupMode == .hybrid ? "; it was born in its cgroup v2 directory (clone3 CLONE_INTO_CGROUP)" : ""))
            planCgroupNamespace()
        case .bornInside?:
            planCgroupNamespace()  // clone3 CLONE_INTO_CGROUP made init there
        case .movedBySwrun?, nil:
            break
        }
    }

    private func planCgroupNamespace() {
        guard !spec.namespaces.fromHost.contains("cgroup") && !sharedNamespaces.shares("cgroup") else { return }
        addSetup(.enterCgroupNamespace, "enter a new cgroup namespace", call: "unshare(CLONE_NEWCGROUP)",
                 why: "made now, inside the container's own cgroup, it shows that cgroup as the root of the tree")
    }

    // MARK: proc, sys, cgroup

    private func planKernelFilesystem(_ step: MountStep) throws(SwrunError) {
        let kernel = spec.filesystems
        switch step {
        case .proc:
            mountKernelFilesystem("proc", at: "/proc", flags: .restrictive,
                                  why: "a /proc of the new pid namespace: the container sees only its own processes")
        case .sysfs:
            let sys = kernel.sys ?? .rw
            mountKernelFilesystem("sysfs", at: "/sys", flags: sys == .rw ? .restrictive : MountFlags.restrictive.union(.readOnly),
                                  why: "sysfs shows the devices of the container's network namespace" + (sys == .rw ? "" : "; read-only (sys:\(sys.rawValue))"))
        case .cgroup:
            planWaitForParent()  // the hierarchies show the cgroup namespace's root
            try planCgroupMounts(kernel.cgroup ?? .mixed, kind: kernel.cgroupKind)
        default:
            break
        }
    }

    /// The spec's read-only, writable-again and masked paths, once every mount is made (so a
    /// mount cannot uncover them); paths this kernel lacks are skipped.
    private func planPathRestrictions() {
        for path in spec.readOnlyPaths {
            remountReadOnly(path, optional: true, why: path.hasPrefix("/proc")
                ? "host-wide kernel tunables, buses and interrupts are read-only inside, as runc and crun make them (skipped where the kernel has none)"
                : "a read-only path of the spec")
        }
        for path in spec.writablePaths {
            if path.hasPrefix("/sys/") && usesUserNamespace && host.sysfsIsReadOnly {
                // The kernel locks a user namespace's sysfs read-only where the host's is (a
                // host that is itself a container, say): it cannot be made writable.
                warnings.append("sys:mixed: \(path) stays read-only: this host's sysfs is read-only, and the kernel keeps a user namespace's so")
                continue
            }
            remountWritable(path, why: path.hasPrefix("/proc/sys/net") ? "proc:mixed: the network namespace's own sysctls stay writable"
                                                                       : "sys:mixed: the container's own network devices stay writable")
        }
        mask(spec.maskedPaths)
    }

    /// Whether the host's /sys is read-only (its mount or its superblock).
    static var hostSysfsIsReadOnly: Bool {
        var status = statvfs()
        return statvfs("/sys", &status) == 0 && status.f_flag & UInt(ST_RDONLY) != 0
    }

    /// Hides host-only kernel files: /dev/null bound over a file, an empty read-only tmpfs over
    /// a directory, whichever the path is once mounted (init tells them apart: the plan is made
    /// before the tree exists). Paths this kernel lacks are skipped.
    private func mask(_ paths: [String]) {
        let (null, tmpfs) = (c("/dev/null"), c("tmpfs"))
        let flags = MountFlags.restrictive.union(.readOnly)
        for path in paths {
            addSetup(.mask(path: c(path), null: null, tmpfs: tmpfs, tmpfsFlags: flags.rawValue, data: c("size=0,mode=0555")),
                     "mask \(path)", call: "mount(\"/dev/null\", \"\(path)\", NULL, MS_BIND, NULL) on a file, mount(\"tmpfs\", \"\(path)\", \"tmpfs\", \(flags.cNames), \"size=0,mode=0555\") on a directory",
                     why: "it shows the host, not the container: it reads as empty (skipped where the kernel has none)")
        }
    }

    func mountKernelFilesystem(_ type: String, at target: String, flags: MountFlags, data: String? = nil, why: String) {
        makeDirectoriesInRoot(target)
        let dataText = data.map { "\"\($0)\"" } ?? "NULL"
        addSetup(.mount(source: .host(c(type)), target: .inRoot(c(target)), fsType: c(type), flags: flags.rawValue, data: data.map(c), optional: false),
                 "mount \(type) on \(target)",
                 call: "mount(\"\(type)\", \"\(target)\", \"\(type)\", \(flags.cNames), \(dataText))", why: why)
    }

    /// Binds a path onto itself and remounts the bind read-only (mount flags apply per mount, so only this subtree changes).
    private func remountReadOnly(_ path: String, optional: Bool = false, why: String) {
        bindOntoItself(path, optional: optional)
        let flags: MountFlags = [.bind, .remount, .readOnly, .noSetuid, .noDevices, .noExec]
        addSetup(.mount(source: nil, target: .inRoot(c(path)), fsType: nil, flags: flags.rawValue, data: nil, optional: optional),
                 "make \(path) read-only", call: "mount(NULL, \"\(path)\", NULL, \(flags.cNames), NULL)", why: why)
    }

    private func remountWritable(_ path: String, why: String) {
        bindOntoItself(path)
        let flags: MountFlags = [.bind, .remount, .noSetuid, .noDevices, .noExec]
        addSetup(.mount(source: nil, target: .inRoot(c(path)), fsType: nil, flags: flags.rawValue, data: nil, optional: false),
                 "make \(path) writable", call: "mount(NULL, \"\(path)\", NULL, \(flags.cNames), NULL)", why: why)
    }

    private func bindOntoItself(_ path: String, optional: Bool = false) {
        let inRoot = c(path)
        addSetup(.mount(source: .inRoot(inRoot), target: .inRoot(inRoot), fsType: nil, flags: MountFlags.bind.rawValue, data: nil, optional: optional),
                 "bind \(path) onto itself", call: "mount(\"\(path)\", \"\(path)\", NULL, MS_BIND, NULL)",
                 why: "a mount of its own, so its flags can differ from its parent's")
    }

    // MARK: /dev

    private func planDevices() {
        if spec.devices.standardNodes {
            mountKernelFilesystem("tmpfs", at: "/dev", flags: [.noSetuid, .strictatime], data: "mode=755,size=65536k",
                                  why: "lxc.autodev: a fresh /dev holding only the devices a container may use")
            for (name, major, minor) in [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)] {
                if usesUserNamespace {
                    // A user namespace may not make device nodes: bind the host's instead.
                    addSetup(.makeFile(parent: c("/dev"), name: c(name)), "create /dev/\(name)",
                             call: "openat(dev, \"\(name)\", O_CREAT)", why: "a mount point for the host's \(name)")
                    addSetup(.mount(source: .host(c("/dev/" + name)), target: .inRoot(c("/dev/" + name)), fsType: nil, flags: MountFlags.bind.rawValue, data: nil, optional: false),
                             "bind the host's /dev/\(name)", call: "mount(\"/dev/\(name)\", \"/dev/\(name)\", NULL, MS_BIND, NULL)",
                             why: "a user namespace cannot mknod; the host's node serves (the standard character device \(name))")
                } else {
                    addSetup(.makeDevice(parent: c("/dev"), name: c(name), mode: S_IFCHR | 0o666, device: swrun_makedev(UInt32(major), UInt32(minor))),
                             "create /dev/\(name)", call: "mknodat(dev, \"\(name)\", S_IFCHR|0666, makedev(\(major), \(minor)))",
                             why: "the standard character device \(name)")
                }
            }
            for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                                   ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")] {
                addSetup(.makeSymlink(parent: c("/dev"), name: c(name), target: c(target), replace: false),
                         "link /dev/\(name) to \(target)", call: "symlinkat(\"\(target)\", dev, \"\(name)\")",
                         why: "the usual /dev symlink")
            }
            // As in LXC, /dev/shm and /dev/mqueue come from lxc.mount.entry lines (the templates write them).
        }
        planDeviceNodes()
    }

    /// The container's own devpts, and its console and ttys from it.
    private func planTerminals() {
        var devpts = "newinstance,ptmxmode=0666,mode=0620,gid=5"
        // The console and ttys come out of the same devpts; they do not count against lxc.pty.max.
        if spec.devices.ptyMax > 0 { devpts += ",max=\(spec.devices.ptyMax + terminalCount)" }
        mountKernelFilesystem("devpts", at: "/dev/pts", flags: [.noSetuid, .noExec], data: devpts,
                              why: "a private devpts instance: the container's ptys are its own, and it cannot see the host's")
        let ttyDirectory = spec.devices.ttyDirectory.map { "/dev/" + $0 }
        if let ttyDirectory, terminalCount > 0 { makeDirectoriesInRoot(ttyDirectory) }
        for index in 0..<terminalCount {
            let device = index == 0 ? "console" : "tty\(index)"
            addSetup(.openTerminal(ptmx: c("/dev/pts/ptmx"), index: index), "open the pty for /dev/\(device)",
                     call: "open(\"/dev/pts/ptmx\", O_RDWR|O_NOCTTY); ioctl(TIOCSPTLCK, 0); ioctl(TIOCGPTPEER)",
                     why: index == 0 ? "a pty from the container's own devpts; swrun keeps its master and relays it to you"
                                     : "lxc.tty.max: a tty for a getty, reached with `swrun console -t \(index)`")
            // lxc.tty.dir: the pty is bound in that directory, /dev/console as well, and /dev/ttyN links there.
            if let ttyDirectory { bindTerminal(index, at: ttyDirectory, device) }
            if ttyDirectory == nil || index == 0 {
                bindTerminal(index, at: "/dev", device)
            } else if let ttyDirectory {
                let target = String(ttyDirectory.dropFirst("/dev/".count)) + "/" + device
                addSetup(.makeSymlink(parent: c("/dev"), name: c(device), target: c(target), replace: true),
                         "link /dev/\(device) to \(target)", call: "unlinkat(dev, \"\(device)\"); symlinkat(\"\(target)\", dev, \"\(device)\")",
                         why: "lxc.tty.dir: the ttys live in /dev/\(target.split(separator: "/")[0]), reached by their usual names")
            }
        }
    }

    /// OCI linux.devices: each node made where the spec puts it (the host's node bound there in
    /// a user namespace, which may not mknod), owned as it says.
    private func planDeviceNodes() {
        for node in spec.devices.nodes {
            let (parent, name) = (FileSystem.parentPath(node.path), FileSystem.lastComponent(node.path))
            makeDirectoriesInRoot(parent)
            if usesUserNamespace {
                addSetup(.makeFile(parent: c(parent), name: c(name)), "create \(node.path)", call: "openat(\(parent), \"\(name)\", O_CREAT)",
                         why: "a mount point for the host's node")
                addSetup(.mount(source: .host(c(node.path)), target: .inRoot(c(node.path)), fsType: nil, flags: MountFlags.bind.rawValue, data: nil, optional: false),
                         "bind the host's \(node.path)", call: "mount(\"\(node.path)\", \"\(node.path)\", NULL, MS_BIND, NULL)",
                         why: "linux.devices: a user namespace cannot mknod; the host's node serves")
                continue
            }
            addSetup(.makeDevice(parent: c(parent), name: c(name), mode: node.mode, device: swrun_makedev(node.major, node.minor)),
                     "create \(node.path)", call: "mknodat(\(parent), \"\(name)\", 0\(String(node.mode, radix: 8)), makedev(\(node.major), \(node.minor)))",
                     why: "linux.devices")
            addSetup(.changeOwner(parent: c(parent), name: c(name), uid: node.uid, gid: node.gid), "give \(node.path) to \(node.uid):\(node.gid)",
                     call: "fchownat(\(parent), \"\(name)\", \(node.uid), \(node.gid), AT_SYMLINK_NOFOLLOW)", why: "linux.devices: the node's owner")
        }
    }

    /// linux.sysctl: written in the container's own namespaces, through its /proc, before any
    /// path of it is made read-only.
    private func planSysctls() {
        for (key, value) in spec.sysctls {
            let path = "/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 })
            addSetup(.writeFile(path: c(path), value: arena.bytes(Array(value.utf8))), "set \(key) = \(value)",
                     call: "write(open(\"\(path)\"), \"\(value)\")", why: "linux.sysctl: a kernel setting of the container's namespaces")
        }
    }

    /// Binds pty number `index` onto DIRECTORY/DEVICE, a file made for it.
    private func bindTerminal(_ index: Int, at directory: String, _ device: String) {
        let path = directory + "/" + device
        addSetup(.makeFile(parent: c(directory), name: c(device)), "create \(path)",
                 call: "openat(\(directory), \"\(device)\", O_CREAT)", why: "a mount point for the pty")
        addSetup(.mount(source: .terminal(index), target: .inRoot(c(path)), fsType: nil, flags: MountFlags.bind.rawValue, data: nil, optional: false),
                 "bind the pty to \(path)",
                 call: "mount(\"/dev/pts/\(index)\", \"\(path)\", NULL, MS_BIND, NULL)",
                 why: index == 0 ? "programs that write to /dev/console reach swrun's console" : "the tty keeps a stable name")
    }

    // MARK: lxc.mount.entry

    private func planMountEntry(_ entry: MountEntry) throws(SwrunError) {
        do {
            let target = entry.target.hasPrefix("/") ? entry.target : "/" + entry.target
            let flags = MountFlags(rawValue: entry.flags)
            let isBind = flags.contains(.bind)
            switch entry.create {
            case .directory?: makeDirectoriesInRoot(target)
            case .file?:
                let parent = FileSystem.parentPath(target)
                makeDirectoriesInRoot(parent)
                addSetup(.makeFile(parent: c(parent), name: c(FileSystem.lastComponent(target))), "create \(target)",
                         call: "openat(\"\(parent)\", \"\(FileSystem.lastComponent(target))\", O_CREAT)", why: "create=file in \(entry.location)")
            case nil: break
            }
            if isBind && !entry.relative && !entry.source.hasPrefix("/") {
                throw SwrunError(.invalidConfig, "\(entry.location): lxc.mount.entry: bind source '\(entry.source)' is not an absolute path",
                                 hint: "write the host path in full, e.g. /srv/data, or add the 'relative' option for a path inside the rootfs")
            }
            if !entry.idMaps.isEmpty {
                planIDMappedBind(entry, at: target, fd: try idMappedMounts.make(entry))
            } else {
                planFirstMount(entry, at: target, isBind: isBind)
            }
            // A bind mount ignores other flags; they take effect on a remount of the bind.
            let extra = flags.subtracting([.bind, .recursive])
            if isBind && !extra.isEmpty {
                let remount = extra.union([.bind, .remount])
                addSetup(.mount(source: nil, target: .inRoot(c(target)), fsType: nil, flags: remount.rawValue, data: nil, optional: entry.optional),
                         "apply \(entry.options.joined(separator: ",")) to \(target) (\(entry.location))",
                         call: "mount(NULL, \"\(target)\", NULL, \(remount.cNames), NULL)",
                         why: "flags such as ro on a bind mount need a remount")
            }
            // Propagation (private, slave, shared) cannot be set in the same mount(2) call as the rest.
            if entry.propagation != 0 {
                let propagation = MountFlags(rawValue: entry.propagation)
                addSetup(.mount(source: nil, target: .inRoot(c(target)), fsType: nil, flags: propagation.rawValue, data: nil, optional: entry.optional),
                         "set the propagation of \(target) (\(entry.location))",
                         call: "mount(NULL, \"\(target)\", NULL, \(propagation.cNames), NULL)",
                         why: "the propagation type asked for in \(entry.location)")
            }
            if let readOnly = entry.recursiveReadOnly { try planRecursiveReadOnly(readOnly, target: target, entry: entry) }
        }
    }

    /// The entry's own mount(2): the filesystem, or the bind with only MS_BIND and MS_REC.
    private func planFirstMount(_ entry: MountEntry, at target: String, isBind: Bool) {
        // "relative": the source is a path inside the rootfs, resolved there like a target.
        let source: SetupPath = entry.relative ? .inRoot(c("/" + entry.source)) : .host(c(entry.source))
        let fsType: UnsafeMutablePointer<CChar>? = isBind || entry.fsType == "none" ? nil : c(entry.fsType)
        let data: UnsafeMutablePointer<CChar>? = entry.data.isEmpty ? nil : c(entry.data)
        let flags = MountFlags(rawValue: entry.flags)
        let firstFlags = isBind ? flags.intersection([.bind, .recursive]) : flags
        addSetup(.mount(source: source, target: .inRoot(c(target)), fsType: fsType, flags: firstFlags.rawValue, data: data, optional: entry.optional),
                 "mount \(entry.source) on \(target) (\(entry.location))",
                 call: "mount(\"\(entry.source)\", \"\(target)\", \(fsType == nil ? "NULL" : "\"\(entry.fsType)\""), \(firstFlags.cNames), \(entry.data.isEmpty ? "NULL" : "\"\(entry.data)\""))",
                 why: "lxc.mount.entry at \(entry.location)")
    }

    /// An id-mapped bind: the detached mount `fd`, made and mapped on the host, attached at its target.
    private func planIDMappedBind(_ entry: MountEntry, at target: String, fd: Int32) {
        let maps = entry.idMaps.map { "\($0.kind.rawValue):\($0.containerID):\($0.hostID):\($0.count)" }.joined(separator: " ")
        let recursive = entry.flags & UInt(MS_REC) != 0 ? "|AT_RECURSIVE" : ""
        addSetup(.attachMount(fd: fd, target: c(target)), "attach the id-mapped bind of \(entry.source) on \(target) (\(entry.location))",
                 call: "move_mount(open_tree(\"\(entry.source)\", OPEN_TREE_CLONE\(recursive)) with MOUNT_ATTR_IDMAP \(maps)\(entry.recursiveIDMap ? " (recursive)" : ""), \"\(target)\")",
                 why: "the bind shows the source's files with their ids mapped (\(entry.location)); made on the host before the clone")
    }

    /// OCI rro and rrw: mount(2) changes one mount at a time, mount_setattr (Linux 5.12) a whole tree.
    private func planRecursiveReadOnly(_ readOnly: Bool, target: String, entry: MountEntry) throws(SwrunError) {
        let option = readOnly ? "rro" : "rrw"
        guard host.kernel >= (5, 12) else {
            throw SwrunError(.invalidConfig, "\(entry.location.file): the \(option) option of the mount on \(target) needs mount_setattr, which Linux has from 5.12; this kernel is \(host.kernel.0).\(host.kernel.1)",
                             hint: readOnly ? "use ro, which makes only the mount itself read-only" : "use rw")
        }
        let readOnlyBit: UInt64 = 0x1  // MOUNT_ATTR_RDONLY
        addSetup(.setMountAttributes(target: c(target), set: readOnly ? readOnlyBit : 0, clear: readOnly ? 0 : readOnlyBit, optional: entry.optional),
                 "make \(target) and every mount below it \(readOnly ? "read-only" : "writable") (\(option))",
                 call: "mount_setattr(open(\"\(target)\"), \"\", AT_EMPTY_PATH|AT_RECURSIVE, {\(readOnly ? "attr_set" : "attr_clr") = MOUNT_ATTR_RDONLY})",
                 why: "\(option) in \(entry.location): a bind's submounts keep their own flags, which ro on the bind alone does not change")
    }

    // MARK: helpers

    /// mkdir -p of a path inside the rootfs, each component resolved in the root. The step is
    /// always planned: an earlier mount (a tmpfs on /dev) may hide what the rootfs has on disk.
    func makeDirectoriesInRoot(_ path: String, why: String = "the mount point must exist") {
        let components = path.split(separator: "/").filter { $0 != "." }.map(String.init)
        guard !components.isEmpty else { return }
        var prefixes: [String] = []
        var prefix = ""
        for component in components {
            prefix += "/" + component
            prefixes.append(prefix)
        }
        addSetup(.makeDirectories(components: arena.cStringArray(prefixes), mode: 0o755), "create \(path) in the rootfs",
                 call: "mkdirat(parent, name, 0755) for each missing component of \(path)", why: why)
    }
}
