import SwrunSystem

/// A member name made safe to use under a root: its components, with `.` and empty ones
/// dropped and a leading `/` ignored (as tar does). A `..` component is refused outright:
/// no honest image needs one, and refusing is clearer than clamping it to the root.
struct ArchivePath: Hashable, CustomStringConvertible {
    let components: [String]

    init(_ name: String, archive: String) throws(SwrunError) {
        var components: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." {
                throw SwrunError(.verificationFailed, "\(archive): member \"\(name)\" climbs out of the rootfs with '..'; refusing the archive",
                                 hint: "the archive is broken or hostile; nothing outside the rootfs was written")
            }
            components.append(String(part))
        }
        self.components = components
    }

    private init(components: [String]) { self.components = components }

    /// Where the symlink `target`, found in `directory`, points, resolved as the kernel does
    /// inside a root: absolute from the root, and `..` stopping at the root.
    static func resolvingLink(_ target: String, in directory: ArchivePath) -> ArchivePath {
        var components = target.hasPrefix("/") ? [] : directory.components
        for part in target.split(separator: "/") where part != "." {
            if part == ".." { _ = components.popLast() } else { components.append(String(part)) }
        }
        return ArchivePath(components: components)
    }

    var isRoot: Bool { components.isEmpty }
    var name: String { components.last ?? "" }
    var parent: ArchivePath { ArchivePath(components: Array(components.dropLast())) }
    var description: String { components.isEmpty ? "/" : components.joined(separator: "/") }

    func appending(_ name: String) -> ArchivePath { ArchivePath(components: components + [name]) }

    /// This path and every directory above it, the root excluded.
    var withAncestors: [ArchivePath] {
        (1...max(components.count, 1)).compactMap { count in
            count <= components.count ? ArchivePath(components: Array(components.prefix(count))) : nil
        }
    }
}
