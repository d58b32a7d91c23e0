import CLinux
import Glibc
import SwrunConfig
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// The image a build stage makes, step by step: Docker's image config (with its history) and
/// the layers so far, each a blob of the cache and a directory of the layer store.
public struct BuildImage: Sendable {
    public struct Layer: Sendable, Equatable {
        public var diffID: String
        /// The blob (compressed or not, as the base image has it) and its media type.
        public var digest: String
        public var size: Int64
        public var mediaType: String
        /// The unpacked layer in the layer store.
        public var directory: String
    }

    /// The whole config document: architecture, os, config, rootfs, history.
    public var document: [String: JSONValue]
    public var layers: [Layer] = []

    /// An image of nothing (FROM scratch).
    public static var scratch: BuildImage {
        guard case .object(let document) = ImageCommit.emptyConfig else { return BuildImage(document: [:]) }
        return BuildImage(document: document)
    }

    /// The run settings ("config" of the document).
    public var run: [String: JSONValue] {
        get { document["config"]?.object ?? [:] }
        set { document["config"] = .object(newValue) }
    }

    public var environment: [String] { run["Env"]?.array?.compactMap(\.string) ?? [] }
    public var user: String? { run["User"]?.string.flatMap { $0.isEmpty ? nil : $0 } }
    public var workingDirectory: String { run["WorkingDir"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "/" }
    /// SHELL, else /bin/sh -c.
    public var shell: [String] { run["Shell"]?.array?.compactMap(\.string) ?? ["/bin/sh", "-c"] }
    public var onBuild: [String] { run["OnBuild"]?.array?.compactMap(\.string) ?? [] }

    /// ENV as NAME: VALUE.
    public var environmentValues: [String: String] {
        var values: [String: String] = [:]
        for entry in environment {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            values[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return values
    }

    /// Adds `keys` to a set of the run config (ExposedPorts, Volumes: keys of empty objects).
    public mutating func addKeys(_ keys: [String], to field: String) {
        var set = run[field]?.object ?? [:]
        for key in keys { set[key] = .object([:]) }
        run[field] = .object(set)
    }

    /// Sets a variable; one set again keeps its place, as in Docker.
    public mutating func setEnvironment(_ name: String, _ value: String) {
        var entries = environment
        if let index = entries.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            entries[index] = name + "=" + value
        } else {
            entries.append(name + "=" + value)
        }
        run["Env"] = .array(entries.map { .string($0) })
    }

    /// Adds a history entry; `layer` says whether it made a layer (else empty_layer).
    public mutating func record(_ createdBy: String, layer: Bool, time: String) {
        var entry: [String: JSONValue] = ["created": .string(time), "created_by": .string(createdBy)]
        if !layer { entry["empty_layer"] = .bool(true) }
        document["history"] = .array((document["history"]?.array ?? []) + [.object(entry)])
        document["created"] = .string(time)
    }

    /// Appends `layer`, and its diff_id to rootfs.
    public mutating func append(_ layer: Layer) {
        layers.append(layer)
        var rootfs = document["rootfs"]?.object ?? ["type": .string("layers")]
        rootfs["diff_ids"] = .array((rootfs["diff_ids"]?.array ?? []) + [.string(layer.diffID)])
        document["rootfs"] = .object(rootfs)
    }

    /// The layer directories, topmost first, as an overlay's lowers are listed.
    public var lowers: [String] {
        var seen: Set<String> = []
        return layers.reversed().map(\.directory).filter { seen.insert($0).inserted }
    }

    /// A file of the image, read through its layers (topmost first, whiteouts honoured).
    public func file(_ path: String) -> String? { LayerStore.file(path, in: lowers) }

    /// sha256:HEX of `text`, for the build cache's keys.
    public static func digest(_ text: String) -> String { "sha256:" + SHA256.hexDigest(of: Array(text.utf8)) }

    /// A digest of what the image is so far (its config and layers), for the build cache.
    public var fingerprint: String {
        let text = JSONValue.object(document).serialized + layers.map(\.diffID).joined(separator: ",")
        return "sha256:" + SHA256.hexDigest(of: Array(text.utf8))
    }
}

/// What a build reads from and writes to the image cache: base images with their layers
/// unpacked, new layers from directories, the finished image under its tags, and the build
/// cache (CACHE/oci/build-cache). A build holds the store's use lock all along, so that no
/// prune takes a layer it stands on.
public struct BuildStore {
    public let store: OCIStore
    private let inUse: FileLock

    public init(store: OCIStore) throws(SwrunError) {
        self.store = store
        inUse = try store.useLock()
        try FileSystem.makeDirectories(store.blobs, mode: 0o755)
    }

    var cacheDirectory: String { store.root + "/oci/build-cache" }

    /// A cached image (the caller pulled it first where needed), its layers unpacked.
    public func image(_ name: String, report: @escaping (String) -> Void) throws(SwrunError) -> BuildImage? {
        let reference = try ImageReference(ImageCatalog.aliases[name]?.oci ?? name)
        guard let cached = try store.cachedManifest(reference) else { return nil }
        let config = try store.config(of: cached.manifest)
        guard case .object(let document) = config else {
            throw SwrunError(.verificationFailed, "the config of \(reference) is not a JSON object", hint: "remove the image and pull it again")
        }
        let diffIDs = try OCITemplate.diffIDs(config, layers: cached.manifest.layers.count, image: "\(reference)")
        let directories = try LayerStore(store: store).unpack(cached.manifest, diffIDs: diffIDs, image: "\(reference)", report: report)
        var image = BuildImage(document: document)
        image.layers = zip(cached.manifest.layers, zip(diffIDs, directories)).map { layer, ids in
            BuildImage.Layer(diffID: ids.0, digest: layer.digest, size: layer.size, mediaType: ImageCommit.ociType(layer.mediaType), directory: ids.1)
        }
        return image
    }

    /// `directory` (an overlay's upper with `overlayMarks`, or a tree of new files) as a layer:
    /// a blob of the cache, unpacked into the layer store.
    public func layer(from directory: String, overlayMarks: Bool) throws(SwrunError) -> BuildImage.Layer {
        let partial = store.blobs + "/.build-\(getpid())"
        defer { unlink(partial) }
        let written = try LayerDiff.write(directory, overlayMarks: overlayMarks, to: partial)
        if !FileSystem.exists(store.blobPath(written.digest)) {
            guard rename(partial, store.blobPath(written.digest)) == 0 else { throw SwrunError.system("cannot keep the layer", Errno.current) }
        }
        let descriptor = Descriptor(mediaType: "application/vnd.oci.image.layer.v1.tar", digest: written.digest, size: written.size)
        let manifest = ImageManifest(config: descriptor, layers: [descriptor])
        let directory = try LayerStore(store: store).unpack(manifest, diffIDs: [written.digest], image: "the build", report: { _ in })[0]
        return BuildImage.Layer(diffID: written.digest, digest: written.digest, size: written.size,
                                mediaType: "application/vnd.oci.image.layer.v1.tar", directory: directory)
    }

    /// Writes `image` (config and manifest) and names it by each of `tags`; returns the
    /// manifest's digest, which is also the image's ID for `swrun images`.
    @discardableResult
    public func write(_ image: BuildImage, tags: [ImageReference]) throws(SwrunError) -> String {
        let config = try keep(Array(JSONValue.object(image.document).serialized.utf8))
        let manifest = JSONValue.object([
            "schemaVersion": .number("2"), "mediaType": .string(MediaType.ociManifest),
            "config": .object(["mediaType": .string("application/vnd.oci.image.config.v1+json"), "digest": .string(config.digest),
                               "size": .number(String(config.size))]),
            "layers": .array(image.layers.map { layer in
                .object(["mediaType": .string(layer.mediaType), "digest": .string(layer.digest), "size": .number(String(layer.size))])
            }),
        ])
        let digest = try keep(Array(manifest.serialized.utf8)).digest
        for tag in tags {
            try FileSystem.makeDirectories(FileSystem.parentPath(store.refPath(tag)), mode: 0o755)
            try FileSystem.writeAtomically(store.refPath(tag), digest + "\n")
        }
        return digest
    }

    private func keep(_ bytes: [UInt8]) throws(SwrunError) -> (digest: String, size: Int) { try store.keepBlob(bytes) }

    // MARK: the build cache

    /// The image a step made before, for the same `key`, if its layers are all still there.
    public func cached(_ key: String) -> BuildImage? {
        let path = cacheDirectory + "/" + key.dropFirst("sha256:".count)
        guard let bytes = try? FileSystem.readBytes(path), let entry = try? JSONValue(parsing: bytes),
              case .object(let document)? = entry["config"], let layers = entry["layers"]?.array else { return nil }
        var image = BuildImage(document: document)
        for layer in layers {
            guard let diffID = layer["diff_id"]?.string, let digest = layer["digest"]?.string, let size = layer["size"]?.int64,
                  let mediaType = layer["media_type"]?.string else { return nil }
            let directory = LayerStore(store: store).path(of: diffID)
            guard FileSystem.exists(store.blobPath(digest)), FileSystem.isDirectory(directory) else { return nil }
            image.layers.append(BuildImage.Layer(diffID: diffID, digest: digest, size: size, mediaType: mediaType, directory: directory))
        }
        return image
    }

    /// Keeps what a step made under `key`.
    public func remember(_ image: BuildImage, as key: String) throws(SwrunError) {
        try FileSystem.makeDirectories(cacheDirectory, mode: 0o700)
        let entry = JSONValue.object([
            "config": .object(image.document),
            "layers": .array(image.layers.map { layer in
                .object(["diff_id": .string(layer.diffID), "digest": .string(layer.digest), "size": .number(String(layer.size)),
                         "media_type": .string(layer.mediaType)])
            }),
        ])
        try FileSystem.writeAtomically(cacheDirectory + "/" + key.dropFirst("sha256:".count), entry.serialized + "\n", mode: 0o600)
    }
}
