import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun create`: a new container directory with a rootfs from a template and
/// a config made of the defaults (default.conf or -f FILE) plus the template's lines.
/// Any failure removes what was made, so a name is either fully created or free.
public struct ContainerCreator {
    public let store: ContainerStore
    /// The file whose settings start every new config (lxc.default_config, or -f). Missing is fine.
    public let defaultConfigPath: String?
    public let report: (String) -> Void
    /// `swrun run --rm`: the process that destroys the new container when its command ends,
    /// marked in swrun.json before anything else is made, so that should it die (kill -9),
    /// AbandonedRuns destroys the container, or what a create cut short left.
    public var removeWith: ProcessIdentity?

    public init(store: ContainerStore, defaultConfigPath: String?, report: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.defaultConfigPath = defaultConfigPath
        self.report = report
    }

    public static let templates = [BusyboxTemplate.name]

    /// Creates the container; `unprivileged` gives it lxc.idmap lines (those of the config, or a
    /// range of /etc/subuid and /etc/subgid for root) and moves the rootfs into those host ids.
    /// `backingStore` (lxc-create's -B): nil is an overlay of the image's layers where the
    /// template is an OCI image and the host allows it, else a directory.
    public func create(name: String, from template: any RootfsTemplate, unprivileged: Bool = false,
                       backingStore: BackingStore? = nil, storage: StorageOptions = StorageOptions(),
                       customization: ContainerCustomization = ContainerCustomization()) throws(SwrunError) {
        try ContainerName.validate(name)
        if backingStore == .overlay {
            guard template is OCITemplate else {
                throw SwrunError(.invalidArgument, "-B overlay needs an OCI image's layers, and \(template.origin) has none",
                                 hint: "create from an image (swrun create -t REGISTRY/IMAGE -B overlay), or use -B dir")
            }
            if let reason = BackingStore.overlayUnavailable(lxcPath: store.lxcPath) {
                throw SwrunError(.missingDependency, "-B overlay: \(reason)", hint: "use -B dir")
            }
        }
        try template.checkHost()
        let defaults = try defaultConfigText()

        try FileSystem.makeDirectories(store.lxcPath, mode: 0o755)
        let directory = store.directory(of: name)
        do {
            try FileSystem.makeDirectory(directory, mode: 0o770)
        } catch where error.code == .alreadyExists {
            throw SwrunError(.alreadyExists, "container '\(name)' already exists in \(store.lxcPath)",
                             hint: "pick another name, or remove it first with `swrun destroy -n \(name) -P \(store.lxcPath)`")
        }
        if let removeWith {
            do { try ContainerSidecar(removeWith: removeWith).write(to: directory) } catch {
                try? FileSystem.removeTree(directory)
                throw error
            }
        }
        // A volume or dataset made below lives outside the directory: removed again on failure.
        var madeDevice: RootDevice?
        var mounted: String?
        defer { if let mounted { RootfsMount.unmount(at: mounted) } }
        do throws(SwrunError) {
            let rootfs = FileSystem.join(directory, "rootfs")
            let rootfsValue: String
            var overlayUpper: String?
            if let image = template as? OCITemplate, let overlay = try overlay(for: image, directory: directory, backingStore: backingStore) {
                try FileSystem.makeDirectory(rootfs, mode: 0o755)
                rootfsValue = overlay.configValue
                overlayUpper = overlay.upper
            } else {
                let made = try ContainerStorage.make(backingStore ?? .dir, name: name, directory: directory, rootfs: rootfs, options: storage)
                rootfsValue = made.value
                if let device = made.device {
                    madeDevice = device
                    mounted = rootfs
                    report("the rootfs is \(made.value), mounted on \(rootfs) while it is filled")
                }
                try template.install(rootfs: rootfs, name: name, report: report)
            }
            var config = try ConfigFile(text: header(name: name, origin: template.origin) + defaults, path: store.configPath(of: name))
            config.append("lxc.rootfs.path", rootfsValue)
            config.append("lxc.uts.name", name)
            for (key, value) in try template.configSettings(rootfs: rootfs) { config.append(key, value) }
            // LXC shares the host's network with a container whose config names no network;
            // swrun always gives it a namespace of its own. Say so in the file, so that LXC
            // reading it isolates the container too (a DHCP client in it must never reach the host's links).
            if !config.settings.contains(where: { $0.key.hasPrefix("lxc.net.") }) {
                config.append("lxc.net.0.type", "empty")
            }
            // Like lxc-create, give each container its own address once, in its config.
            var random = SystemRandomNumberGenerator()
            for setting in config.settings where setting.key.hasSuffix(".hwaddr") && HardwareAddress.isTemplate(setting.value) {
                if let address = HardwareAddress.completing(setting.value, using: &random) { config.set(setting.key, address.description) }
            }
            if unprivileged {
                var maps = try ContainerConfig(settings: config.settings).idmaps
                if maps.isEmpty {
                    maps = try Self.delegatedMaps()
                    for map in maps { config.append("lxc.idmap", "\(map.kind.rawValue) 0 \(map.hostID) \(map.count)") }
                }
                try StartPlan.validate(idMaps: maps)
                try SubordinateIDs.checkDelegation(maps)
                if let overlayUpper {
                    // The shared layers stay root's: the container sees them through idmapped
                    // mounts as it starts. Its own changes are its root's from the start.
                    let root = (uid: maps.first { $0.kind == .uid && $0.containerID == 0 }?.hostID ?? 0,
                                gid: maps.first { $0.kind == .gid && $0.containerID == 0 }?.hostID ?? 0)
                    for path in [overlayUpper, rootfs] where chown(path, root.uid, root.gid) != 0 {
                        throw SwrunError.system("cannot hand \(path) to the container's root (uid \(root.uid))", Errno.current)
                    }
                } else {
                    report("moving the rootfs into the container's host ids (\(maps.map { "\($0.kind.rawValue) \($0.hostID)+\($0.count)" }.joined(separator: ", ")))")
                    try OwnershipShift.shift(rootfs, maps: maps)
                }
                // The container's root must pass through the container's directory to its rootfs;
                // search permission is enough, and the directory stays root's (swrun writes there).
                chmod(directory, 0o711)
            }
            var sidecar = ContainerSidecar()
            if let image = template as? OCITemplate {
                sidecar = ContainerSidecar(try image.runConfig(), image: image.reference.description)
                // As Docker keeps an application's output: `swrun logs` reads it.
                config.set("lxc.console.logfile", FileSystem.join(directory, ContainerCustomization.consoleLogName))
            }
            for mount in customization.mounts {
                if case .volume(_, let path) = mount.source { try FileSystem.makeDirectories(path, mode: 0o755) }
            }
            sidecar.removeWith = removeWith
            let account = try customization.user.map { user throws(SwrunError) in try Self.account(user, template: template, rootfs: rootfs) }
            customization.apply(to: &config, sidecar: &sidecar, containerDirectory: directory, account: account)
            sidecar.created = Int(time(nil))
            try sidecar.write(to: directory)
            try config.write()
            _ = try store.config(of: name)  // what we wrote must load
        } catch {
            if let made = mounted {
                RootfsMount.unmount(at: made)
                mounted = nil
            }
            try? ContainerStorage.remove(madeDevice)
            try? FileSystem.removeTree(directory)
            throw error
        }
    }

    /// The image's layers from the layer store under an upper directory of the container's
    /// own, laid out as LXC's overlay clones are (NAME/overlay/delta and work); nil where a
    /// copy is made instead, said why unless -B dir asked for it.
    /// An unprivileged container gets one too: its layers are idmapped as it starts.
    private func overlay(for image: OCITemplate, directory: String, backingStore: BackingStore?) throws(SwrunError) -> RootOverlay? {
        guard backingStore == nil || backingStore == .overlay else { return nil }
        if let reason = BackingStore.overlayUnavailable(lxcPath: store.lxcPath) {
            report("copying the image into the rootfs: \(reason)")
            return nil
        }
        let lowers = try image.installLayers(for: directory, report: report)
        let overlay = RootOverlay(lowers: lowers, upper: FileSystem.join(directory, "overlay/delta"))
        try FileSystem.makeDirectories(overlay.upper, mode: 0o755)
        try FileSystem.makeDirectories(overlay.work, mode: 0o755)
        return overlay
    }

    /// -u USER: names are looked up in the image's files (its layers, or the rootfs just filled).
    private static func account(_ user: String, template: any RootfsTemplate, rootfs: String) throws(SwrunError) -> ImageUser.Account {
        if let image = template as? OCITemplate { return try image.account(user, rootfs: rootfs) }
        return try ImageUser.resolve(user, passwd: RootfsFile.read("/etc/passwd", in: rootfs), group: RootfsFile.read("/etc/group", in: rootfs),
                                     image: template.origin)
    }

    /// A map of 65536 ids for each of uid and gid, from the ranges /etc/subuid and /etc/subgid give root.
    static func delegatedMaps() throws(SwrunError) -> [IDMap] {
        guard let users = SubordinateIDs.firstRange(for: "root", in: "/etc/subuid"),
              let groups = SubordinateIDs.firstRange(for: "root", in: "/etc/subgid") else {
            throw SwrunError(.invalidConfig, "no id range for an unprivileged container: /etc/subuid and /etc/subgid give root none",
                             hint: "add one (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 root), or give lxc.idmap lines in the config passed with -f")
        }
        return [IDMap(kind: .uid, containerID: 0, hostID: users.start, count: min(users.count, 65536)),
                IDMap(kind: .gid, containerID: 0, hostID: groups.start, count: min(groups.count, 65536))]
    }

    /// The default config's text, checked first so that its errors name its own file and line.
    private func defaultConfigText() throws(SwrunError) -> String {
        guard let path = defaultConfigPath, FileSystem.exists(path) else { return "" }
        _ = try ContainerConfig(settings: ConfigLoader().settings(ofFile: path))
        var text = try FileSystem.readText(path)
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        return text.isEmpty ? "" : "# From \(path):\n" + text + "\n"
    }

    private func header(name: String, origin: String) -> String {
        "# Container \(name), created by swrun from \(origin).\n"
            + "# The keys are LXC's: see lxc.container.conf(5).\n\n"
    }
}
