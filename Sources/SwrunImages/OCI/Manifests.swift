import SwrunJSON
import SwrunSystem

/// The media types swrun asks registries for and understands.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let manifestAccept = [ociIndex, dockerList, ociManifest, dockerManifest].joined(separator: ", ")

    static let layers: Set<String> = [
        "application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ]
}

/// A blob named by a manifest: its digest, size and type.
public struct Descriptor: Sendable, Equatable {
    public var mediaType: String
    public var digest: String
    public var size: Int64

    init(mediaType: String, digest: String, size: Int64) {
        (self.mediaType, self.digest, self.size) = (mediaType, digest, size)
    }

    init(_ value: JSONValue, in source: String) throws(SwrunError) {
        guard let digest = value["digest"]?.string, ImageReference.isDigest(digest), let size = value["size"]?.int64 else {
            throw SwrunError(.verificationFailed, "\(source) names a blob without a valid sha256 digest and size",
                             hint: "the image is malformed; swrun takes sha256 digests only")
        }
        self.digest = digest
        self.size = size
        mediaType = value["mediaType"]?.string ?? ""
    }
}

/// An image manifest: one config and its layers, lowest first.
public struct ImageManifest: Sendable {
    public var config: Descriptor
    public var layers: [Descriptor]

    init(config: Descriptor, layers: [Descriptor]) {
        (self.config, self.layers) = (config, layers)
    }

    public init(_ document: JSONValue, source: String) throws(SwrunError) {
        guard let config = document["config"], let layers = document["layers"]?.array else {
            throw SwrunError(.verificationFailed, "\(source) is not an image manifest (no config or layers)",
                             hint: "Docker schema 1 manifests are not supported; pull a newer tag")
        }
        self.config = try Descriptor(config, in: source)
        self.layers = try layers.map { (layer) throws(SwrunError) in try Descriptor(layer, in: source) }
        for layer in self.layers where !MediaType.layers.contains(layer.mediaType) {
            throw SwrunError(.verificationFailed, "\(source) has a layer of type \(layer.mediaType), which swrun cannot unpack",
                             hint: "swrun unpacks tar layers, plain, gzip or zstd")
        }
    }

    /// The platform swrun runs: its GOARCH name, and the variant where one matters.
    public static func platform(machine: String) -> (architecture: String, variant: String?) {
        switch machine {
        case "x86_64": return ("amd64", nil)
        case "aarch64": return ("arm64", "v8")
        case "armv7l": return ("arm", "v7")
        case "i686", "i586", "i386": return ("386", nil)
        case "ppc64le": return ("ppc64le", nil)
        default: return (machine, nil)
        }
    }

    /// From an index (manifest list), the manifest for linux on `architecture`.
    public static func select(from index: JSONValue, architecture: String, variant: String?, source: String) throws(SwrunError) -> Descriptor {
        let entries = index["manifests"]?.array ?? []
        var candidates: [(JSONValue, JSONValue)] = []
        for entry in entries {
            guard let platform = entry["platform"], platform["os"]?.string == "linux",
                  platform["architecture"]?.string == architecture else { continue }
            candidates.append((entry, platform))
        }
        // The exact variant if there is one, else any (amd64 images name none).
        let chosen = candidates.first { variant == nil || $0.1["variant"]?.string == variant } ?? candidates.first
        guard let chosen else {
            let offered = entries.compactMap { entry -> String? in
                guard let os = entry["platform"]?["os"]?.string, let arch = entry["platform"]?["architecture"]?.string else { return nil }
                return os + "/" + arch + (entry["platform"]?["variant"]?.string.map { "/" + $0 } ?? "")
            }
            throw SwrunError(.notFound, "\(source) has no image for linux/\(architecture)",
                             hint: "it has: " + (offered.isEmpty ? "no platforms" : offered.joined(separator: ", ")))
        }
        return try Descriptor(chosen.0, in: source)
    }
}

/// What an image config says about how to run the image, as LXC config lines.
public struct ImageRunConfig: Sendable, Equatable {
    public var environment: [String] = []
    public var entrypoint: [String] = []
    public var command: [String] = []
    public var workingDirectory: String?
    public var user: String?
    /// The signal that asks the image's command to end (Docker's STOPSIGNAL).
    public var stopSignal: String?

    public init(_ document: JSONValue) {
        let config = document["config"] ?? .null
        environment = config["Env"]?.array?.compactMap(\.string) ?? []
        entrypoint = config["Entrypoint"]?.array?.compactMap(\.string) ?? []
        command = config["Cmd"]?.array?.compactMap(\.string) ?? []
        workingDirectory = config["WorkingDir"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        user = config["User"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        stopSignal = config["StopSignal"]?.string.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Entrypoint then Cmd, as Docker runs them when no command is given.
    public var argv: [String] { entrypoint + command }
}
