import CLinux
import Glibc
import SwrunSystem

/// Which device nodes a container may open or make, enforced by the kernel: the v1 devices
/// controller's lists, or on cgroup v2 a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
/// container's cgroup. Every container starts from "deny all" and the standard nodes (null,
/// zero, full, random, urandom, tty, console, ptmx, its ptys, tun, fuse), then takes
/// lxc.cgroup.devices.allow/deny (or lxc.cgroup2.devices.*) in order, as LXC reads them.
/// A node that an image carries, or one made some other way, opens nothing else.
public struct DevicePolicy: Sendable, Equatable {
    /// One line: `a`, or `c|b|a MAJOR:MINOR ACCESS` with `*` for any number and ACCESS of r, w, m.
    public struct Rule: Sendable, Equatable, CustomStringConvertible {
        public var allow: Bool
        public var type: Character  // "a" any, "c" character, "b" block
        public var major: UInt32?   // nil: any
        public var minor: UInt32?
        public var access: UInt8    // Access bits

        public var description: String {
            if type == "a" && major == nil && minor == nil && access == Access.all { return "a" }
            let number = { (value: UInt32?) in value.map(String.init) ?? "*" }
            return "\(type) \(number(major)):\(number(minor)) " + Access.letters(access)
        }
    }

    /// The kernel's access bits (BPF_DEVCG_ACC_*).
    public enum Access {
        public static let mknod: UInt8 = 1, read: UInt8 = 2, write: UInt8 = 4, all: UInt8 = 7
        static func letters(_ bits: UInt8) -> String {
            (bits & read != 0 ? "r" : "") + (bits & write != 0 ? "w" : "") + (bits & mknod != 0 ? "m" : "")
        }
    }

    /// Whether what no rule matches is allowed (only after an "allow a").
    public private(set) var defaultAllow = false
    public private(set) var rules: [Rule] = DevicePolicy.standard

    public init() {}

    /// What every container may use: the nodes autodev makes, its console and ptys, tun and
    /// fuse (LXC's common.conf), and mknod of any node (opening it is what is checked).
    public static let standard: [Rule] = [
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm", "c 10:229 rwm",
    ].compactMap { try? parse($0, allow: true) }

    /// Allows the standard nodes again after the rules given: OCI runtimes add them last,
    /// whatever linux.resources.devices said.
    public mutating func allowStandardNodes() {
        rules += Self.standard
    }

    /// Adds an lxc.cgroup.devices.allow (or deny) value. "a" alone resets: allow a opens
    /// everything, deny a closes everything, whatever came before.
    public mutating func add(_ value: String, allow: Bool) throws(SwrunError) {
        let rule: Rule
        do { rule = try Self.parse(value, allow: allow) } catch {
            throw SwrunError(.invalidConfig, "'\(value)' is not a device rule", hint: "write TYPE MAJOR:MINOR ACCESS, e.g. c 10:200 rwm (* for any number), or a for all devices")
        }
        if rule.type == "a" && rule.major == nil && rule.minor == nil && rule.access == Access.all {
            defaultAllow = allow
            rules = []
        } else {
            rules.append(rule)
        }
    }

    struct BadRule: Error {}

    static func parse(_ value: String, allow: Bool) throws(BadRule) -> Rule {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let typeWord = words.first, typeWord.count == 1, let type = typeWord.first, "acb".contains(type) else { throw BadRule() }
        if words.count == 1 { return Rule(allow: allow, type: type, major: nil, minor: nil, access: Access.all) }
        guard words.count <= 3 else { throw BadRule() }
        let numbers = words[1].split(separator: ":", omittingEmptySubsequences: false)
        guard numbers.count == 2 else { throw BadRule() }
        func number(_ text: Substring) throws(BadRule) -> UInt32? {
            if text == "*" { return nil }
            guard let value = UInt32(text) else { throw BadRule() }
            return value
        }
        var access: UInt8 = words.count == 3 ? 0 : Access.all
        for letter in words.count == 3 ? words[2] : "" {
            switch letter {
            case "r": access |= Access.read
            case "w": access |= Access.write
            case "m": access |= Access.mknod
            default: throw BadRule()
            }
        }
        guard access != 0 else { throw BadRule() }
        return Rule(allow: allow, type: type, major: try number(numbers[0]), minor: try number(numbers[1]), access: access)
    }

    // MARK: cgroup v1

    /// The writes that give a v1 devices cgroup this policy: the whole list is reset first.
    public var v1Writes: [(file: String, value: String)] {
        [(defaultAllow ? "devices.allow" : "devices.deny", "a")] + rules.map { ($0.allow ? "devices.allow" : "devices.deny", $0.description) }
    }

    // MARK: cgroup v2

    /// The policy as a BPF_PROG_TYPE_CGROUP_DEVICE program: the rules from the last to the
    /// first (the last that matches decides, as in the v1 lists), then the default.
    public var program: [UInt8] {
        var code: [[UInt8]] = [
            Self.load(2, offset: 0), Self.alu32(0x54, 2, 0xFFFF),  // r2 = type
            Self.load(3, offset: 0), Self.alu32(0x74, 3, 16),      // r3 = access
            Self.load(4, offset: 4),                               // r4 = major
            Self.load(5, offset: 8),                               // r5 = minor
        ]
        for rule in rules.reversed() {
            var checks: [(opcode: UInt8, register: UInt8, value: Int32)] = []
            if rule.type != "a" { checks.append((0x55, 2, rule.type == "c" ? 2 : 1)) }  // if type != T, next
            if let major = rule.major { checks.append((0x55, 4, Int32(bitPattern: major))) }
            if let minor = rule.minor { checks.append((0x55, 5, Int32(bitPattern: minor))) }
            var access: [[UInt8]] = []
            if rule.access != Access.all {
                // allow: every requested bit must be in the rule; deny: any of them.
                let mask = rule.allow ? Int32(~rule.access & Access.all) : Int32(rule.access)
                access = [Self.move32(6, from: 3), Self.alu32(0x54, 6, mask), Self.jump(rule.allow ? 0x55 : 0x15, 6, 0, skip: 2)]
            }
            let blockLength = checks.count + access.count + 2
            for (index, check) in checks.enumerated() {
                code.append(Self.jump(check.opcode, check.register, check.value, skip: Int16(blockLength - index - 1)))
            }
            code += access + [Self.moveImmediate(0, rule.allow ? 1 : 0), Self.exit]
        }
        code += [Self.moveImmediate(0, defaultAllow ? 1 : 0), Self.exit]
        return code.flatMap { $0 }
    }

    /// struct bpf_insn: opcode, dst (low nibble) and src (high nibble), offset, immediate.
    private static func instruction(_ opcode: UInt8, dst: UInt8, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) -> [UInt8] {
        var bytes = [opcode, dst | src << 4]
        withUnsafeBytes(of: offset.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: immediate.littleEndian) { bytes += $0 }
        return bytes
    }
    private static func load(_ register: UInt8, offset: Int16) -> [UInt8] { instruction(0x61, dst: register, src: 1, offset: offset) }  // LDX W
    private static func alu32(_ opcode: UInt8, _ register: UInt8, _ value: Int32) -> [UInt8] { instruction(opcode, dst: register, immediate: value) }
    private static func move32(_ register: UInt8, from source: UInt8) -> [UInt8] { instruction(0xBC, dst: register, src: source) }  // ALU MOV X
    private static func jump(_ opcode: UInt8, _ register: UInt8, _ value: Int32, skip: Int16) -> [UInt8] {
        instruction(opcode, dst: register, offset: skip, immediate: value)  // JNE 0x55 / JEQ 0x15, K
    }
    private static func moveImmediate(_ register: UInt8, _ value: Int32) -> [UInt8] { instruction(0xB7, dst: register, immediate: value) }  // ALU64 MOV K
    private static let exit = instruction(0x95, dst: 0)

    /// Loads the program and attaches it to the v2 cgroup `directory` (other programs below
    /// it, a container's systemd's, run as well: BPF_F_ALLOW_MULTI). It stays attached for as
    /// long as the cgroup lives.
    public func attach(to directory: String) throws(SwrunError) {
        let cgroup = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if cgroup < 0 { throw SwrunError.system("cannot open the cgroup \(directory)", Errno.current) }
        defer { close(cgroup) }
        let code = program
        // Without a log first: a verbose verifier log of a long program fills any buffer (ENOSPC).
        var prog = code.withUnsafeBytes { swrun_bpf_load_device_program($0.baseAddress, UInt32(code.count / 8), nil, 0) }
        if prog < 0 {
            let error = Errno.current
            var log = [CChar](repeating: 0, count: 65536)
            prog = code.withUnsafeBytes { instructions in
                log.withUnsafeMutableBufferPointer { buffer in
                    swrun_bpf_load_device_program(instructions.baseAddress, UInt32(code.count / 8), buffer.baseAddress, UInt32(buffer.count))
                }
            }
            if prog < 0 {
                let verifier = String(cString: log).split(separator: "\n").suffix(3).joined(separator: " | ")
                throw SwrunError.system("cannot load the device policy of the container's cgroup \(directory) (BPF_PROG_TYPE_CGROUP_DEVICE)", error,
                                        hint: verifier.isEmpty ? "the kernel needs CONFIG_CGROUP_BPF" : "the verifier said: \(verifier)")
            }
        }
        defer { close(prog) }
        if swrun_bpf_attach_device_program(prog, cgroup) != 0 {
            throw SwrunError.system("cannot attach the device policy to the cgroup \(directory)", Errno.current)
        }
    }
}
