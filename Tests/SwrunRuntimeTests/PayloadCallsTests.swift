import Glibc
import SwrunJSON
import Testing
@testable import SwrunRuntime

/// The exact calls of a plan's payload (the process that becomes the command), walked through
/// the recording double: no root, no fork, no exec.
@Suite struct PayloadCallsTests {
    static func bundle(_ process: [String: JSONValue]) throws -> OCISpecTests.Bundle {
        try OCISpecTests.Bundle(OCISpecTests.config { config in
            var base: [String: JSONValue] = ["terminal": false, "args": ["/bin/true"], "cwd": "/", "env": ["PATH=/bin"], "user": ["uid": 0, "gid": 0]]
            for (key, value) in process { base[key] = value }
            config["process"] = .object(base)
        })
    }

    static let aUser: [String: JSONValue] = [
        "user": ["uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 0o27],
        "rlimits": [["type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048]],
        "noNewPrivileges": true, "cwd": "/tmp",
        "capabilities": ["bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]],
    ]

    @Test func aUsersProcessIsTheseCallsFromLimitsToExec() throws {
        let log = ContainerCallsTests.walkPayload(try Self.bundle(Self.aUser).plan(), with: RecordingCalls())
        let start = try #require(log.firstIndex(of: "close_range(3, ~0, CLOEXEC)"), "\(log)")
        #expect(Array(log[start...]) == [
            "close_range(3, ~0, CLOEXEC)",
            "setrlimit(\(RLIMIT_NOFILE.rawValue), 1024, 2048)",
            "setgroups([5, 6])",
            "prctl(PR_SET_KEEPCAPS, 1, 0)",  // the permitted set survives the switch from root
            "setresgid(100)",
            "setresuid(1000)",
            "umask(027)",
            "capset(e=5 p=5 i=)",
            "prctl(PR_CAP_AMBIENT, 4, 0)",  // PR_CAP_AMBIENT_CLEAR_ALL
            "prctl(PR_SET_NO_NEW_PRIVS, 1, 0)",
            "chdir(/tmp)",
            "execve(/bin/true, [/bin/true], [PATH=/bin])",
        ], "\(log)")
    }

    @Test func theBoundingSetLosesEveryCapabilityButTheKeptOnes() throws {
        let log = ContainerCallsTests.walkPayload(try Self.bundle(Self.aUser).plan(), with: RecordingCalls())
        let drops = log.filter { $0.hasPrefix("prctl(PR_CAPBSET_DROP") }
        #expect(log.first == "reset signals, umask 022", "the inherited state goes first: \(log)")
        #expect(drops.count == 40 && !drops.contains("prctl(PR_CAPBSET_DROP, 5, 0)"), "0 to 40 but CAP_KILL: \(drops)")
        #expect(log.firstIndex(of: "prctl(PR_CAPBSET_DROP, 40, 0)").map { $0 < log.firstIndex(of: "setresuid(1000)") ?? 0 } == true,
                "dropped while still root")
    }

    @Test func rootsProcessKeepsItsCapabilitiesAndSetsNoGroups() throws {
        let log = ContainerCallsTests.walkPayload(try Self.bundle([:]).plan(), with: RecordingCalls())
        #expect(!log.contains("prctl(PR_SET_KEEPCAPS, 1, 0)") && !log.contains { $0.hasPrefix("setrlimit") }, "\(log)")
        #expect(log.last == "execve(/bin/true, [/bin/true], [PATH=/bin])")
    }

    @Test func aProgramNamedWithoutASlashIsSearchedOnPATH() throws {
        let calls = RecordingCalls()
        calls.unexecutable = ["/usr/local/bin/true"]
        let plan = try Self.bundle(["args": ["true"], "env": ["PATH=/usr/local/bin:/bin"]]).plan()
        let log = ContainerCallsTests.walkPayload(plan, with: calls)
        #expect(Array(log.suffix(2)) == ["execve(/usr/local/bin/true, [true], [PATH=/usr/local/bin:/bin])",
                                         "execve(/bin/true, [true], [PATH=/usr/local/bin:/bin])"], "the first that is there runs: \(log)")
    }

    @Test func aMissingProgramIsENOENTFromTheExecStep() throws {
        let calls = RecordingCalls()
        calls.unexecutable = ["/bin/true"]
        let plan = try Self.bundle([:]).plan()
        let executor = PayloadExecutor(calls: calls, consoleTerminal: -1, lastCapability: 40)
        let exec = try #require(plan.payload.last)
        #expect(executor.perform(exec.action) == ENOENT)
    }
}
