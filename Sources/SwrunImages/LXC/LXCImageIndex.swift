import SwrunJSON
import SwrunSystem

/// One image an LXC image server offers: a build of DIST/RELEASE/ARCH/VARIANT.
public struct LXCImage: Sendable, Equatable {
    public var dist: String
    public var release: String
    public var arch: String
    public var variant: String
    public var build: String
    /// The image's directory on the server, "/images/debian/bookworm/amd64/default/BUILD/".
    public var directory: String
    /// Checksums the index itself vouches for (simplestreams), by file name.
    public var sha256: [String: String] = [:]
    public var sizes: [String: Int64] = [:]

    public var key: String { "\(dist)/\(release)/\(arch)/\(variant)" }

    /// When the build was made, for build names as LXC's servers give them (`20261129_05:24`,
    /// UTC); nil for any other name.
    public var buildTime: Int64? {
        let parts = build.split(separator: "_")
        guard parts.count == 2, parts[0].count == 8, parts[1].count == 5, parts[1].dropFirst(2).first == ":" else { return nil }
        return UTCTime.seconds(String(parts[0]) + parts[1].filter { $0 != ":" })
    }
}

/// The two index formats of LXC image servers.
public enum LXCImageIndex {
    public static let legacyPath = "meta/1.0/index-system"
    public static let streamsIndexPath = "streams/v1/index.json"

    /// The legacy index: one image a line, `dist;release;arch;variant;build;path`.
    public static func parseLegacy(_ text: String, source: String) throws(SwrunError) -> [LXCImage] {
        var images: [LXCImage] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, !fields[0].isEmpty, !fields[5].isEmpty else {
                throw SwrunError(.verificationFailed, "\(source):\(number + 1): not an image line (dist;release;arch;variant;build;path)",
                                 hint: "check that --server names an LXC image server")
            }
            images.append(LXCImage(dist: fields[0], release: fields[1], arch: fields[2], variant: fields[3],
                                   build: fields[4], directory: fields[5].hasSuffix("/") ? fields[5] : fields[5] + "/"))
        }
        return images
    }

    /// The path of the products file that a simplestreams index.json names.
    public static func productsPath(inStreamsIndex document: JSONValue, source: String) throws(SwrunError) -> String {
        for (_, entry) in document["index"]?.object ?? [:] where entry["datatype"]?.string == "image-downloads" {
            if let path = entry["path"]?.string { return path }
        }
        throw SwrunError(.verificationFailed, "\(source) names no image-downloads products",
                         hint: "check that --server names an LXC or Incus image server")
    }

    /// Simplestreams products (images.json): the newest version of each product that has a
    /// rootfs tarball, with the checksums of its files.
    public static func parseProducts(_ document: JSONValue, source: String) throws(SwrunError) -> [LXCImage] {
        guard let products = document["products"]?.object else {
            throw SwrunError(.verificationFailed, "\(source) has no products", hint: "check that --server names an LXC or Incus image server")
        }
        var images: [LXCImage] = []
        for (_, product) in products.sorted(by: { $0.key < $1.key }) {
            guard let dist = product["os"]?.string, let release = product["release"]?.string,
                  let arch = product["arch"]?.string, let versions = product["versions"]?.object,
                  let newest = versions.keys.max(), let items = versions[newest]?["items"]?.object,
                  let root = items.values.first(where: { $0["ftype"]?.string == "root.tar.xz" }),
                  let rootPath = root["path"]?.string else { continue }
            var image = LXCImage(dist: dist.lowercased(), release: release, arch: arch,
                                 variant: product["variant"]?.string ?? "default", build: newest,
                                 directory: "/" + FileSystem.parentPath(rootPath) + "/")
            for item in items.values {
                guard let path = item["path"]?.string, let sha256 = item["sha256"]?.string else { continue }
                let file = String(path.split(separator: "/").last ?? "")
                image.sha256[file] = sha256
                image.sizes[file] = item["size"]?.int64
            }
            images.append(image)
        }
        return images
    }

    /// The host's architecture as image servers name it.
    public static func hostArchitecture(machine: String) -> String {
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64": return "arm64"
        case "armv7l", "armv8l": return "armhf"
        case "i686", "i586", "i386": return "i386"
        case "ppc64le": return "ppc64el"
        default: return machine
        }
    }
}
