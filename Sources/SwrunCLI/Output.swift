import Glibc
import SwrunSystem

/// Writes to stderr without buffering, so messages interleave correctly with the container's output.
func printError(_ text: String) {
    var bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if count <= 0 { return }
        offset += count
    }
}

func warn(_ text: String) { printError("swrun: warning: \(text)") }

func requireRoot(_ action: String) throws(SwrunError) {
    guard geteuid() == 0 else {
        throw SwrunError(.permissionDenied, "\(action) needs root: namespaces, mounts and device nodes are root's business",
                         hint: "run it with sudo")
    }
}

/// Minimal JSON for `--format json` (swrun's outputs are small: no need for Foundation).
enum JSON {
    case string(String), number(Int), bool(Bool), null, array([JSON]), object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let value): return Self.quote(value)
        case .number(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

enum OutputFormat: String, CaseIterable {
    case text, json

    init(_ text: String?) throws(SwrunError) {
        guard let format = OutputFormat(rawValue: text ?? "text") else {
            throw SwrunError(.invalidArgument, "unknown format '\(text ?? "")'", hint: "use --format text or --format json")
        }
        self = format
    }
}

/// Left-aligned columns separated by two spaces, as lxc-ls --fancy prints them.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.indices.map { column in
            column == row.count - 1 ? row[column] : row[column] + String(repeating: " ", count: widths[column] - row[column].count)
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
