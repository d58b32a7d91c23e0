@testable import SwrunSeccomp

/// Runs a filter's program on one system call, as the kernel would: the few instructions
/// SeccompFilter emits, on a struct seccomp_data made of the number, x86_64 and arguments.
enum BPFInterpreter {
    static let x86_64: UInt32 = 0xC000_003E, i386: UInt32 = 0x4000_0003

    /// The filter's return value (SECCOMP_RET_*) for call `number`.
    static func run(_ program: [BPFInstruction], number: UInt32, arch: UInt32 = x86_64, arguments: [UInt64] = []) -> UInt32? {
        func word(at offset: UInt32) -> UInt32 {
            switch offset {
            case 0: return number
            case 4: return arch
            case 16...: 
                let index = Int(offset - 16) / 8
                let value = index < arguments.count ? arguments[index] : 0
                return offset % 8 == 0 ? UInt32(truncatingIfNeeded: value) : UInt32(truncatingIfNeeded: value >> 32)
            default: return 0
            }
        }
        var accumulator: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let instruction = program[pc]
            pc += 1
            switch instruction.code {
            case 0x20: accumulator = word(at: instruction.k)
            case 0x54: accumulator &= instruction.k
            case 0x15: pc += Int(accumulator == instruction.k ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case 0x35: pc += Int(accumulator >= instruction.k ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case 0x25: pc += Int(accumulator > instruction.k ? instruction.jumpIfTrue : instruction.jumpIfFalse)
            case 0x05: pc += Int(instruction.k)
            case 0x06: return instruction.k
            default: return nil
            }
        }
        return nil  // ran off the end: the kernel refuses such a program
    }
}
