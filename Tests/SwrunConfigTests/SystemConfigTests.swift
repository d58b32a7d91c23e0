import SwrunConfig
import Testing

@Suite struct SystemConfigTests {
    @Test func aMissingFileGivesTheDefaults() throws {
        let config = try SystemConfig.load("/nonexistent/swrun/lxc.conf")
        #expect(config.lxcPath == "/var/lib/lxc")
        #expect(config.defaultConfigPath == "/etc/lxc/default.conf")
        #expect(config.value("lxc.bdev.lvm.vg") == "lxc")
        #expect(config.value("lxc.cgroup.use") == nil)
        #expect(config.value("lxc.nonsense") == nil)
    }

    @Test func keysAreWhatLxcConfigLists() {
        #expect(SystemConfig.keys == ["lxc.default_config", "lxc.lxcpath", "lxc.bdev.lvm.vg", "lxc.bdev.lvm.thin_pool",
                                      "lxc.bdev.zfs.root", "lxc.cgroup.use", "lxc.cgroup.pattern"])
        #expect(SystemConfig.defaultPath == "/etc/lxc/lxc.conf")
    }

    @Test func valuesFromAFile() throws {
        try withTemporaryDirectory { dir in
            let path = try dir.write("lxc.conf", """
                # lxc.lxcpath = /commented
                lxc.lxcpath = /srv/containers//
                \tlxc.default_config=/etc/lxc/other.conf
                lxc.bdev.zfs.root =
                lxc.bdev.zfs.root = tank/lxc
                lxc.cgroup.use = @kernel
                lxc.cgroup.use = second
                lxc.bdev.lvm.vgx = nope
                """)
            let config = try SystemConfig.load(path)
            #expect(config.lxcPath == "/srv/containers")
            #expect(config.defaultConfigPath == "/etc/lxc/other.conf")
            #expect(config.value("lxc.bdev.zfs.root") == "tank/lxc")  // an empty value does not count
            #expect(config.value("lxc.cgroup.use") == "@kernel")        // LXC takes the first line
            #expect(config.value("lxc.bdev.lvm.vg") == "lxc")
        }
    }
}
