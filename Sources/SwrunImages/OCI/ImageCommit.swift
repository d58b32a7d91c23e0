import Glibc
import SwrunConfig
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// A new image made of a base image and one more layer (docker commit): the layer is written
/// from a directory by LayerDiff; the base image's config gets the layer's diff_id, a history
/// entry and the `--change` instructions; the manifest lists the base's layers and the new one.
/// Without a base (a container that came from no cached image), the layer is the whole rootfs.
public struct ImageCommit {
    let store: OCIStore

    public init(store: OCIStore) {
        self.store = store
    }

    public struct Options: Sendable {
        /// Dockerfile instructions applied to the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER,
        /// EXPOSE, LABEL, STOPSIGNAL, VOLUME.
        public var changes: [String] = []
        public var author: String?
        public var message: String?
        /// An unprivileged container's maps: the layer's owners as it sees them.
        public var idMaps: [IDMap] = []
        public init() {}
    }

    /// The base image's layer directories in the layer store (topmost first), if `image` is
    /// cached and made of exactly `lowers`; nil when the container is not its layers over it.
    public func base(_ image: String?, matching lowers: [String]) -> (reference: ImageReference, manifest: ImageManifest)? {
        guard let image, let reference = try? ImageReference(image), let cached = try? store.cachedManifest(reference),
              let config = try? store.config(of: cached.manifest) else { return nil }
        let layers = LayerStore(store: store)
        var seen: Set<String> = []
        let directories = (config["rootfs"]?["diff_ids"]?.array ?? []).compactMap(\.string).map(layers.path(of:)).reversed()
            .filter { seen.insert($0).inserted }
        return Array(directories) == lowers ? (reference, cached.manifest) : nil
    }

    /// Commits `directory` (an upper directory over `base`'s layers, or a whole rootfs) as
    /// `target`; returns the new manifest's digest.
    public func commit(_ directory: String, over base: ImageManifest?, as target: String, options: Options) throws(SwrunError) -> String {
        let name = try ImageReference(target)
        guard name.digest == nil else { throw SwrunError(.invalidArgument, "commit names a tag, not a digest: \(target)", hint: "give NAME[:TAG]") }
        var config = try base.map { manifest throws(SwrunError) in try store.config(of: manifest) } ?? Self.emptyConfig
        for change in options.changes { config = try Self.apply(change, to: config) }
        let inUse = try store.useLock()
        defer { withExtendedLifetime(inUse) {} }
        try FileSystem.makeDirectories(store.blobs, mode: 0o755)
        let partial = store.blobs + "/.commit-\(getpid())"
        defer { unlink(partial) }
        let layer = try LayerDiff.write(directory, overlayMarks: base != nil, idMaps: options.idMaps, to: partial)
        if !FileSystem.exists(store.blobPath(layer.digest)) {
            guard rename(partial, store.blobPath(layer.digest)) == 0 else { throw SwrunError.system("cannot keep the layer", Errno.current) }
        }

        let now = WallClock.now("%Y-%m-%dT%H:%M:%SZ", utc: true)
        guard case .object(var document) = config else { throw SwrunError(.verificationFailed, "the base image's config is not an object") }
        var rootfs = document["rootfs"]?.object ?? ["type": .string("layers")]
        rootfs["diff_ids"] = .array((rootfs["diff_ids"]?.array ?? []) + [.string(layer.digest)])
        document["rootfs"] = .object(rootfs)
        var history: [String: JSONValue] = ["created": .string(now), "created_by": .string("swrun commit")]
        if let message = options.message { history["comment"] = .string(message) }
        if let author = options.author {
            history["author"] = .string(author)
            document["author"] = .string(author)
        }
        document["history"] = .array((document["history"]?.array ?? []) + [.object(history)])
        document["created"] = .string(now)
        let configDigest = try keep(Array(JSONValue.object(document).serialized.utf8))

        let layers = (base?.layers ?? []).map { layer -> JSONValue in
            .object(["mediaType": .string(Self.ociType(layer.mediaType)), "digest": .string(layer.digest), "size": .number(String(layer.size))])
        } + [.object(["mediaType": .string("application/vnd.oci.image.layer.v1.tar"), "digest": .string(layer.digest),
                      "size": .number(String(layer.size))])]
        let manifest = JSONValue.object([
            "schemaVersion": .number("2"), "mediaType": .string(MediaType.ociManifest),
            "config": .object(["mediaType": .string("application/vnd.oci.image.config.v1+json"), "digest": .string(configDigest.digest),
                               "size": .number(String(configDigest.size))]),
            "layers": .array(layers),
        ])
        let manifestDigest = try keep(Array(manifest.serialized.utf8)).digest
        try FileSystem.makeDirectories(FileSystem.parentPath(store.refPath(name)), mode: 0o755)
        try FileSystem.writeAtomically(store.refPath(name), manifestDigest + "\n")
        return manifestDigest
    }

    private func keep(_ bytes: [UInt8]) throws(SwrunError) -> (digest: String, size: Int) { try store.keepBlob(bytes) }

    /// Docker's layer types, by their OCI names (the same bytes).
    static func ociType(_ type: String) -> String {
        type == "application/vnd.docker.image.rootfs.diff.tar.gzip" ? "application/vnd.oci.image.layer.v1.tar+gzip" : type
    }

    static var emptyConfig: JSONValue {
        let platform = ImageManifest.platform(machine: Architecture.hostMachine)
        var document: [String: JSONValue] = ["architecture": .string(platform.architecture), "os": .string("linux"),
                                             "config": .object([:]), "rootfs": .object(["type": .string("layers"), "diff_ids": .array([])])]
        if let variant = platform.variant { document["variant"] = .string(variant) }
        return .object(document)
    }

    // MARK: --change

    /// One Dockerfile instruction applied to the image config's "config" object.
    static func apply(_ change: String, to config: JSONValue) throws(SwrunError) -> JSONValue {
        let trimmed = change.trimmingCharacters(in: " \t")
        let instruction = String(trimmed.prefix { $0 != " " && $0 != "\t" }).uppercased()
        let argument = String(trimmed.dropFirst(instruction.count)).trimmingCharacters(in: " \t")
        guard case .object(var document) = config else { return config }
        var run = document["config"]?.object ?? [:]
        func bad(_ why: String) -> SwrunError {
            SwrunError(.invalidArgument, "--change '\(change)': \(why)", hint: "write it as in a Dockerfile, e.g. CMD [\"nginx\", \"-g\", \"daemon off;\"] or ENV KEY=value")
        }
        guard !argument.isEmpty else { throw bad("\(instruction) needs an argument") }
        switch instruction {
        case "CMD", "ENTRYPOINT":
            run[instruction == "CMD" ? "Cmd" : "Entrypoint"] = .array(try words(argument, or: bad).map { .string($0) })
        case "ENV":
            var environment = run["Env"]?.array?.compactMap(\.string) ?? []
            for (key, value) in try pairs(argument, environment: environment, or: bad) {
                // Where the key is already, as Docker replaces it; else last.
                if let index = environment.firstIndex(where: { $0.hasPrefix(key + "=") }) {
                    environment[index] = key + "=" + value
                } else {
                    environment.append(key + "=" + value)
                }
            }
            run["Env"] = .array(environment.map { .string($0) })
        case "LABEL":
            var labels = run["Labels"]?.object ?? [:]
            let environment = run["Env"]?.array?.compactMap(\.string) ?? []
            for (key, value) in try pairs(argument, environment: environment, or: bad) { labels[key] = .string(value) }
            run["Labels"] = .object(labels)
        case "WORKDIR": run["WorkingDir"] = .string(argument)
        case "USER": run["User"] = .string(argument)
        case "STOPSIGNAL": run["StopSignal"] = .string(argument)
        case "EXPOSE", "VOLUME":
            let key = instruction == "EXPOSE" ? "ExposedPorts" : "Volumes"
            var set = run[key]?.object ?? [:]
            let items = argument.hasPrefix("[") ? try words(argument, or: bad) : argument.split(separator: " ").map(String.init)
            for item in items { set[instruction == "EXPOSE" && !item.contains("/") ? item + "/tcp" : item] = .object([:]) }
            run[key] = .object(set)
        default:
            throw bad("swrun commit takes CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, STOPSIGNAL, EXPOSE and VOLUME")
        }
        document["config"] = .object(run)
        return .object(document)
    }

    /// The exec form (a JSON array of strings), or the shell form: /bin/sh -c "ARGUMENT".
    private static func words(_ argument: String, or bad: (String) -> SwrunError) throws(SwrunError) -> [String] {
        guard argument.hasPrefix("[") else { return ["/bin/sh", "-c", argument] }
        guard let array = (try? JSONValue(parsing: Array(argument.utf8)))?.array, array.allSatisfy({ $0.string != nil }) else {
            throw bad("the exec form is a JSON array of strings")
        }
        return array.compactMap(\.string)
    }

    /// KEY=VALUE pairs, or one "KEY VALUE", read as Docker reads them (BuildWords, as `swrun
    /// build` reads ENV and LABEL), with the variables of `environment` (the image's ENV so far).
    private static func pairs(_ argument: String, environment: [String], or bad: (String) -> SwrunError) throws(SwrunError) -> [(String, String)] {
        var variables: [String: String] = [:]
        for entry in environment {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            variables[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
        }
        do {
            return try BuildWords(values: variables).pairs(argument).map { ($0.key, $0.value ?? "") }
        } catch {
            throw bad(error.message)
        }
    }
}
