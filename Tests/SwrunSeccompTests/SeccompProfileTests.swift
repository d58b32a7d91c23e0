import SwrunSystem
import Testing
@testable import SwrunSeccomp

@Suite struct SeccompProfileTests {
    /// LXC's common.seccomp, as Debian ships it.
    static let commonSeccomp = """
        2
        denylist
        reject_force_umount  # comment this to allow umount -f;  not recommended
        [all]
        kexec_load errno 1
        open_by_handle_at errno 1
        init_module errno 1
        finit_module errno 1
        delete_module errno 1
        """

    @Test func lxcsCommonProfileReads() throws {
        let filter = try SeccompProfile.parse(Self.commonSeccomp, path: "common.seccomp")
        #expect(filter.defaultAction == .allow)
        #expect(filter.rules.map(\.name) == ["umount2", "kexec_load", "open_by_handle_at", "init_module", "finit_module", "delete_module"])
        #expect(filter.rules.first?.test == .init(index: 1, mask: 1, value: 1))
        #expect(filter.rules.dropFirst().allSatisfy { $0.action == .errno(1) })
        #expect(filter.rules[1].number == 246)
    }

    @Test func allowlistRefusesTheRestWithItsAction() throws {
        let filter = try SeccompProfile.parse("2\nallowlist errno 38\nread\nwrite\nexit_group\n", path: "p")
        #expect(filter.defaultAction == .errno(38))
        #expect(filter.rules.allSatisfy { $0.action == .allow })
    }

    @Test func otherArchitecturesSectionsAreSkipped() throws {
        let filter = try SeccompProfile.parse("2\ndenylist errno 1\n[x86]\nmkdir\n[x86_64]\nrmdir\n[all]\nchmod kill\n", path: "p")
        #expect(filter.rules.map(\.name) == ["rmdir", "chmod"])
        #expect(filter.rules.map(\.action) == [.errno(1), .kill])
    }

    @Test func argumentConditionsAreRead() throws {
        let filter = try SeccompProfile.parse("2\ndenylist\nmknod errno 1 [1,24576,SCMP_CMP_MASKED_EQ,61440]\n", path: "p")
        #expect(filter.rules.first?.test == .init(index: 1, mask: 61440, value: 24576))
    }

    @Test func versionOneListsNumbers() throws {
        let filter = try SeccompProfile.parse("1\nwhitelist\n0\n1\n60\n", path: "p")
        #expect(filter.defaultAction == .kill)
        #expect(filter.rules.map(\.number) == [0, 1, 60])
    }

    @Test(arguments: [
        ("2\ndenylist\nno_such_call\n", "p:3: unknown system call 'no_such_call'"),
        ("3\ndenylist\n", "p:1: unknown seccomp profile version"),
        ("2\ngreylist\n", "p:2: unknown policy"),
        ("2\ndenylist\nmkdir errno\n", "p:3: errno needs a number"),
        ("2\ndenylist\nmkdir errno 1 [0,1,SCMP_CMP_GT]\n", "p:3: argument comparison SCMP_CMP_GT"),
    ])
    func badProfilesNameTheLine(text: String, message: String) {
        #expect {
            try SeccompProfile.parse(text, path: "p")
        } throws: { error in
            (error as? SwrunError).map { $0.code == .invalidConfig && $0.message.hasPrefix(message) } ?? false
        }
    }
}
