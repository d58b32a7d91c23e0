import Glibc
import SwrunConfig
import SwrunSystem
import Testing

@Suite struct MountEntryTests {
    static let here = ConfigLocation(file: "c", line: 4)

    static func entry(_ line: String) throws -> MountEntry {
        try MountEntry.parse(line, location: here)
    }

    @Test func bindWithCreateDirAndOptional() throws {
        let entry = try Self.entry("/sys/fs/fuse/connections sys/fs/fuse/connections none bind,optional,create=dir 0 0")
        #expect(entry.source == "/sys/fs/fuse/connections")
        #expect(entry.target == "sys/fs/fuse/connections")
        #expect(entry.fsType == "none")
        #expect(entry.options == ["bind", "optional", "create=dir"])
        #expect(entry.flags == UInt(MS_BIND))
        #expect(entry.create == .directory)
        #expect(entry.optional)
        #expect(entry.data == "")
        #expect(entry.location == Self.here)
    }

    @Test(arguments: [
        ("bind", UInt(MS_BIND)),
        ("rbind", UInt(MS_BIND) | UInt(MS_REC)),
        ("bind,ro", UInt(MS_BIND) | UInt(MS_RDONLY)),
        ("ro,rw", 0),
        ("nosuid,nodev,noexec", UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)),
        ("remount,bind,ro", UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY)),
        ("relatime,sync,dirsync,mand", UInt(MS_RELATIME) | UInt(MS_SYNCHRONOUS) | UInt(MS_DIRSYNC) | UInt(MS_MANDLOCK)),
        ("noatime,nodiratime,strictatime,lazytime", UInt(MS_NOATIME) | UInt(MS_NODIRATIME) | UInt(MS_STRICTATIME) | UInt(MS_LAZYTIME)),
        ("nodev,dev", 0),
        ("defaults", 0),
    ])
    func flags(options: String, flags: UInt) throws {
        #expect(try Self.entry("src dst fs \(options) 0 0").flags == flags)
    }

    @Test(arguments: [
        ("rprivate", UInt(MS_PRIVATE) | UInt(MS_REC)),
        ("slave", UInt(MS_SLAVE)),
        ("rshared", UInt(MS_SHARED) | UInt(MS_REC)),
        ("unbindable", UInt(MS_UNBINDABLE)),
    ])
    func propagationIsKeptApart(option: String, propagation: UInt) throws {
        let entry = try Self.entry("/a a none bind,\(option) 0 0")
        #expect(entry.propagation == propagation)
        #expect(entry.flags == UInt(MS_BIND))
    }

    @Test func dataKeepsFilesystemOptionsAndDropsLXCOnes() throws {
        let entry = try Self.entry("tmpfs dev/shm tmpfs rw,nosuid,nodev,mode=1777,create=dir,size=65536k,optional,relative 0 0")
        #expect(entry.data == "mode=1777,size=65536k")
        #expect(entry.flags == UInt(MS_NOSUID) | UInt(MS_NODEV))
        #expect(entry.relative)
    }

    @Test func createFile() throws {
        #expect(try Self.entry("/etc/resolv.conf etc/resolv.conf none bind,create=file").create == .file)
    }

    @Test func dumpPassAndOptionsAreOptional() throws {
        let short = try Self.entry("proc proc proc")
        #expect(short.options.isEmpty && short.dump == 0 && short.pass == 0 && short.flags == 0)
        let full = try Self.entry("/dev/sda1\t/mnt\text4   defaults 1 2")
        #expect(full.dump == 1 && full.pass == 2)
    }

    @Test func octalEscapesAreDecoded() throws {
        let entry = try Self.entry(#"/srv/my\040files srv/back\134slash none bind 0 0"#)
        #expect(entry.source == "/srv/my files")
        #expect(entry.target == #"srv/back\slash"#)
    }

    @Test(arguments: ["/a a", "/a a none bind 0 0 extra", "/a a none bind x 0", "/a a none idmap=container"])
    func badEntries(line: String) {
        let error = swrunError { _ = try Self.entry(line) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.hasPrefix("c:4: lxc.mount.entry: ") == true)
    }
}
