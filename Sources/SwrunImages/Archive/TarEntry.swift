/// One member of a tar archive, with the metadata swrun restores.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case directory
        case symlink(target: String)
        /// A second name for an earlier member, named relative to the archive's root.
        case hardlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    /// The member's name as the archive gives it (after pax and GNU long-name records).
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modificationTime: Int64
    /// Bytes of data that follow (regular files only).
    public var size: Int64
    /// Extended attributes from pax `SCHILY.xattr.NAME` records (file capabilities among them).
    public var extendedAttributes: [String: [UInt8]]
}
