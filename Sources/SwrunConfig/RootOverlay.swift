/// A rootfs made of read-only layers under a directory of the container's own changes, in
/// LXC's syntax: `lxc.rootfs.path = overlay:LOWER[:LOWER...]:UPPER`, the topmost lower
/// first, as overlayfs's lowerdir lists them. LXC takes the upper directory as what follows
/// the last ":/", and the work directory as "work" beside it; so does swrun, so that
/// `lxc-start` mounts what swrun made and swrun what LXC made (`lxc-copy -s`).
public struct RootOverlay: Sendable, Equatable {
    /// The read-only layers, topmost first.
    public var lowers: [String]
    /// Where the container's changes go (LXC's LXCPATH/NAME/overlay/delta).
    public var upper: String

    public init(lowers: [String], upper: String) {
        self.lowers = lowers
        self.upper = upper
    }

    /// overlayfs's work directory, on the upper's filesystem: "work" beside the upper, as LXC has it.
    public var work: String {
        let parent = upper.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (parent.isEmpty ? "" : parent) + "/work"
    }

    /// The value of lxc.rootfs.path.
    public var configValue: String { "overlay:" + (lowers + [upper]).joined(separator: ":") }

    /// The mount(2) data of the overlay.
    public var mountData: String { "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(upper),workdir=\(work)" }

    /// Reads the path part of an "overlay:" or "overlayfs:" value.
    static func parse(_ paths: String) throws(ValueError) -> RootOverlay {
        // Split at each ":/", so that only absolute paths separate (as LXC splits).
        var parts: [String] = []
        var current = ""
        var previous: Character?
        for character in paths {
            if character == "/" && previous == ":" {
                current.removeLast()
                parts.append(current)
                current = ""
            }
            current.append(character)
            previous = character
        }
        parts.append(current)
        guard parts.count >= 2, parts.allSatisfy({ $0.hasPrefix("/") && $0.count > 1 }) else {
            throw ValueError("an overlay rootfs needs absolute lower and upper directories",
                             hint: "write lxc.rootfs.path = overlay:/path/to/lower:/path/to/container/overlay/delta")
        }
        for part in parts where part.contains(",") || part.split(separator: "/").contains("..") {
            throw ValueError("the overlay directory '\(part)' contains a comma or '..'",
                             hint: "overlayfs options cannot carry a comma; use plain absolute paths")
        }
        return RootOverlay(lowers: Array(parts.dropLast()), upper: parts[parts.count - 1])
    }
}
