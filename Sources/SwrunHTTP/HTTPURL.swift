import SwrunSystem

/// An http:// or https:// URL, split into what a request needs: where to connect
/// (host, port) and what to ask for (path with query).
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable {
        case http, https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public var scheme: Scheme
    /// Lowercase host name or IP address; an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// The path and query, always starting with "/"; the fragment is dropped.
    public var path: String

    public init(scheme: Scheme, host: String, port: Int? = nil, path: String = "/") {
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port ?? scheme.defaultPort
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    public init(_ string: String) throws(SwrunError) {
        func invalid(_ why: String) -> SwrunError {
            SwrunError(.invalidArgument, "invalid URL '\(string)': \(why)",
                       hint: "give a URL like https://images.example.org/path")
        }
        guard let separator = string.firstRange(of: "://") else { throw invalid("it has no scheme (http:// or https://)") }
        guard let scheme = Scheme(rawValue: string[..<separator.lowerBound].lowercased()) else {
            throw invalid("only http and https are supported")
        }
        var rest = Substring(string[separator.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        if authority.contains("@") { throw invalid("user names and passwords in URLs are not supported") }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            // An IPv6 literal: "[::1]" or "[::1]:8080".
            guard let close = authority.firstIndex(of: "]") else { throw invalid("an IPv6 address lacks its closing ]") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
            if !host.contains(":") { throw invalid("'\(host)' in brackets is not an IPv6 address") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { throw invalid("it has no host") }
        if host.contains(where: { $0 == " " || $0 == "%" || $0 == "\\" }) { throw invalid("the host '\(host)' has characters not allowed there") }
        var port = scheme.defaultPort
        if let portText, !portText.isEmpty {
            guard let number = Int(portText), (1...65535).contains(number) else { throw invalid("bad port '\(portText)'") }
            port = number
        }
        self.init(scheme: scheme, host: String(host), port: port,
                  path: path.isEmpty ? "/" : HTTPURL.escaped(String(path)))
    }

    /// The URL a redirect's Location points to, relative to this one: absolute
    /// ("https://cdn/x"), scheme-relative ("//cdn/x"), absolute-path ("/x"), query ("?q") or relative ("x", "../x").
    public func resolving(_ location: String) throws(SwrunError) -> HTTPURL {
        var location = location.trimmingSpaces
        if let hash = location.firstIndex(of: "#") { location = String(location[..<hash]) }
        if location.contains("://") { return try HTTPURL(location) }
        if location.hasPrefix("//") { return try HTTPURL(scheme.rawValue + ":" + location) }
        var resolved = self
        let (basePath, _) = HTTPURL.splitQuery(path)
        if location.isEmpty {
            return resolved
        } else if location.hasPrefix("?") {
            resolved.path = basePath + HTTPURL.escaped(location)
        } else if location.hasPrefix("/") {
            resolved.path = HTTPURL.removingDotSegments(HTTPURL.escaped(location))
        } else {
            let directory = basePath[...basePath.lastIndex(of: "/")!]
            resolved.path = HTTPURL.removingDotSegments(directory + HTTPURL.escaped(location))
        }
        return resolved
    }

    /// "host:port" as it names the server in messages; IPv6 in brackets.
    public var authority: String { "\(bracketedHost):\(port)" }

    /// The Host header: the port only when it is not the scheme's default.
    var hostHeader: String { port == scheme.defaultPort ? bracketedHost : authority }

    var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(path)" }

    /// Percent-encodes what may not appear raw in a request line (spaces, controls,
    /// non-ASCII), as servers sometimes put them in a Location.
    static func escaped(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if byte <= 0x20 || byte >= 0x7f || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func splitQuery(_ path: String) -> (path: String, query: String) {
        guard let mark = path.firstIndex(of: "?") else { return (path, "") }
        return (String(path[..<mark]), String(path[mark...]))
    }

    /// RFC 3986 section 5.2.4: resolves "." and ".." in the path part, keeping the query.
    static func removingDotSegments(_ full: String) -> String {
        let (path, query) = splitQuery(full)
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".": if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default: output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/") + query
    }
}
