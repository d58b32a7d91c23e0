/// Network link names as the kernel accepts them (dev_valid_name): 1 to 15 bytes (IFNAMSIZ
/// less the NUL), no '/', ':' or whitespace, and not "." or "..".
public enum LinkName {
    /// Nil for a valid name; else what is wrong, for an error message.
    public static func problem(_ name: String) -> String? {
        let valid = !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && !name.contains { $0 == "/" || $0 == ":" || $0.isWhitespace }
        return valid ? nil : "'\(name)' is not a link name (1 to 15 characters; no '/', ':' or spaces)"
    }
}
