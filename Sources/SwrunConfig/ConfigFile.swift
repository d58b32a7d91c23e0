import Glibc
import SwrunSystem

/// A config file kept line by line, so that writing it back is byte-identical where
/// untouched: comments, blank lines, order, spacing, tabs, CRLF line ends and a missing
/// final newline all survive. Includes are not expanded here (see ConfigLoader).
public struct ConfigFile: Sendable {
    public var path: String
    var lines: [ConfigLine]

    /// Parses `text`; `path` names the file in errors ("PATH:LINE: ...") and is where write() goes.
    /// Keys are checked against the key table here; values are checked by ContainerConfig.
    public init(text: String, path: String) throws(SwrunError) {
        self.path = path
        self.lines = []
        for (number, piece) in Self.split(text).enumerated() {
            let location = ConfigLocation(file: path, line: number + 1)
            lines.append(try ConfigLine.parse(piece.text, ending: piece.ending, location: location))
        }
    }

    public static func load(_ path: String) throws(SwrunError) -> ConfigFile {
        try ConfigFile(text: try FileSystem.readText(path), path: path)
    }

    /// The settings in file order; comments and blank lines are left out, includes are not expanded.
    public var settings: [ConfigSetting] {
        lines.enumerated().compactMap { number, line in
            line.entry.map { ConfigSetting(key: $0.key, value: $0.value, location: ConfigLocation(file: path, line: number + 1)) }
        }
    }

    public func rendered() -> String {
        lines.map { $0.text + $0.ending }.joined()
    }

    /// Replaces the file at `path` atomically, keeping its permission bits when it exists.
    public func write() throws(SwrunError) {
        var st = stat()
        let mode: mode_t = stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        try FileSystem.writeAtomically(path, rendered(), mode: mode)
    }

    /// Makes `value` the file's value for `key`. The key's last line is rewritten in place,
    /// keeping its spacing and quotes; for a list key the key's other lines are removed,
    /// so that the list is just `value`. Without such a line, "key = value" is appended.
    /// A line break in `value` becomes a space, since a line cannot hold one.
    public mutating func set(_ key: String, _ value: String) {
        guard let last = lines.lastIndex(where: { $0.entry?.key == key }) else {
            append(key, value)
            return
        }
        lines[last].replaceValue(value)
        if ConfigKeys.lookup(key)?.kind == .list {
            let old = lines
            lines = old.indices.filter { $0 == last || old[$0].entry?.key != key }.map { old[$0] }
        }
    }

    /// Adds "key = value" as the last line.
    public mutating func append(_ key: String, _ value: String) {
        // The new line needs the previous one to end; use the file's own line ending.
        let ending = lines.contains { $0.ending == "\r\n" } ? "\r\n" : "\n"
        if let lastIndex = lines.indices.last, lines[lastIndex].ending.isEmpty {
            lines[lastIndex].ending = ending
        }
        lines.append(ConfigLine.make(key, value, ending: ending))
    }

    /// Rewrites values in place, line by line, keeping each line's spacing: `transform` gets
    /// a line's key and value and returns the new value, or nil to leave the line alone.
    public mutating func rewriteValues(_ transform: (_ key: String, _ value: String) -> String?) {
        for index in lines.indices {
            guard let entry = lines[index].entry, let value = transform(entry.key, entry.value) else { continue }
            lines[index].replaceValue(value)
        }
    }

    /// Removes every line that sets `key`.
    public mutating func removeAll(_ key: String) {
        lines.removeAll { $0.entry?.key == key }
    }

    /// Splits text at "\n", keeping "\r\n" as one ending. A final line without a
    /// newline is kept with an empty ending.
    static func split(_ text: String) -> [(text: String, ending: String)] {
        let bytes = Array(text.utf8)
        var result: [(text: String, ending: String)] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            var end = index
            var ending = "\n"
            if end > start && bytes[end - 1] == UInt8(ascii: "\r") {
                end -= 1
                ending = "\r\n"
            }
            result.append((String(decoding: bytes[start..<end], as: UTF8.self), ending))
            start = index + 1
        }
        if start < bytes.count {
            result.append((String(decoding: bytes[start...], as: UTF8.self), ""))
        }
        return result
    }
}
