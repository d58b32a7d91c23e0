import SwrunSystem

/// .dockerignore: which paths of the build context COPY and ADD never see. Docker's rules: one
/// pattern a line, `#` comments, a leading `/` or `./` dropped, Go's filepath.Match plus `**`
/// for any number of directories, `!` to take a path back; the last pattern that matches
/// decides. A directory excluded excludes what is below it, unless a `!` pattern names a path
/// below it.
public struct DockerIgnore: Sendable {
    struct Pattern: Sendable {
        var components: [String]
        var exception: Bool
    }

    private var patterns: [Pattern] = []

    public init(text: String) {
        for line in text.split(separator: "\n") {
            var pattern = String(line).trimmingCharacters(in: " \t\r")
            guard !pattern.isEmpty, !pattern.hasPrefix("#") else { continue }
            let exception = pattern.hasPrefix("!")
            if exception { pattern = String(pattern.dropFirst()).trimmingCharacters(in: " \t") }
            let components = pattern.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
            guard !components.isEmpty else { continue }
            patterns.append(Pattern(components: components, exception: exception))
        }
    }

    /// The context directory's .dockerignore (or none).
    public init(contextDirectory: String) {
        self.init(text: (try? FileSystem.readText(FileSystem.join(contextDirectory, ".dockerignore"))) ?? "")
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether `path` (relative to the context, "a/b/c") is left out.
    public func excludes(_ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        var excluded = false
        for pattern in patterns {
            // A pattern matches the path itself or a directory above it.
            let matches = (1...max(components.count, 1)).contains { Self.match(pattern.components[...], components.prefix($0)) }
            if matches { excluded = !pattern.exception }
        }
        return excluded
    }

    /// Whether some `!` pattern may take back a path below `directory`, so that an excluded
    /// directory must still be walked.
    public func mayIncludeBelow(_ directory: String) -> Bool {
        let components = directory.split(separator: "/").map(String.init)
        return patterns.contains { pattern in
            pattern.exception && (pattern.components.count > components.count || pattern.components.contains("**"))
                && Self.match(pattern.components.prefix(components.count), components[...], partial: true)
        }
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>, partial: Bool = false) -> Bool {
        guard let first = pattern.first else { return path.isEmpty || partial }
        if first == "**" {
            let rest = pattern.dropFirst()
            for skip in 0...path.count where match(rest, path.dropFirst(skip), partial: partial) { return true }
            return false
        }
        guard let component = path.first else { return partial }
        return glob(Array(first), Array(component)) && match(pattern.dropFirst(), path.dropFirst(), partial: partial)
    }

    /// Go's filepath.Match within one component: `*`, `?`, `[...]` classes, and escapes.
    static func glob(_ pattern: [Character], _ name: [Character]) -> Bool {
        var p = 0, n = 0
        var star = -1, mark = 0
        while n < name.count {
            if p < pattern.count {
                switch pattern[p] {
                case "*":
                    star = p
                    mark = n
                    p += 1
                    continue
                case "?":
                    p += 1
                    n += 1
                    continue
                case "[":
                    if let (matched, next) = classMatch(pattern, p, name[n]) {
                        if matched {
                            p = next
                            n += 1
                            continue
                        }
                    }
                case "\\" where p + 1 < pattern.count:
                    if pattern[p + 1] == name[n] {
                        p += 2
                        n += 1
                        continue
                    }
                default:
                    if pattern[p] == name[n] {
                        p += 1
                        n += 1
                        continue
                    }
                }
            }
            guard star >= 0 else { return false }
            p = star + 1
            mark += 1
            n = mark
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// A `[...]` class at `start`: whether `character` is in it, and where the class ends.
    private static func classMatch(_ pattern: [Character], _ start: Int, _ character: Character) -> (Bool, Int)? {
        var index = start + 1
        var negated = false
        if index < pattern.count && (pattern[index] == "^" || pattern[index] == "!") {
            negated = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.count && (pattern[index] != "]" || first) {
            first = false
            var low = pattern[index]
            if low == "\\" && index + 1 < pattern.count {
                index += 1
                low = pattern[index]
            }
            var high = low
            if index + 2 < pattern.count && pattern[index + 1] == "-" && pattern[index + 2] != "]" {
                high = pattern[index + 2]
                index += 2
            }
            if low <= character && character <= high { matched = true }
            index += 1
        }
        guard index < pattern.count else { return nil }
        return (matched != negated, index + 1)
    }
}
