import SwrunImages
import SwrunRuntime
import SwrunSystem

enum CreateCommand: Command {
    static let spec = CommandSpec(
        name: "create",
        abstract: "Create a container from a template (lxc-create).",
        discussion: """
        Writes LXCPATH/NAME/config and LXCPATH/NAME/rootfs. Templates: \((ContainerCreator.templates + ["download"]).joined(separator: ", ")),
        or any image `swrun run` takes (a short name, an imported tarball, an OCI reference), or the
        path of a rootfs tarball (/srv/rootfs.tar.xz, ./rootfs.tar), unpacked straight into the rootfs.
        The download template takes lxc-create's options after `--`:
          -d DIST -r RELEASE -a ARCH [--variant V] [--server URL] [--flush-cache] [--force-cache]
          [--no-validate] [--keyring FILE] [--ca-file FILE]; without -d and -r it lists the server's images.
        Images are cached in LXC's layout under $LXC_CACHE_PATH/download (default /var/cache/lxc).
        A container from an OCI image is an overlay of the image's layers, unpacked once in the
        cache and shared, under LXCPATH/NAME/overlay/delta (lxc.rootfs.path = overlay:...);
        -B dir copies the image into the rootfs instead.
        Docker's options for what the container is (-e, -v, -w, -u, --network, --cap-add ...) are
        written into its config as LXC keys (swrun.json where LXC has none), as are the limits.
        \(ContainerOptions.privilegedNote)
        Examples:  swrun create -n web -t busybox
                   swrun create -n deb -t download -- -d debian -r bookworm -a amd64
        """,
        options: [
            CommonOptions.newName,
            .init(short: "t", long: "template", value: "TEMPLATE", help: "The template that builds the rootfs.", completes: .image),
            .init(short: "B", long: "bdev", value: "BACKINGSTORE",
                  help: "dir, overlay (an image's shared layers under the container's changes; the default for OCI images where the host allows it), btrfs, loop, lvm or zfs.",
                  choices: BackingStore.allCases.map(\.rawValue)),
            .init(short: nil, long: "fstype", value: "TYPE", help: "loop, lvm: the filesystem (default ext4)."),
            .init(short: nil, long: "fssize", value: "SIZE", help: "loop, lvm: its size, e.g. 2G (default 1G)."),
            .init(short: nil, long: "vgname", value: "VG", help: "lvm: the volume group (default lxc)."),
            .init(short: nil, long: "lvname", value: "LV", help: "lvm: the volume's name (default: the container's)."),
            .init(short: nil, long: "zfsroot", value: "DATASET", help: "zfs: the dataset the container's goes below (default lxc)."),
            .init(short: nil, long: "unprivileged", value: nil,
                  help: "Root inside is an unprivileged id on the host: lxc.idmap from the config, else from /etc/subuid and /etc/subgid."),
            CommonOptions.config, CommonOptions.lxcPath, CommonOptions.publish,
        ] + ContainerOptions.options + CommonOptions.limits,
        trailingCommand: true)
    static let requiredOptions = ["name", "template"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let templateName = try arguments.required("template", of: spec)
        let unprivileged = arguments.flag("unprivileged")
        let backingStore = try arguments.value("bdev").map { value throws(SwrunError) in try BackingStore(option: value) }
        try ContainerName.validate(name)
        var customization = try ContainerOptions.customization(arguments, volumes: RunCommand.volumesDirectory())
        let limits = try arguments.limitSettings()
        try ContainerSpec.check(limits: limits)
        customization.limits = limits.map { ($0.key, $0.value) }
        let report: (String) -> Void = { printError("swrun: \($0)") }
        let template: any RootfsTemplate
        if templateName == "download" {
            let options = try DownloadOptions(arguments: arguments.command)
            if options.listsOnly {
                try listImages(options)
                return 0
            }
            try requireRoot("swrun create")
            let download = DownloadTemplate(options: options, cacheRoot: DownloadTemplate.defaultCacheRoot(environment: cacheEnvironment),
                                            keysDirectory: DownloadTemplate.defaultKeysDirectory(environment: cacheEnvironment),
                                            unprivileged: unprivileged, report: report)
            download.opener = archiveOpener
            template = download
        } else {
            guard arguments.command.isEmpty else {
                throw SwrunError(.invalidArgument, "the \(templateName) template takes no options after --",
                                 hint: "only the download template does: swrun create -n NAME -t download -- -d DIST -r RELEASE")
            }
            try requireRoot("swrun create")
            template = try imageTemplate(templateName, unprivileged: unprivileged)
        }
        let store = try arguments.store()
        let creator = ContainerCreator(store: store, defaultConfigPath: try arguments.initialConfig(), report: report)
        var storage = StorageOptions()
        if let fstype = arguments.value("fstype") { storage.fstype = fstype }
        if let size = arguments.value("fssize") { storage.size = try StorageOptions.size(size) }
        if let group = arguments.value("vgname") { storage.volumeGroup = group }
        storage.volumeName = arguments.value("lvname")
        if let root = arguments.value("zfsroot") { storage.zfsRoot = root }
        try creator.create(name: name, from: template, unprivileged: unprivileged, backingStore: backingStore, storage: storage,
                           customization: customization)
        print("Created container \(name) in \(store.directory(of: name))")
        return 0
    }

    /// busybox, an imported tarball, a short name or an OCI reference: from the caches, pulled
    /// first when missing (create forks no container, so it may do network work itself).
    static func imageTemplate(_ name: String, unprivileged: Bool) throws(SwrunError) -> any RootfsTemplate {
        let catalog = imageCatalog()
        if let template = try catalog.localTemplate(name, unprivileged: unprivileged) { return template }
        do {
            try catalog.pull(name)
        } catch where !name.contains("/") && !name.contains(":") && !name.contains(".") {
            // A bare word is most often a template's name mistyped: say all that was tried.
            throw SwrunError(.notFound, "no template, image or tarball is named '\(name)'",
                             hint: "tried the templates (\((ContainerCreator.templates + ["download"]).joined(separator: ", "))), the images in the cache (`swrun images`), a file ./\(name), and the registry (\(error.message)); give a template, an image reference such as alpine:3.20, or a tarball's path")
        }
        guard let template = try catalog.localTemplate(name, unprivileged: unprivileged) else {
            throw SwrunError(.notFound, "cannot get the image '\(name)'", hint: "the templates are busybox and download; `swrun images` lists cached images")
        }
        return template
    }

    /// What the server offers, as lxc-create's download template lists it.
    static func listImages(_ options: DownloadOptions, format: OutputFormat = .text) throws(SwrunError) {
        let server = LXCImageServer(base: options.server, caFile: options.caFile)
        let images = try server.images().filter {
            (options.dist == nil || $0.dist == options.dist) && (options.release == nil || $0.release == options.release)
                && (options.arch == nil || $0.arch == options.arch)
        }
        if format == .json {
            print(JSON.array(images.map { image in
                .object([("dist", .string(image.dist)), ("release", .string(image.release)), ("arch", .string(image.arch)),
                         ("variant", .string(image.variant)), ("build", .string(image.build))])
            }).text)
            return
        }
        print(table(["DIST", "RELEASE", "ARCH", "VARIANT", "BUILD"], images.map { [$0.dist, $0.release, $0.arch, $0.variant, $0.build] }),
              terminator: "")
        printError("swrun: create one with: swrun create -n NAME -t download -- -d DIST -r RELEASE -a ARCH")
    }

}
