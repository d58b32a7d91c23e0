import SwrunConfig
import Testing

@Suite struct MountAutoTests {
    static func auto(_ value: String) throws -> MountAuto {
        try container("lxc.mount.auto = \(value)").mountAuto
    }

    @Test(arguments: [
        ("proc", MountAuto(proc: .mixed)),
        ("proc:rw", MountAuto(proc: .rw)),
        ("sys", MountAuto(sys: .mixed)),
        ("sys:ro", MountAuto(sys: .ro)),
        ("sys:rw", MountAuto(sys: .rw)),
        ("cgroup", MountAuto(cgroup: .unspecified)),
        ("cgroup:mixed", MountAuto(cgroup: .mixed)),
        ("cgroup:ro:force", MountAuto(cgroup: .ro, cgroupForce: true)),
        ("cgroup:force", MountAuto(cgroup: .unspecified, cgroupForce: true)),
        ("cgroup-full:rw", MountAuto(cgroup: .rw, cgroupKind: .full)),
        ("cgroup-full", MountAuto(cgroup: .unspecified, cgroupKind: .full)),
        ("cgroup2", MountAuto(cgroup: .rw, cgroupKind: .cgroup2, cgroupForce: true)),
        ("cgroup2:ro:force", MountAuto(cgroup: .ro, cgroupKind: .cgroup2, cgroupForce: true)),
        ("cgroup:mixed proc:mixed sys:mixed", MountAuto(proc: .mixed, sys: .mixed, cgroup: .mixed)),
        ("proc:rw\tproc", MountAuto(proc: .mixed)),  // the last token of a group wins
    ])
    func tokens(value: String, expected: MountAuto) throws {
        #expect(try Self.auto(value) == expected)
    }

    @Test func linesAddUpAndAnEmptyValueClears() throws {
        #expect(try container("lxc.mount.auto = proc\nlxc.mount.auto = sys:ro\n").mountAuto == MountAuto(proc: .mixed, sys: .ro))
        #expect(try container("lxc.mount.auto = proc\nlxc.mount.auto =\nlxc.mount.auto = sys\n").mountAuto == MountAuto(sys: .mixed))
    }

    @Test func sharedMounts() throws {
        #expect(try Self.auto("shmounts:/srv/shared").sharedMounts == .init(host: "/srv/shared", container: "/dev/.lxc-mounts"))
        #expect(try Self.auto("shmounts:/srv/shared:/mnt").sharedMounts == .init(host: "/srv/shared", container: "/mnt"))
    }

    @Test(arguments: ["proc:ro", "sys:mixed:force", "cgroup:full", "cgroup2:rw", "dev", "cgroup:rw:force:force", "shmounts:"])
    func invalidTokens(value: String) {
        #expect(swrunError { _ = try Self.auto(value) }?.code == .invalidConfig)
    }
}
