import CCap
import CLinux
import Glibc

/// Capability names and numbers, through libcap, and the kernel's highest capability.
public enum Capabilities {
    /// The highest capability this kernel knows (cap_last_cap).
    public static let lastCapability: Int32 = {
        if let text = try? FileSystem.readText("/proc/sys/kernel/cap_last_cap"),
           let value = Int32(text.trimmingCharacters(in: " \n")) { return value }
        return Int32(cap_max_bits()) - 1
    }()

    /// Every capability this kernel knows, as a bit mask.
    public static var all: UInt64 {
        lastCapability >= 63 ? ~0 : (UInt64(1) << UInt64(lastCapability + 1)) - 1
    }

    /// The calling thread's permitted set: what a child can keep (capset never adds to it).
    public static func permitted() -> UInt64 {
        var effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0
        return swrun_capget(&effective, &permitted, &inheritable) == 0 ? permitted : 0
    }

    /// "sys_admin", "CAP_SYS_ADMIN" or "21" to 21; nil for an unknown name.
    public static func number(_ name: String) -> Int32? {
        if let value = Int32(name) { return value >= 0 && value <= lastCapability ? value : nil }
        var lowered = name.lowercased()
        if !lowered.hasPrefix("cap_") { lowered = "cap_" + lowered }
        var value: cap_value_t = 0
        guard cap_from_name(lowered, &value) == 0, Int32(value) <= lastCapability else { return nil }
        return Int32(value)
    }

    /// 21 to "sys_admin" (LXC's spelling in config files).
    public static func name(_ number: Int32) -> String {
        guard let text = cap_to_name(cap_value_t(number)) else { return String(number) }
        defer { cap_free(text) }
        var name = String(cString: text)
        if name.hasPrefix("cap_") { name.removeFirst(4) }
        return name
    }
}

extension String {
    /// Drops the given characters from both ends.
    public func trimmingCharacters(in set: String) -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
