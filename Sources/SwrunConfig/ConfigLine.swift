import SwrunSystem

/// One line of a config file, kept exactly as written so that it renders back byte for byte.
struct ConfigLine: Sendable {
    /// The line without its ending.
    var text: String
    /// "\n", "\r\n", or "" for a last line without a newline.
    var ending: String
    /// The parsed setting, nil for blank lines and comments.
    var entry: Entry?

    struct Entry: Sendable {
        var key: String
        var value: String
        /// Everything before the value: indentation, key, blanks, '=', blanks.
        var beforeValue: String
        /// The quote around the value as written ("" when none).
        var quote: String
        /// Blanks after the value.
        var afterValue: String
    }

    /// Parses one line the way LXC's parse_line does: leading blanks skipped, '#' starts a
    /// comment only at the start, key and value split at the first '=', both trimmed of
    /// blanks, and one pair of matching quotes around the value removed. LXC ignores lines
    /// that do not start with "lxc."; swrun calls them errors, since they are most often typos.
    static func parse(_ text: String, ending: String, location: ConfigLocation) throws(SwrunError) -> ConfigLine {
        if text.unicodeScalars.allSatisfy({ " \t\r\u{0C}\0".unicodeScalars.contains($0) }) {
            return ConfigLine(text: text, ending: ending, entry: nil)
        }
        let content = text.drop { $0 == " " || $0 == "\t" }
        if content.hasPrefix("#") { return ConfigLine(text: text, ending: ending, entry: nil) }
        guard let equals = content.firstIndex(of: "=") else {
            let hint = content.hasPrefix("lxc.")
                ? "write it as 'KEY = VALUE', e.g. '\(content.trimmingBlanks()) = ...'"
                : "a config line is 'lxc.KEY = VALUE', a comment starting with '#', or blank"
            throw SwrunError.config(location, "missing '=' in '\(content.trimmingBlanks())'", hint: hint)
        }
        let key = String(content[..<equals].trimmingBlanks())
        guard content.hasPrefix("lxc.") else {
            throw SwrunError.config(location, "'\(key)' is not an LXC key (keys start with 'lxc.')",
                                    hint: "LXC silently skips such lines; swrun refuses them to catch typos: fix the key or comment the line out with '#'")
        }
        guard ConfigKeys.lookup(key) != nil else {
            throw SwrunError.config(location, "unknown configuration key '\(key)'", hint: Suggestions.hint(forUnknownKey: key))
        }
        let afterEquals = content[content.index(after: equals)...]
        let leading = afterEquals.prefix { $0 == " " || $0 == "\t" }
        let raw = afterEquals.dropFirst(leading.count).trimmingBlanks()
        let trailing = afterEquals.dropFirst(leading.count + raw.count)
        var value = raw
        var quote = ""
        if let first = raw.first, first == "'" || first == "\"", raw.count > 1, raw.last == first {
            value = raw.dropFirst().dropLast()
            quote = String(first)
        }
        let beforeValue = String(text[..<afterEquals.startIndex]) + leading
        let entry = Entry(key: key, value: String(value), beforeValue: beforeValue, quote: quote, afterValue: String(trailing))
        return ConfigLine(text: text, ending: ending, entry: entry)
    }

    /// A new "key = value" line.
    static func make(_ key: String, _ value: String, ending: String) -> ConfigLine {
        let value = cleaned(value)
        let quote = needsQuotes(value) ? "\"" : ""
        let entry = Entry(key: key, value: value, beforeValue: "\(key) = ", quote: quote, afterValue: "")
        return ConfigLine(text: "\(key) = \(quote)\(value)\(quote)", ending: ending, entry: entry)
    }

    /// Puts a new value in place, keeping the line's own spacing and quote style.
    mutating func replaceValue(_ newValue: String) {
        guard var entry else { return }
        let value = Self.cleaned(newValue)
        if Self.needsQuotes(value) && entry.quote.isEmpty { entry.quote = "\"" }
        entry.value = value
        text = entry.beforeValue + entry.quote + value + entry.quote + entry.afterValue
        self.entry = entry
    }

    /// A value reads back unchanged only without surrounding blanks and without a pair
    /// of matching quotes around it (which LXC would strip); quoting fixes both.
    static func needsQuotes(_ value: String) -> Bool {
        if value.isEmpty { return false }
        if value.trimmingBlanks().count != value.count { return true }
        if let first = value.first, first == "'" || first == "\"", value.count > 1, value.last == first { return true }
        return false
    }

    /// A line cannot hold a line break: it would end the line.
    static func cleaned(_ value: String) -> String {
        String(value.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
