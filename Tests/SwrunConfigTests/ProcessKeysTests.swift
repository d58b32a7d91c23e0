import Glibc
import SwrunSystem
import Testing
@testable import SwrunConfig

/// LXC's keys for what a container's processes start with, beyond ids: resource limits,
/// supplementary groups, and the rootfs's mount flags.
@Suite struct ProcessKeysTests {
    @Test func resourceLimitsReadAsLXCWritesThem() throws {
        let config = try container("""
            lxc.prlimit.nofile = 1024:4096
            lxc.prlimit.nproc = unlimited
            lxc.prlimit.core = 0
            lxc.prlimit.core = 5
            """)
        #expect(config.resourceLimits == [
            ResourceLimitSetting(name: "nofile", soft: 1024, hard: 4096),
            ResourceLimitSetting(name: "nproc", soft: ResourceLimitSetting.unlimited, hard: ResourceLimitSetting.unlimited),
            ResourceLimitSetting(name: "core", soft: 5, hard: 5),
        ])
        #expect(try container("lxc.prlimit.nofile = 10\nlxc.prlimit =\n").resourceLimits.isEmpty, "lxc.prlimit = clears them all")
        let error = swrunError { _ = try container("lxc.prlimit.nofile = 10:5\n") }
        #expect(error?.message.contains("above the hard limit") == true, "\(String(describing: error))")
        #expect(try container("lxc.prlimit.nofile = 1\n").notYetApplied.isEmpty)
    }

    @Test func initGroupsAreAListOfNumbers() throws {
        #expect(try container("lxc.init.groups = 10,20\nlxc.init.groups = 30\n").initGroups == [10, 20, 30])
        #expect(try container("lxc.init.groups = 10\nlxc.init.groups =\n").initGroups.isEmpty)
        #expect(swrunError { _ = try container("lxc.init.groups = wheel\n") } != nil)
    }

    @Test func rootfsOptionsAreMountFlags() throws {
        let config = try container("lxc.rootfs.options = ro,nosuid,nodev\n")
        #expect(config.rootfsFlags.set == UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV))
        #expect(try container("lxc.rootfs.options = ro,rw\n").rootfsFlags == (0, UInt(MS_RDONLY)))
        let error = swrunError { _ = try container("lxc.rootfs.options = size=10M\n") }
        #expect(error?.message.contains("'size=10M' is not a mount flag") == true, "\(String(describing: error))")
    }

    @Test func fstabFieldsAreEscapedAndReadBack() {
        let path = "/srv/my data\\x"
        #expect(MountEntry.encode(path) == "/srv/my\\040data\\134x")
        #expect(MountEntry.decode(MountEntry.encode(path)) == path)
        #expect(MountEntry.encode("/é") == "/é")
    }

    @Test func capabilityNamesAsDockerSpellsThem() {
        #expect(CapabilityNames.canonical("NET_ADMIN") == "net_admin")
        #expect(CapabilityNames.canonical("CAP_SYS_TIME") == "sys_time")
        #expect(CapabilityNames.canonical("bogus") == nil)
    }
}
