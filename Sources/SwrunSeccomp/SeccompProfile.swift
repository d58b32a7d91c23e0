import SwrunSystem

/// An LXC seccomp profile (lxc.seccomp.profile), read into a SeccompFilter for x86_64.
///
///     2                          version: 1 (numbers, allowlist) or 2 (names)
///     denylist [ACTION]          or allowlist [ACTION]; ACTION: errno N, kill, trap, allow
///     reject_force_umount        optional: umount2(MNT_FORCE) fails with EACCES
///     [all]                      sections: [all], [x86_64]/[amd64] apply; other
///     kexec_load errno 1         architectures' sections are skipped (their calls get ENOSYS)
///     mknod errno 1 [1,24576,SCMP_CMP_MASKED_EQ,61440]
///
/// A denylist allows what it does not name; a named call without an action gets the
/// policy line's action (kill by default). An allowlist refuses what it does not name
/// with the policy line's action (kill by default).
public enum SeccompProfile {
    public static func load(_ path: String) throws(SwrunError) -> SeccompFilter {
        try parse(FileSystem.readText(path), path: path)
    }

    public static func parse(_ text: String, path: String) throws(SwrunError) -> SeccompFilter {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { (number: $0.offset + 1, text: strip($0.element)) }
        lines.removeAll { $0.text.isEmpty }
        func error(_ line: Int, _ message: String, hint: String) -> SwrunError {
            SwrunError(.invalidConfig, "\(path):\(line): \(message)", hint: hint)
        }
        guard let version = lines.first else {
            throw error(1, "empty seccomp profile", hint: "the first line is the format version: 1 or 2")
        }
        guard version.text == "1" || version.text == "2" else {
            throw error(version.number, "unknown seccomp profile version '\(version.text)'", hint: "the first line is 1 or 2")
        }
        guard lines.count > 1 else { throw error(version.number, "no policy line", hint: "the second line is denylist or allowlist") }
        let policy = lines[1]
        let policyWords = policy.text.split(separator: " ").map(String.init)
        let allowlist: Bool
        switch policyWords[0] {
        case "allowlist", "whitelist": allowlist = true
        case "denylist", "blacklist": allowlist = false
        default: throw error(policy.number, "unknown policy '\(policyWords[0])'", hint: "use denylist or allowlist")
        }
        let policyAction = try action(Array(policyWords.dropFirst()), line: policy.number, path: path) ?? .kill

        var filter = SeccompFilter(defaultAction: allowlist ? policyAction : .allow, rules: [])
        var applies = true  // outside any [arch] section, rules apply
        for line in lines.dropFirst(2) {
            if line.text == "reject_force_umount" {
                filter.rules.append(SeccompFilter.Rule.rejectForceUmount)
                continue
            }
            if line.text.hasPrefix("[") && line.text.hasSuffix("]") && !line.text.contains(",") {
                let arch = line.text.dropFirst().dropLast().lowercased()
                applies = ["all", "x86_64", "amd64"].contains(arch)
                continue
            }
            guard applies else { continue }
            let words = line.text.split(separator: " ").map(String.init)
            let number: UInt32
            if version.text == "1" {
                guard let value = UInt32(words[0]) else {
                    throw error(line.number, "'\(words[0])' is not a system call number", hint: "version 1 profiles list numbers; use version 2 for names")
                }
                number = value
            } else {
                guard let value = SyscallTable.x86_64[words[0]] else {
                    throw error(line.number, "unknown system call '\(words[0])'", hint: "names are those of x86_64, as in asm/unistd_64.h (mkdir, mkdirat, ...)")
                }
                number = value
            }
            let conditions = words.dropFirst().filter { $0.hasPrefix("[") }
            let actionWords = words.dropFirst().filter { !$0.hasPrefix("[") }
            let ruleAction = try action(Array(actionWords), line: line.number, path: path) ?? (allowlist ? .allow : policyAction)
            guard conditions.count <= 1 else {
                throw error(line.number, "more than one argument condition", hint: "swrun's filters test one argument a rule")
            }
            let test = try conditions.first.map { text throws(SwrunError) in try condition(text, line: line.number, path: path) }
            filter.rules.append(.init(name: words[0], number: number, action: ruleAction, test: test))
        }
        return filter
    }

    /// "errno 1", "kill", "trap", "allow" (or nothing: nil).
    static func action(_ words: [String], line: Int, path: String) throws(SwrunError) -> SeccompAction? {
        guard let first = words.first else { return nil }
        switch first {
        case "kill": return .kill
        case "trap": return .trap
        case "allow": return .allow
        case "errno":
            if words.count > 1, let code = UInt16(words[1]) { return .errno(code) }
            throw SwrunError(.invalidConfig, "\(path):\(line): errno needs a number", hint: "for example: errno 1")
        default:
            throw SwrunError(.invalidConfig, "\(path):\(line): unknown action '\(first)'", hint: "use errno N, kill, trap or allow")
        }
    }

    /// "[index,value,SCMP_CMP_EQ]" or "[index,value,SCMP_CMP_MASKED_EQ,mask]" (LXC's order: value, then mask).
    static func condition(_ text: String, line: Int, path: String) throws(SwrunError) -> SeccompFilter.ArgumentTest {
        let parts = text.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
        func number(_ text: String) -> UInt32? {
            text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
        }
        guard parts.count >= 3, let index = Int(parts[0]), (0...5).contains(index), let value = number(parts[1]) else {
            throw SwrunError(.invalidConfig, "\(path):\(line): bad argument condition \(text)", hint: "write [INDEX,VALUE,SCMP_CMP_EQ] or [INDEX,VALUE,SCMP_CMP_MASKED_EQ,MASK]")
        }
        switch parts[2] {
        case "SCMP_CMP_EQ":
            return .init(index: index, mask: 0xFFFF_FFFF, value: value)
        case "SCMP_CMP_MASKED_EQ" where parts.count == 4:
            guard let mask = number(parts[3]) else { break }
            return .init(index: index, mask: mask, value: value)
        default:
            break
        }
        throw SwrunError(.invalidConfig, "\(path):\(line): argument comparison \(parts[2]) is not supported",
                         hint: "swrun's filters test SCMP_CMP_EQ and SCMP_CMP_MASKED_EQ")
    }

    /// The line without a trailing "# comment" and surrounding blanks.
    private static func strip(_ line: Substring) -> String {
        let text = line.firstIndex(of: "#").map { line[..<$0] } ?? line
        return String(text).trimmingCharacters(in: " \t\r")
    }
}
