/// Classic BPF, as seccomp runs it: each instruction is 8 bytes (u16 code, u8 jt,
/// u8 jf, u32 k). Only the few forms a syscall filter needs are here.
public struct BPFInstruction: Sendable, Equatable {
    public var code: UInt16
    public var jumpIfTrue: UInt8
    public var jumpIfFalse: UInt8
    public var k: UInt32

    // Opcodes from linux/filter.h.
    static let loadWordAbsolute: UInt16 = 0x20   // BPF_LD | BPF_W | BPF_ABS
    static let jumpIfEqual: UInt16 = 0x15        // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpIfGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let andConstant: UInt16 = 0x54        // BPF_ALU | BPF_AND | BPF_K
    static let returnConstant: UInt16 = 0x06     // BPF_RET | BPF_K
    static let jumpAlwaysCode: UInt16 = 0x05     // BPF_JMP | BPF_JA
    static let jumpIfGreaterCode: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K

    /// A = the 32-bit word at `offset` of struct seccomp_data.
    static func load(_ offset: UInt32) -> BPFInstruction { .init(code: loadWordAbsolute, jumpIfTrue: 0, jumpIfFalse: 0, k: offset) }
    /// if A == k skip `onTrue` instructions, else skip `onFalse`.
    static func jumpIfEqual(_ k: UInt32, onTrue: UInt8 = 0, onFalse: UInt8) -> BPFInstruction {
        .init(code: jumpIfEqual, jumpIfTrue: onTrue, jumpIfFalse: onFalse, k: k)
    }
    static func jumpIfAtLeast(_ k: UInt32, onTrue: UInt8, onFalse: UInt8 = 0) -> BPFInstruction {
        .init(code: jumpIfGreaterOrEqual, jumpIfTrue: onTrue, jumpIfFalse: onFalse, k: k)
    }
    static func jumpIfAbove(_ k: UInt32, onTrue: UInt8, onFalse: UInt8) -> BPFInstruction {
        .init(code: jumpIfGreaterCode, jumpIfTrue: onTrue, jumpIfFalse: onFalse, k: k)
    }
    /// Skip `k` instructions (a 32-bit offset, where jt and jf hold 255 at most).
    static func jumpAlways(_ k: UInt32) -> BPFInstruction { .init(code: jumpAlwaysCode, jumpIfTrue: 0, jumpIfFalse: 0, k: k) }
    static func and(_ mask: UInt32) -> BPFInstruction { .init(code: andConstant, jumpIfTrue: 0, jumpIfFalse: 0, k: mask) }
    static func ret(_ action: SeccompAction) -> BPFInstruction { .init(code: returnConstant, jumpIfTrue: 0, jumpIfFalse: 0, k: action.returnValue) }

    /// The instruction as struct sock_filter lays it out (little-endian).
    public var bytes: [UInt8] {
        [UInt8(code & 0xFF), UInt8(code >> 8), jumpIfTrue, jumpIfFalse,
         UInt8(k & 0xFF), UInt8((k >> 8) & 0xFF), UInt8((k >> 16) & 0xFF), UInt8(k >> 24)]
    }
}

/// What the filter does with a system call.
public enum SeccompAction: Sendable, Equatable {
    case allow
    /// Fail with this errno; the process goes on.
    case errno(UInt16)
    /// Kill the whole process.
    case kill
    /// Send SIGSYS.
    case trap
    /// Kill the calling thread only (OCI's SCMP_ACT_KILL_THREAD and SCMP_ACT_KILL).
    case killThread
    /// Allow, and log it (SCMP_ACT_LOG).
    case log
    /// Hand it to a ptrace tracer, with this value (SCMP_ACT_TRACE); without one it fails with ENOSYS.
    case trace(UInt16)
    /// Hand it to a user-space listener (SCMP_ACT_NOTIFY), whose notify fd the runtime passes on.
    case notify

    /// SECCOMP_RET_* from linux/seccomp.h.
    var returnValue: UInt32 {
        switch self {
        case .allow: return 0x7FFF_0000
        case .errno(let code): return 0x0005_0000 | UInt32(code)
        case .kill: return 0x8000_0000
        case .trap: return 0x0003_0000
        case .killThread: return 0
        case .log: return 0x7FFC_0000
        case .trace(let value): return 0x7FF0_0000 | UInt32(value)
        case .notify: return 0x7FC0_0000  // SECCOMP_RET_USER_NOTIF
        }
    }
}
