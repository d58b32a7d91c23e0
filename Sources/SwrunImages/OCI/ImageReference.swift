import SwrunSystem

/// An OCI image reference: `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`, read as Docker reads it:
/// no registry means Docker Hub, where a one-part name lives under `library/`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    public init(_ text: String) throws(SwrunError) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            guard Self.isDigest(digest) else {
                throw SwrunError(.invalidArgument, "'\(text)' has a malformed digest", hint: "a digest looks like sha256:<64 hex digits>")
            }
            self.digest = digest
            rest = rest[..<at]
        }
        var parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // The first part is a registry when it looks like a host: a dot, a port, or localhost.
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = parts.removeFirst()
        } else {
            registry = "docker.io"
        }
        if let last = parts.last, let colon = last.lastIndex(of: ":") {
            tag = String(last[last.index(after: colon)...])
            parts[parts.count - 1] = String(last[..<colon])
        }
        if registry == "docker.io" && parts.count == 1 { parts.insert("library", at: 0) }
        repository = parts.joined(separator: "/")
        if tag == nil && digest == nil { tag = "latest" }
        guard !repository.isEmpty, parts.allSatisfy({ Self.isComponent($0) }), tag.map(Self.isTag) ?? true else {
            throw SwrunError(.invalidArgument, "'\(text)' is not an image reference",
                             hint: "write it as Docker does: alpine, alpine:3.20, docker.io/library/debian:12, quay.io/ORG/NAME:TAG, localhost:5000/NAME")
        }
    }

    /// Where the registry's API is: Docker Hub's lives on another host than its name.
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    /// The tag or digest asked for, as the manifests endpoint takes it.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    public var description: String {
        registry + "/" + repository + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0 } ?? "")
    }

    static func isDigest(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 1)
        return parts.count == 2 && parts[0] == "sha256" && parts[1].count == 64 && parts[1].allSatisfy(\.isHexDigit)
    }

    private static func isComponent(_ part: String) -> Bool {
        !part.isEmpty && part.allSatisfy { $0.isLowercase || $0.isNumber || "._-".contains($0) }
    }

    private static func isTag(_ tag: String) -> Bool {
        !tag.isEmpty && tag.count <= 128 && tag.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) }
    }
}
