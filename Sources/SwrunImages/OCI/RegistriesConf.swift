/// The insecure registries of containers-registries.conf(5), the file podman, buildah and
/// skopeo read (/etc/containers/registries.conf and registries.conf.d/*.conf): version 2's
///     [[registry]]                  and its mirrors   [[registry.mirror]]
///     location = "myreg.lan:5000"                     location = "mirror.lan"
///     insecure = true                                 insecure = true
/// and version 1's
///     [registries.insecure]
///     registries = ["myreg.lan:5000", "other.lan"]
/// Only what swrun uses is read (a TOML subset: tables, strings, booleans, arrays of
/// strings, comments); other keys and tables are passed over. An entry is a registry's
/// HOST[:PORT] (a namespace after it is dropped), or `*.DOMAIN` (a prefix of version 2).
enum RegistriesConf {
    static let systemFile = "/etc/containers/registries.conf"
    static let systemDropIns = "/etc/containers/registries.conf.d"

    struct Failure: Error, Equatable {
        var line: Int
        var reason: String
    }

    /// The registries `text` lists as insecure.
    static func insecureRegistries(in text: String) throws(Failure) -> [String] {
        var found: [String] = []
        var table = ""
        var entry: [String: Value] = [:]
        func flush() {
            guard table == "registry" || table == "registry.mirror", entry["insecure"] == .boolean(true) else { return }
            if case .string(let location)? = entry["location"], !location.isEmpty { found.append(registry(location)) }
            else if case .string(let prefix)? = entry["prefix"], !prefix.isEmpty { found.append(registry(prefix)) }
        }
        var pending = ""
        var pendingLine = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = withoutComment(String(raw)).trimmingCharacters(in: " \t\r")
            if pending.isEmpty && line.isEmpty { continue }
            if pending.isEmpty { pendingLine = index + 1 }
            pending += (pending.isEmpty ? "" : " ") + line
            // An array goes on until its brackets close.
            if pending.contains("="), pending.filter({ $0 == "[" }).count > pending.filter({ $0 == "]" }).count { continue }
            let statement = pending
            pending = ""
            if statement.hasPrefix("[") {
                flush()
                entry = [:]
                table = statement.trimmingCharacters(in: "[]").trimmingCharacters(in: " \t")
                continue
            }
            guard let equals = statement.firstIndex(of: "=") else {
                throw Failure(line: pendingLine, reason: "'\(statement)' is not KEY = VALUE")
            }
            let key = String(statement[..<equals]).trimmingCharacters(in: " \t\"'")
            guard let value = Value(parsing: String(statement[statement.index(after: equals)...]).trimmingCharacters(in: " \t")) else {
                throw Failure(line: pendingLine, reason: "the value of \(key) is not a string, boolean or array of strings")
            }
            entry[key] = value
            if table == "registries.insecure", key == "registries", case .array(let names) = value { found += names.map(registry) }
        }
        flush()
        return found
    }

    /// HOST[:PORT] of a location: a namespace after it dropped, lowercased.
    private static func registry(_ location: String) -> String {
        String(location.prefix { $0 != "/" }).lowercased()
    }

    /// The line up to a '#' outside quotes.
    private static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var kept = ""
        for character in line {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" {
                break
            }
            kept.append(character)
        }
        return kept
    }

    enum Value: Equatable {
        case string(String)
        case boolean(Bool)
        case array([String])

        init?(parsing text: String) {
            if text == "true" || text == "false" {
                self = .boolean(text == "true")
            } else if let string = Self.string(text) {
                self = .string(string)
            } else if text.hasPrefix("["), text.hasSuffix("]") {
                var items: [String] = []
                for item in text.dropFirst().dropLast().split(separator: ",") {
                    let trimmed = String(item).trimmingCharacters(in: " \t")
                    if trimmed.isEmpty { continue }  // a trailing comma
                    guard let string = Self.string(trimmed) else { return nil }
                    items.append(string)
                }
                self = .array(items)
            } else {
                return nil
            }
        }

        /// "basic" (with \" and \\ escapes) or 'literal'.
        private static func string(_ text: String) -> String? {
            guard text.count >= 2, let quote = text.first, quote == "\"" || quote == "'", text.last == quote else { return nil }
            let inner = text.dropFirst().dropLast()
            guard quote == "\"" else { return String(inner) }
            var result = ""
            var escaped = false
            for character in inner {
                if escaped {
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    result.append(character)
                }
            }
            return result
        }
    }
}
