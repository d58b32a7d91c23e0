import CLinux
import Testing
@testable import SwrunCLI

/// The constructor in CLinux/early_seal.c re-execs, before Swift starts, the commands whose
/// spec says they enter containers: its list must be the specs' own.
@Suite struct SealedCommandsTests {
    @Test(arguments: SwrunCLI.commands.map(\.name))
    func earlyListMatchesTheSpecs(name: String) throws {
        let command = try #require(SwrunCLI.command(named: name))
        #expect((swrun_command_enters_containers(name, 0) != 0) == command.spec.entersContainers,
                "early_seal.c and the spec of `swrun \(name)` disagree on whether it enters containers")
    }

    @Test func ociCommandsThatRunCodeInContainers() {
        for command in ["create", "run", "exec"] { #expect(swrun_command_enters_containers(command, 1) != 0) }
        for command in ["start", "state", "kill", "delete", "ps", "list", "spec", "features"] {
            #expect(swrun_command_enters_containers(command, 1) == 0, "\(command)")
        }
    }
}
