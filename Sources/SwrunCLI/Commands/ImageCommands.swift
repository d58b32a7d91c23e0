import Glibc
import SwrunHTTP
import SwrunImages
import SwrunRuntime
import SwrunSystem

/// The variables that move swrun's caches and its shipped keys (tests and users with
/// another disk use them), name the registries that may be reached over plain HTTP, and
/// find the registry logins (REGISTRY_AUTH_FILE, podman's under XDG_RUNTIME_DIR, Docker's under HOME).
var cacheEnvironment: [String: String] {
    var result: [String: String] = [:]
    for name in EnvironmentVariables.cache.map(\.name) {
        if let value = getenv(name) { result[name] = String(cString: value) }
    }
    return result
}

/// swrun runs no threads, so work that overlaps runs in workers, swrun started again:
/// layers come down three at a time (`swrun image fetch-blob DIGEST`), and archives are
/// decompressed beside the unpacking (`swrun image decompress PATH`).
/// The image caches; `quiet` (-q) keeps their progress messages and bars off stderr.
func imageCatalog(quiet: Bool = false) -> ImageCatalog {
    if quiet { DownloadProgress.silenced = true }
    return ImageCatalog(environment: cacheEnvironment, fetcher: ParallelBlobFetcher(worker: [Subprocess.currentExecutable, "image", "fetch-blob"]),
                        opener: archiveOpener, report: quiet ? { _ in } : { printError("swrun: \($0)") })
}

let archiveOpener = ArchiveOpener(worker: [Subprocess.currentExecutable, "image", "decompress"])

enum PullCommand: Command {
    static let spec = CommandSpec(
        name: "pull",
        abstract: "Download an image into the local cache (docker pull).",
        discussion: """
        IMAGE is an OCI reference (alpine:3.20, docker.io/library/centos:7, quay.io/ORG/NAME:TAG,
        localhost:5000/NAME) or a short name (\(ImageCatalog.aliases.keys.sorted().joined(separator: ", "))), which
        comes from the LXC image server, else from Docker Hub. Every blob is checked against its digest;
        layers are shared between images. The cache is $SWRUN_CACHE_PATH (default /var/cache/swrun).
        """,
        options: [.init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) for HTTPS."),
                  .init(short: "q", long: "quiet", value: nil, help: "No progress: only errors."),
                  .init(short: nil, long: "flush-cache", value: nil,
                        help: "Remove the cached image first (its blobs and layers that nothing else uses), then download it again.")],
        arguments: [.init(name: "IMAGE", help: "The image to pull.", completes: .image)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun pull")
        let catalog = imageCatalog(quiet: arguments.flag("quiet"))
        if arguments.flag("flush-cache") {
            do { try catalog.remove(arguments.arguments[0]) } catch where error.code == .notFound {}  // not cached yet: nothing to flush
        }
        try catalog.pull(arguments.arguments[0], caFile: arguments.value("ca-file"))
        return 0
    }
}

enum PushCommand: Command {
    static let spec = CommandSpec(
        name: "push",
        abstract: "Upload a cached image to its registry (docker push).",
        discussion: """
        The image's name says where it goes: give a cached image that name first with `swrun tag`.
        Blobs the registry has are skipped, those it has in another repository linked (mount),
        the rest uploaded (in chunks past --chunk-size); then the manifest is put under the tag.
        A registry that wants a login uses the one `swrun login` stored.
        Example:  swrun tag busybox:latest localhost:5000/tools/busybox:v1 && swrun push localhost:5000/tools/busybox:v1
        """,
        options: [.init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) for HTTPS."),
                  .init(short: nil, long: "chunk-size", value: "BYTES", help: "Upload blobs larger than this in chunks of this size (default 64 MiB).")],
        arguments: [.init(name: "IMAGE", help: "A cached image, named for its registry.", completes: .image)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun push")
        let chunkSize = try arguments.value("chunk-size").map { text throws(SwrunError) -> Int64 in
            guard let value = Int64(text), value > 0 else { throw SwrunError(.invalidArgument, "--chunk-size \(text) is not a size in bytes", hint: "e.g. 67108864") }
            return value
        } ?? 64 << 20
        let catalog = imageCatalog()
        let reference = try ImageReference(ImageCatalog.aliases[arguments.arguments[0]]?.oci ?? arguments.arguments[0])
        try catalog.ociStore.push(reference, caFile: arguments.value("ca-file"), chunkSize: chunkSize, report: { printError("swrun: \($0)") })
        return 0
    }
}

enum LoginCommand: Command {
    static let spec = CommandSpec(
        name: "login",
        abstract: "Log in to a registry (docker login).",
        discussion: """
        The login is checked with the registry, then kept where Docker and podman read it:
        $REGISTRY_AUTH_FILE, else ~/.docker/config.json. pull, run and push use it.
        Example:  printf %s "$TOKEN" | swrun login -u ci --password-stdin registry.example.org
        """,
        options: [.init(short: "u", long: "username", value: "USER", help: "The user name."),
                  .init(short: "p", long: "password", value: "PASSWORD", help: "The password (visible to other users in ps: prefer --password-stdin)."),
                  .init(short: nil, long: "password-stdin", value: nil, help: "Read the password from standard input."),
                  .init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) for HTTPS.")],
        arguments: [.init(name: "REGISTRY", help: "The registry's host[:port] (docker.io when left out).", optional: true)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard let user = arguments.value("username") else {
            throw SwrunError(.invalidArgument, "swrun login needs -u USER", hint: "swrun login -u USER --password-stdin REGISTRY")
        }
        var password = arguments.value("password")
        if arguments.flag("password-stdin") {
            let bytes = (try? FileSystem.readAll(0, chunkSize: 4096)) ?? []
            // The line end goes, as docker login takes it (CR LF is one Character in Swift).
            var text = String(decoding: bytes, as: UTF8.self)
            while let last = text.last, last.isNewline { text.removeLast() }
            password = text
        }
        guard let password, !password.isEmpty else {
            throw SwrunError(.invalidArgument, "swrun login needs the password", hint: "give --password-stdin (or -p PASSWORD)")
        }
        let registry = arguments.arguments.first ?? "docker.io"
        let reference = try ImageReference(registry + "/library/login-check")
        try RegistryClient(reference: reference, caFile: arguments.value("ca-file"), security: RegistrySecurity(environment: cacheEnvironment),
                           credentials: (user, password)).checkLogin()
        let credentials = RegistryCredentials(environment: cacheEnvironment)
        try credentials.store(reference.registry, user: user, password: password)
        print("Login Succeeded (kept in \(credentials.writePath ?? ""))")
        return 0
    }
}

enum LogoutCommand: Command {
    static let spec = CommandSpec(
        name: "logout",
        abstract: "Forget the login for a registry (docker logout).",
        arguments: [.init(name: "REGISTRY", help: "The registry's host[:port] (docker.io when left out).", optional: true)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let reference = try ImageReference((arguments.arguments.first ?? "docker.io") + "/library/login-check")
        try RegistryCredentials(environment: cacheEnvironment).store(reference.registry, user: nil, password: nil)
        print("Removed the login for \(reference.registry)")
        return 0
    }
}

enum ImagesCommand: Command {
    static let spec = CommandSpec(
        name: "images",
        abstract: "List the images in the local cache, or those an LXC image server offers (--remote).",
        options: [
            .init(short: nil, long: "remote", value: nil, help: "List the images of the LXC image server (--server) instead."),
            .init(short: nil, long: "server", value: "URL", help: "The LXC image server for --remote (default \(DownloadOptions.defaultServer))."),
            CommonOptions.format("text or json."),
        ])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let format = try OutputFormat(arguments.value("format"))
        if arguments.flag("remote") {
            var options = DownloadOptions()
            if let server = arguments.value("server") { options = try DownloadOptions(arguments: ["--server", server]) }
            try CreateCommand.listImages(options, format: format)
            return 0
        }
        let images = imageCatalog().cachedImages()
        switch format {
        case .json:
            print(JSON.array(images.map { .object([("name", .string($0.name)), ("kind", .string($0.kind)), ("detail", .string($0.detail))]) }).text)
        case .text:
            print(table(["NAME", "KIND", "DETAIL"], images.map { [$0.name, $0.kind, $0.detail] }), terminator: "")
        }
        return 0
    }
}

enum ImageCommand: Command {
    static let spec = CommandSpec(
        name: "image",
        abstract: "Manage cached images: `swrun image rm IMAGE...` removes them, `swrun image prune` what nothing uses.",
        discussion: """
        rm removes the images and the blobs and unpacked layers no other image or container uses;
        prune removes the blobs and layers of images already removed once the last container made
        from them is destroyed. A layer stays while any container's config names it.
        """,
        arguments: [.init(name: "ACTION", help: "rm or prune", choices: ["rm", "prune"]),
                    .init(name: "IMAGE", help: "The image's name as `swrun images` shows it (rm).", optional: true, repeats: true, completes: .image)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        // Internal: a pull's download worker, which reads its request on stdin (see BlobFetchWorker).
        if arguments.arguments.first == "fetch-blob" { return BlobFetchWorker.run() }
        if arguments.arguments.first == "decompress", arguments.arguments.count == 2 { return ArchiveOpener.runWorker(path: arguments.arguments[1]) }
        if arguments.arguments.first == "prune" {
            guard arguments.arguments.count == 1 else {
                throw SwrunError(.invalidArgument, "swrun image prune takes no image", hint: "use `swrun image rm IMAGE` to remove one")
            }
            try requireRoot("swrun image prune")
            try imageCatalog().prune()
            return 0
        }
        guard arguments.arguments.first == "rm" else {
            throw SwrunError(.invalidArgument, "swrun image: unknown action '\(arguments.arguments.first ?? "")'", hint: "use `swrun image rm IMAGE` or `swrun image prune`")
        }
        guard arguments.arguments.count > 1 else {
            throw SwrunError(.invalidArgument, "swrun image rm: name the images to remove", hint: "see them with `swrun images`")
        }
        try requireRoot("swrun image rm")
        for name in arguments.arguments.dropFirst() {
            try imageCatalog().remove(name)
            print("Removed image \(name)")
        }
        return 0
    }
}

enum TagCommand: Command {
    static let spec = CommandSpec(
        name: "tag",
        abstract: "Give a cached image another name (docker tag).",
        discussion: """
        The new name refers to the same manifest: `swrun run`, `swrun images` and `swrun image rm`
        take it, and removing one name keeps the image for the other.
        Example:  swrun tag busybox:latest localhost:5000/tools/busybox:v1
        """,
        arguments: [.init(name: "SOURCE", help: "A cached image, as `swrun images` shows it.", completes: .image),
                    .init(name: "TARGET", help: "The new name, [REGISTRY/]REPOSITORY[:TAG].")])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun tag")
        try imageCatalog().tag(arguments.arguments[0], as: arguments.arguments[1])
        return 0
    }
}

enum CommitCommand: Command {
    static let spec = CommandSpec(
        name: "commit",
        abstract: "Make an image of a container's files (docker commit).",
        discussion: """
        A container made from a cached image gives that image plus one layer of its changes; any
        other gives an image of one layer, its whole rootfs. --change takes the Dockerfile
        instructions CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, STOPSIGNAL, EXPOSE and VOLUME.
        Commit a stopped container, or accept files changing as they are read.
        Example:  swrun commit -c 'CMD ["httpd", "-f"]' -m "add the site" web localhost:5000/site:v1
        """,
        options: [CommonOptions.lxcPath,
                  .init(short: "c", long: "change", value: "INSTRUCTION", help: "A Dockerfile instruction for the image's config.", repeats: true),
                  .init(short: "a", long: "author", value: "AUTHOR", help: "The image's author."),
                  .init(short: "m", long: "message", value: "MESSAGE", help: "The history entry's comment.")],
        arguments: [.init(name: "CONTAINER", help: "The container.", completes: .container), .init(name: "IMAGE", help: "The new image's name, [REGISTRY/]REPOSITORY[:TAG].")])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun commit")
        var options = ImageCommit.Options()
        options.changes = arguments.values("change")
        options.author = arguments.value("author")
        options.message = arguments.value("message")
        let digest = try ContainerCommit.commit(arguments.arguments[0], of: try arguments.store(), as: arguments.arguments[1],
                                                images: imageCatalog().ociStore, options: options)
        print(digest)
        return 0
    }
}

enum SaveCommand: Command {
    static let spec = CommandSpec(
        name: "save",
        abstract: "Write cached images to a tar archive (docker save).",
        discussion: """
        The archive is an OCI image layout and a docker save archive at once (index.json and
        manifest.json over the same blobs, as Docker 25 writes it): `docker load`, `swrun load`
        and OCI tools (skopeo's oci-archive:) read it.
        Example:  swrun save busybox:latest localhost:5000/web:v2 -o images.tar
        """,
        options: [.init(short: "o", long: "output", value: "FILE", help: "Write the archive to FILE instead of standard output.", completes: .file)],
        arguments: [.init(name: "IMAGE", help: "A cached OCI image, as `swrun images` shows it.", repeats: true, completes: .image)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let output = arguments.value("output") ?? "-"
        if output == "-" && Terminal.isTerminal(1) {
            throw SwrunError(.invalidArgument, "refusing to write a tar archive to the terminal", hint: "redirect it (> FILE) or give -o FILE")
        }
        try requireRoot("swrun save")
        try ImageArchive(store: imageCatalog().ociStore).save(arguments.arguments, to: output)
        return 0
    }
}

enum LoadCommand: Command {
    static let spec = CommandSpec(
        name: "load",
        abstract: "Read images from a tar archive into the cache (docker load).",
        discussion: """
        Takes what `swrun save` and `docker save` write (older Docker's layout too) and OCI image
        layout archives (skopeo's oci-archive:), plain or compressed; every blob is checked
        against its digest. A rootfs tarball is no image: `swrun import` takes it.
        Example:  swrun load -i images.tar
        """,
        options: [.init(short: "i", long: "input", value: "FILE", help: "The archive (default: standard input).", completes: .file)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let input = arguments.value("input") ?? "/dev/stdin"
        if input == "/dev/stdin" && Terminal.isTerminal(0) {
            throw SwrunError(.invalidArgument, "swrun load needs an archive", hint: "give -i FILE, or redirect one (< FILE)")
        }
        try requireRoot("swrun load")
        for name in try ImageArchive(store: imageCatalog().ociStore).load(input, report: { printError("swrun: \($0)") }) {
            print("Loaded image \(name)")
        }
        return 0
    }
}

enum ImportCommand: Command {
    static let spec = CommandSpec(
        name: "import",
        abstract: "Keep a rootfs tarball in the cache as image NAME, for `swrun run NAME` (docker import).",
        discussion: "The tarball holds a whole system (tar -C DIR -cJf rootfs.tar.xz .): plain, gzip, xz, zstd or bzip2.",
        arguments: [.init(name: "TARBALL", help: "The rootfs archive.", completes: .file), .init(name: "NAME", help: "The image's name.")])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun import")
        let (tarball, name) = (arguments.arguments[0], arguments.arguments[1])
        try imageCatalog().importTarball(tarball, as: name)
        print("Imported \(tarball) as image \(name)")
        return 0
    }
}
