/// A seccomp filter for x86_64: rules that match a system call by number (and optionally
/// one argument under a mask), each with an action, and a default for the rest.
/// Compiled to classic BPF by hand: the program is short enough to read in --explain,
/// and it needs no library at run time.
public struct SeccompFilter: Sendable, Equatable {
    /// A test on one argument: (args[index] & mask) == value, on its low 32 bits.
    public struct ArgumentTest: Sendable, Equatable {
        public var index: Int
        public var mask: UInt32
        public var value: UInt32

        public init(index: Int, mask: UInt32, value: UInt32) {
            self.index = index
            self.mask = mask
            self.value = value
        }
    }

    /// A comparison of one whole 64-bit argument, as OCI's seccomp rules give them:
    /// args[index] OP value, or (args[index] & value) == valueTwo for maskedEqual.
    public struct ArgumentCondition: Sendable, Equatable {
        public enum Operation: String, Sendable, Equatable {
            case notEqual, lessThan, lessOrEqual, equal, greaterOrEqual, greaterThan, maskedEqual
        }
        public var index: Int
        public var operation: Operation
        public var value: UInt64
        public var valueTwo: UInt64

        public init(index: Int, operation: Operation, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.operation = operation
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    public struct Rule: Sendable, Equatable {
        /// reject_force_umount (LXC's): umount2 with MNT_FORCE fails with EACCES.
        public static let rejectForceUmount = Rule(name: "umount2", number: SyscallTable.x86_64["umount2"] ?? 166, action: .errno(13),
                                                   test: .init(index: 1, mask: 1, value: 1))

        public var name: String
        public var number: UInt32
        public var action: SeccompAction
        public var test: ArgumentTest?
        /// Conditions that must all hold (OCI's args); a call that fails one goes on to the next rules.
        public var conditions: [ArgumentCondition] = []

        public init(name: String, number: UInt32, action: SeccompAction, test: ArgumentTest? = nil, conditions: [ArgumentCondition] = []) {
            self.name = name
            self.number = number
            self.action = action
            self.test = test
            self.conditions = conditions
        }
    }

    /// The x86_64 number of a system call by name; nil for a call this table lacks.
    public static func number(ofCall name: String) -> UInt32? { SyscallTable.x86_64[name] }

    public var defaultAction: SeccompAction
    public var rules: [Rule]
    /// What a call of another architecture (i386 through int 0x80, x32) gets: its numbers
    /// differ, so a list of x86_64 numbers cannot judge it.
    public var foreignArchitectureAction: SeccompAction = .errno(38)  // ENOSYS
    /// The same rules with i386 numbers, for a 32-bit container (lxc.arch = i686), whose
    /// programs make their calls that way; nil: i386 calls get foreignArchitectureAction.
    public private(set) var i386Rules: [Rule]?

    public init(defaultAction: SeccompAction, rules: [Rule]) {
        self.defaultAction = defaultAction
        self.rules = rules
    }

    /// The highest call number the filter can judge: the newest in swrun's table, or one a
    /// (version 1) profile names by number.
    var newestKnownCall: UInt32 { max(SyscallTable.newest, rules.map(\.number).max() ?? 0) }

    static let noSuchCall: UInt16 = 38  // ENOSYS
    static let auditArchX86_64: UInt32 = 0xC000_003E
    static let auditArchI386: UInt32 = 0x4000_0003
    static let x32SyscallBit: UInt32 = 0x4000_0000
    // struct seccomp_data: nr at 0, arch at 4, instruction pointer at 8, args[6] from 16.
    static let numberOffset: UInt32 = 0
    static let archOffset: UInt32 = 4
    static func argumentOffset(_ index: Int) -> UInt32 { 16 + 8 * UInt32(index) }

    /// The filter with its rules for i386 calls as well (each rule's call by name in the i386
    /// table; one it lacks, such as kexec_file_load, cannot be made there). nil when a rule
    /// names no call (a numbered version 1 rule): then i386 calls stay foreign.
    public func judgingI386Calls() -> SeccompFilter? {
        var i386: [Rule] = []
        for rule in rules {
            guard SyscallTable.x86_64[rule.name] == rule.number else { return nil }
            guard let number = SyscallTable.i386[rule.name] else { continue }
            var translated = rule
            translated.number = number
            i386.append(translated)
        }
        var filter = self
        filter.i386Rules = i386
        return filter
    }

    public var program: [BPFInstruction] {
        var program: [BPFInstruction] = [.load(Self.archOffset)]
        if let i386Rules {
            // The i386 block first, jumped over for any other architecture.
            let block = [BPFInstruction.load(Self.numberOffset)] + Self.judge(i386Rules, newest: max(SyscallTable.newestI386, i386Rules.map(\.number).max() ?? 0),
                                                                                default: defaultAction)
            program += [.jumpIfEqual(Self.auditArchI386, onTrue: 1, onFalse: 0), .jumpAlways(UInt32(block.count))] + block
        }
        program += [
            .jumpIfEqual(Self.auditArchX86_64, onTrue: 1, onFalse: 0),
            .ret(foreignArchitectureAction),
            .load(Self.numberOffset),
            .jumpIfAtLeast(Self.x32SyscallBit, onTrue: 0, onFalse: 1),
            .ret(foreignArchitectureAction),
        ]
        return program + Self.judge(rules, newest: newestKnownCall, default: defaultAction)
    }

    /// The rules over a call number in A, then the default.
    private static func judge(_ rules: [Rule], newest: UInt32, default defaultAction: SeccompAction) -> [BPFInstruction] {
        var program: [BPFInstruction] = []
        if defaultAction != .allow {
            // A call newer than swrun's table cannot be in an allowlist, and a new libc tries
            // new calls first and falls back on ENOSYS: killing it, or failing it otherwise,
            // would break programs on a newer kernel (as runc does).
            program += [.jumpIfAtLeast(newest + 1, onTrue: 0, onFalse: 1), .ret(.errno(Self.noSuchCall))]
        }
        for rule in rules {
            if !rule.conditions.isEmpty {
                let block = conditionBlock(rule.conditions)
                // [number test][block: falls through when all hold, else jumps past the return][ret][reload]
                program += [.jumpIfEqual(rule.number, onFalse: UInt8(block.count + 2))] + block + [.ret(rule.action), .load(Self.numberOffset)]
            } else if let test = rule.test, rule.action == .allow {
                // An allow must not be won with high bits set: the upper word must be 0 too.
                program += [
                    .jumpIfEqual(rule.number, onFalse: 7),
                    .load(Self.argumentOffset(test.index)),
                    .and(test.mask),
                    .jumpIfEqual(test.value, onFalse: 3),
                    .load(Self.argumentOffset(test.index) + 4),
                    .jumpIfEqual(0, onFalse: 1),
                    .ret(rule.action),
                    .load(Self.numberOffset),
                ]
            } else if let test = rule.test {
                // A denial tests the low word only: it matches more, never less.
                program += [
                    .jumpIfEqual(rule.number, onFalse: 5),
                    .load(Self.argumentOffset(test.index)),
                    .and(test.mask),
                    .jumpIfEqual(test.value, onFalse: 1),
                    .ret(rule.action),
                    .load(Self.numberOffset),  // A holds the number again for the next rules
                ]
            } else {
                program += [.jumpIfEqual(rule.number, onFalse: 1), .ret(rule.action)]
            }
        }
        program.append(.ret(defaultAction))
        return program
    }

    /// Instructions that fall through when every condition holds and otherwise jump to the
    /// instruction right after them + 1 (past the rule's return). Each 64-bit argument is
    /// compared as its high word, then its low word (little-endian: low word first in memory).
    static func conditionBlock(_ conditions: [ArgumentCondition]) -> [BPFInstruction] {
        // Built backwards: each piece knows how far the failure exit is from its end.
        var block: [BPFInstruction] = []
        for condition in conditions.reversed() {
            let piece = comparison(condition, failSkip: block.count)
            block = piece + block
        }
        return block
    }

    /// One condition; on failure it skips `failSkip` instructions after itself, then one more
    /// (the return), and lands on the reload of the call number.
    private static func comparison(_ condition: ArgumentCondition, failSkip: Int) -> [BPFInstruction] {
        let low = argumentOffset(condition.index), high = low + 4
        let (valueHigh, valueLow) = (UInt32(truncatingIfNeeded: condition.value >> 32), UInt32(truncatingIfNeeded: condition.value))
        // The offset to the failure exit from the instruction after position `at` of a piece of `count` instructions.
        func fail(_ at: Int, _ count: Int) -> UInt8 { UInt8(clamping: count - at - 1 + failSkip + 1) }
        switch condition.operation {
        case .equal, .maskedEqual, .notEqual:
            let masked = condition.operation == .maskedEqual
            let (maskHigh, maskLow) = masked ? (valueHigh, valueLow) : (UInt32.max, UInt32.max)
            let target = masked ? condition.valueTwo : condition.value
            let (targetHigh, targetLow) = (UInt32(truncatingIfNeeded: target >> 32), UInt32(truncatingIfNeeded: target))
            var piece: [BPFInstruction] = [.load(high)]
            if maskHigh != .max { piece.append(.and(maskHigh)) }
            let highAt = piece.count
            piece.append(.jumpIfEqual(targetHigh, onFalse: 0))
            piece.append(.load(low))
            if maskLow != .max { piece.append(.and(maskLow)) }
            let lowAt = piece.count
            piece.append(.jumpIfEqual(targetLow, onFalse: 0))
            let count = piece.count
            if condition.operation == .notEqual {
                // Equal in both words fails; a difference in either passes (falls through to the end).
                piece[highAt].jumpIfFalse = UInt8(count - highAt - 1)
                piece[lowAt].jumpIfTrue = fail(lowAt, count)
                piece[lowAt].jumpIfFalse = 0
            } else {
                piece[highAt].jumpIfFalse = fail(highAt, count)
                piece[lowAt].jumpIfFalse = fail(lowAt, count)
            }
            return piece
        case .greaterThan, .greaterOrEqual, .lessThan, .lessOrEqual:
            // High words decide unless equal; then the low words, unsigned.
            let count = 5
            let greater = condition.operation == .greaterThan || condition.operation == .greaterOrEqual
            let inclusive = condition.operation == .greaterOrEqual || condition.operation == .lessOrEqual
            var piece: [BPFInstruction] = [.load(high)]
            // 1: high > v ? (greater: pass, less: fail) : next
            piece.append(.jumpIfAbove(valueHigh, onTrue: greater ? UInt8(count - 2) : fail(1, count), onFalse: 0))
            // 2: high == v ? next : (greater: fail, less: pass)
            piece.append(.jumpIfEqual(valueHigh, onTrue: 0, onFalse: greater ? fail(2, count) : UInt8(count - 3)))
            piece.append(.load(low))
            // 4: compare the low words.
            if greater {
                piece.append(inclusive ? .jumpIfAtLeast(valueLow, onTrue: 0, onFalse: fail(4, count))
                                       : .jumpIfAbove(valueLow, onTrue: 0, onFalse: fail(4, count)))
            } else {
                piece.append(inclusive ? .jumpIfAbove(valueLow, onTrue: fail(4, count), onFalse: 0)
                                       : .jumpIfAtLeast(valueLow, onTrue: fail(4, count), onFalse: 0))
            }
            return piece
        }
    }

    /// The program as the bytes of a struct sock_filter array.
    public var bytes: [UInt8] { program.flatMap(\.bytes) }
}
