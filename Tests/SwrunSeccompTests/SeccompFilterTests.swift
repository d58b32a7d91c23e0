import Testing
@testable import SwrunSeccomp

@Suite struct SeccompFilterTests {
    @Test func oneRuleCompilesToTheGoldenProgram() {
        let filter = SeccompFilter(defaultAction: .allow, rules: [.init(name: "kexec_load", number: 246, action: .errno(1))])
        #expect(filter.program == [
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 4),            // A = arch
            .init(code: 0x15, jumpIfTrue: 1, jumpIfFalse: 0, k: 0xC000_003E),  // x86_64? skip the next
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x0005_0026),  // else ENOSYS
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 0),            // A = nr
            .init(code: 0x35, jumpIfTrue: 0, jumpIfFalse: 1, k: 0x4000_0000),  // x32 numbers
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x0005_0026),  //   get ENOSYS
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 1, k: 246),          // kexec_load?
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x0005_0001),  //   EPERM
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x7FFF_0000),  // allow the rest
        ])
        #expect(filter.bytes.count == 9 * 8)
        #expect(Array(filter.bytes[8..<16]) == [0x15, 0x00, 0x01, 0x00, 0x3E, 0x00, 0x00, 0xC0])
    }

    @Test func argumentTestReloadsTheNumberAfterwards() {
        let rule = SeccompFilter.Rule(name: "mknod", number: 133, action: .errno(1), test: .init(index: 1, mask: 0o170000, value: 0o060000))
        let body = Array(SeccompFilter(defaultAction: .allow, rules: [rule]).program.dropFirst(6).dropLast())
        #expect(body == [
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 5, k: 133),     // not mknod: past the block
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 24),      // A = low word of args[1]
            .init(code: 0x54, jumpIfTrue: 0, jumpIfFalse: 0, k: 0o170000),
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 1, k: 0o060000),
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x0005_0001),
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 0),       // A = nr again
        ])
    }

    @Test func allowRuleWithAnArgumentAlsoChecksTheHighWord() {
        let rule = SeccompFilter.Rule(name: "socket", number: 41, action: .allow, test: .init(index: 0, mask: 0xFFFF_FFFF, value: 1))
        let body = Array(SeccompFilter(defaultAction: .kill, rules: [rule]).program.dropFirst(8).dropLast())
        #expect(body == [
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 7, k: 41),
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 16),      // low word of args[0]
            .init(code: 0x54, jumpIfTrue: 0, jumpIfFalse: 0, k: 0xFFFF_FFFF),
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 3, k: 1),
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 20),      // high word
            .init(code: 0x15, jumpIfTrue: 0, jumpIfFalse: 1, k: 0),
            .init(code: 0x06, jumpIfTrue: 0, jumpIfFalse: 0, k: 0x7FFF_0000),
            .init(code: 0x20, jumpIfTrue: 0, jumpIfFalse: 0, k: 0),
        ])
    }

    static let enosys: UInt32 = 0x0005_0026, kill: UInt32 = 0x8000_0000, allow: UInt32 = 0x7FFF_0000

    /// A call newer than swrun's table fails with ENOSYS in an allowlist, so that a libc that
    /// tries it first falls back, as runc does; a call swrun knows but the list lacks still
    /// gets the list's action.
    @Test func allowlistAnswersCallsNewerThanTheTableWithENOSYS() throws {
        let filter = try SeccompProfile.parse("2\nallowlist kill\nread\nwrite\nexit_group\n", path: "p")
        for number in [SyscallTable.newest + 1, SyscallTable.newest + 30, 1000] {
            #expect(BPFInterpreter.run(filter.program, number: number) == Self.enosys, "call \(number)")
        }
        #expect(BPFInterpreter.run(filter.program, number: 0) == Self.allow)
        #expect(BPFInterpreter.run(filter.program, number: SyscallTable.x86_64["listmount"] ?? 0) == Self.kill)
        #expect(BPFInterpreter.run(filter.program, number: SyscallTable.newest) == Self.kill)
    }

    /// A 32-bit container's calls come as i386 calls: with its filter judging them, they meet
    /// the same rules by their own numbers (init_module is 128 there, 175 on x86_64);
    /// otherwise, as for any container, they fail with ENOSYS.
    @Test func aFilterJudgingI386CallsAppliesItsRulesByTheirI386Numbers() throws {
        let filter = DefaultFilter.filter()
        let compat = try #require(filter.judgingI386Calls())
        let eperm: UInt32 = 0x0005_0001
        #expect(BPFInterpreter.run(compat.program, number: 128, arch: BPFInterpreter.i386) == eperm, "init_module, i386")
        #expect(BPFInterpreter.run(compat.program, number: 175, arch: BPFInterpreter.i386) == Self.allow, "175 is another call on i386")
        #expect(BPFInterpreter.run(compat.program, number: 175) == eperm, "init_module, x86_64")
        #expect(BPFInterpreter.run(compat.program, number: 120, arch: BPFInterpreter.i386, arguments: [0x1000_0000]) == eperm,
                "clone with CLONE_NEWUSER, i386")
        #expect(BPFInterpreter.run(compat.program, number: 3, arch: BPFInterpreter.i386) == Self.allow, "read, i386")
        #expect(BPFInterpreter.run(filter.program, number: 3, arch: BPFInterpreter.i386) == Self.enosys, "without it: ENOSYS")
        let allowlist = try SeccompProfile.parse("2\nallowlist kill\nread\nwrite\n", path: "p").judgingI386Calls()
        #expect(allowlist.map { BPFInterpreter.run($0.program, number: 4, arch: BPFInterpreter.i386) } == Self.allow, "write is 4 on i386")
        #expect(allowlist.map { BPFInterpreter.run($0.program, number: SyscallTable.newestI386 + 1, arch: BPFInterpreter.i386) } == Self.enosys)
        #expect(try SeccompProfile.parse("1\nallowlist\n0\n", path: "p").judgingI386Calls() == nil, "a numbered rule has no i386 twin")
    }

    /// A denylist allows what it does not name, new calls included; a version 1 profile may
    /// allow a number past the table, and only what lies beyond that is unknown.
    @Test func denylistsAndNumberedRulesKeepTheirMeaningPastTheTable() throws {
        let denylist = try SeccompProfile.parse("2\ndenylist errno 1\nkexec_load\n", path: "p")
        #expect(BPFInterpreter.run(denylist.program, number: SyscallTable.newest + 1) == Self.allow)
        let numbered = try SeccompProfile.parse("1\nallowlist\n0\n\(SyscallTable.newest + 5)\n", path: "p")
        #expect(BPFInterpreter.run(numbered.program, number: SyscallTable.newest + 5) == Self.allow)
        #expect(BPFInterpreter.run(numbered.program, number: SyscallTable.newest + 4) == Self.kill)
        #expect(BPFInterpreter.run(numbered.program, number: SyscallTable.newest + 6) == Self.enosys)
    }

    /// The table reaches the calls of current kernels (it once stopped at 450).
    @Test func syscallTableNamesTheCallsOfCurrentKernels() {
        for (name, number) in [("cachestat", 451), ("mseal", 462), ("open_tree_attr", 467), ("file_setattr", 469), ("listns", 470)] {
            #expect(SyscallTable.x86_64[name] == UInt32(number), "\(name)")
        }
    }

    /// Lookups are binary searches: every name of both tables must be found, at its number,
    /// and names between or around them must not.
    @Test func everyNameOfTheSortedTablesIsFound() {
        let known: [(name: String, x86_64: UInt32?, i386: UInt32?)] = [
            ("read", 0, 3), ("write", 1, 4), ("readv", 19, 145), ("rseq_slice_yield", 471, 471),
            ("_llseek", nil, 140), ("accept", 43, nil), ("zzz", nil, nil),
        ]
        for call in known {
            #expect(SyscallTable.x86_64[call.name] == call.x86_64, "\(call.name)")
            #expect(SyscallTable.i386[call.name] == call.i386, "\(call.name)")
        }
        for missing in ["", "a", "rea", "reada", "write_", "~"] {
            #expect(SyscallTable.x86_64[missing] == nil && SyscallTable.i386[missing] == nil, "\(missing)")
        }
    }

    @Test func defaultFilterDeniesWhatCommonSeccompDeniesAndMore() {
        let names = Set(DefaultFilter.filter().rules.map(\.name))
        for name in ["kexec_load", "open_by_handle_at", "init_module", "finit_module", "delete_module",
                     "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "mknod", "mknodat", "umount2", "syslog"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(names.contains("unshare") && names.contains("clone3"))
        let nesting = Set(DefaultFilter.filter(allowNesting: true).rules.map(\.name))
        #expect(!nesting.contains("unshare") && !nesting.contains("clone") && !nesting.contains("clone3"))
        #expect(DefaultFilter.filter().program.count < 255, "fits the 8-bit jumps and stays readable")
    }
}

/// OCI's argument conditions: whole 64-bit comparisons, all of which must hold.
@Suite struct SeccompConditionTests {
    typealias Condition = SeccompFilter.ArgumentCondition

    /// What the kernel should decide, computed directly.
    static func holds(_ condition: Condition, _ argument: UInt64) -> Bool {
        switch condition.operation {
        case .equal: argument == condition.value
        case .notEqual: argument != condition.value
        case .lessThan: argument < condition.value
        case .lessOrEqual: argument <= condition.value
        case .greaterThan: argument > condition.value
        case .greaterOrEqual: argument >= condition.value
        case .maskedEqual: argument & condition.value == condition.valueTwo
        }
    }

    static let edges: [UInt64] = [0, 1, 2, 0xFFFF_FFFF, 0x1_0000_0000, 0x1_0000_0001, 0x2_0000_0000, 0x7E02_0000, UInt64.max]

    @Test(arguments: [Condition.Operation.equal, .notEqual, .lessThan, .lessOrEqual, .greaterThan, .greaterOrEqual, .maskedEqual])
    func everyOperationAgreesWithADirectComparison(_ operation: Condition.Operation) {
        for value in Self.edges {
            let condition = Condition(index: 1, operation: operation, value: value, valueTwo: operation == .maskedEqual ? value & 0x1_0000_0001 : 0)
            let filter = SeccompFilter(defaultAction: .errno(1), rules: [.init(name: "personality", number: 135, action: .allow, conditions: [condition])])
            for argument in Self.edges {
                let result = BPFInterpreter.run(filter.program, number: 135, arguments: [0, argument])
                let expected: UInt32 = Self.holds(condition, argument) ? 0x7FFF_0000 : 0x0005_0001
                #expect(result == expected, "\(operation) \(value) on \(argument)")
            }
        }
    }

    @Test func allConditionsMustHoldAndLaterRulesStillApply() {
        let both = [Condition(index: 0, operation: .equal, value: 2), Condition(index: 2, operation: .lessThan, value: 10)]
        let filter = SeccompFilter(defaultAction: .errno(1), rules: [
            .init(name: "socket", number: 41, action: .allow, conditions: both),
            .init(name: "socket", number: 41, action: .errno(97), conditions: [Condition(index: 0, operation: .equal, value: 40)]),
            .init(name: "getpid", number: 39, action: .allow),
        ])
        #expect(BPFInterpreter.run(filter.program, number: 41, arguments: [2, 0, 5]) == 0x7FFF_0000)
        #expect(BPFInterpreter.run(filter.program, number: 41, arguments: [2, 0, 10]) == 0x0005_0001)
        #expect(BPFInterpreter.run(filter.program, number: 41, arguments: [40]) == 0x0005_0061)
        #expect(BPFInterpreter.run(filter.program, number: 39) == 0x7FFF_0000)
    }
}
