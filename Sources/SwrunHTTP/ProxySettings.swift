import Glibc
import SwrunSystem

/// The proxies to use, from the variables curl reads, as curl reads them:
/// - `http_proxy` for http:// URLs, in lowercase only (a CGI program gets the request's
///   "Proxy:" header as HTTP_PROXY, so curl ignores that spelling, and so does swrun);
/// - `https_proxy` or `HTTPS_PROXY` for https:// URLs;
/// - `all_proxy` or `ALL_PROXY` for either, when the one for the scheme is not set;
/// - `no_proxy` or `NO_PROXY`: hosts reached directly (see `bypasses`).
/// Lowercase wins where both are set; an empty value counts as unset. A proxy is
/// `[http://][USER:PASSWORD@]HOST[:PORT]` (port 1080 when not given, as curl has it).
public struct ProxySettings: Sendable, Equatable {
    /// Variable name and value, for each setting that is present.
    public var http: (name: String, value: String)?
    public var https: (name: String, value: String)?
    public var noProxy: String?

    public init(http: (name: String, value: String)? = nil, https: (name: String, value: String)? = nil, noProxy: String? = nil) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    /// From `environment` (tests), or this process's environment.
    public init(environment: [String: String]? = nil) {
        func value(_ name: String) -> (name: String, value: String)? {
            let text = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
            guard let text, !text.isEmpty else { return nil }
            return (name, text)
        }
        let all = value("all_proxy") ?? value("ALL_PROXY")
        self.init(http: value("http_proxy") ?? all, https: value("https_proxy") ?? value("HTTPS_PROXY") ?? all,
                  noProxy: (value("no_proxy") ?? value("NO_PROXY"))?.value)
    }

    public static func == (a: ProxySettings, b: ProxySettings) -> Bool {
        a.http?.name == b.http?.name && a.http?.value == b.http?.value && a.https?.name == b.https?.name
            && a.https?.value == b.https?.value && a.noProxy == b.noProxy
    }

    /// The proxy for `url`, or nil when it is reached directly.
    public func proxy(for url: HTTPURL) throws(SwrunError) -> Proxy? {
        guard let setting = url.scheme == .https ? https : http else { return nil }
        if let noProxy, Self.bypasses(url.host, noProxy: noProxy) { return nil }
        return try Proxy(setting.value, variable: setting.name)
    }

    /// Whether NO_PROXY names `host`, as curl's Curl_check_noproxy decides: "*" alone names
    /// every host; entries are separated by commas (with blanks around them; a blank not
    /// followed by a comma ends the list); "example.com" or ".example.com" names that host
    /// and every name below it, not "notexample.com"; for an address, an entry names that
    /// address, or with "/BITS" ("10.0.0.0/8", "fd00::/8") the block. Case does not matter.
    public static func bypasses(_ host: String, noProxy: String) -> Bool {
        if noProxy == "*" { return true }
        let address = IPAddress(host)
        let name = trimmedDots(host.lowercased())
        var rest = Substring(noProxy.lowercased())
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            let token = rest.prefix { $0 != " " && $0 != "\t" && $0 != "," }
            rest = rest[token.endIndex...].drop { $0 == " " || $0 == "\t" }
            if !token.isEmpty && matches(String(token), name: name, address: address) { return true }
            guard rest.first == "," else { break }
            rest = rest.drop { $0 == "," }
        }
        return false
    }

    private static func matches(_ token: String, name: String, address: IPAddress?) -> Bool {
        guard let address else {
            let entry = trimmedDots(token)
            return !entry.isEmpty && (name == entry || name.hasSuffix("." + entry))
        }
        // An address is only ever named by addresses (brackets around IPv6 allowed).
        var entry = Substring(token.filter { $0 != "[" && $0 != "]" })
        var bits: Int?
        if let slash = entry.firstIndex(of: "/") {
            guard let value = Int(entry[entry.index(after: slash)...]) else { return false }
            bits = value
            entry = entry[..<slash]
        }
        guard let other = IPAddress(String(entry)) else { return false }
        return address.isIn(other, prefixLength: bits ?? other.bytes.count * 8)
    }

    private static func trimmedDots(_ text: String) -> String {
        var text = Substring(text)
        while text.hasPrefix(".") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}

/// One HTTP proxy: where it listens, its credentials, and the variable that named it.
public struct Proxy: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    /// "https_proxy": messages say where the proxy came from.
    public var variable: String

    /// Port 1080 when the text gives none, as curl has it.
    public static let defaultPort = 1080

    public init(_ text: String, variable: String) throws(SwrunError) {
        func invalid(_ why: String) -> SwrunError {
            SwrunError(.invalidArgument, "the proxy \(variable)=\(Proxy.redacted(text)) is not usable: \(why)",
                       hint: "set it as http://[USER:PASSWORD@]HOST:PORT, or unset it to connect directly")
        }
        var rest = Substring(text.trimmingSpaces)
        if let separator = rest.firstRange(of: "://") {
            let scheme = rest[..<separator.lowerBound].lowercased()
            guard scheme == "http" else {
                throw invalid(scheme == "https" ? "swrun speaks to proxies in plain HTTP only (http://)"
                                                : "\(scheme) proxies are not supported, only http://")
            }
            rest = rest[separator.upperBound...]
        }
        if let end = rest.firstIndex(of: "/") { rest = rest[..<end] }  // a trailing "/" or path means nothing here
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            let colon = credentials.firstIndex(of: ":") ?? credentials.endIndex
            user = Proxy.percentDecoded(credentials[..<colon])
            password = colon < credentials.endIndex ? Proxy.percentDecoded(credentials[credentials.index(after: colon)...]) : ""
            rest = rest[rest.index(after: at)...]
        }
        let explicitPort = rest.hasPrefix("[") ? rest.contains("]:") : rest.contains(":")
        let url: HTTPURL
        do { url = try HTTPURL("http://" + rest + "/") } catch { throw invalid(error.message) }
        host = url.host
        port = explicitPort ? url.port : Proxy.defaultPort
        self.variable = variable
    }

    /// "host:port", IPv6 in brackets.
    public var authority: String { HTTPURL(scheme: .http, host: host, port: port).authority }

    /// What TCPSocket connects to.
    var url: HTTPURL { HTTPURL(scheme: .http, host: host, port: port) }

    /// The Proxy-Authorization header's value, when the proxy URL carries a user.
    var authorization: String? {
        guard let user else { return nil }
        return "Basic " + Base64.encode(Array((user + ":" + (password ?? "")).utf8))
    }

    /// A proxy URL for messages, without its password.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        let credentials = text[start..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// An IPv4 or IPv6 address as bytes, for NO_PROXY's address entries and blocks.
struct IPAddress: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    func isIn(_ block: IPAddress, prefixLength: Int) -> Bool {
        guard bytes.count == block.bytes.count, (0...bytes.count * 8).contains(prefixLength) else { return false }
        for bit in 0..<prefixLength where (bytes[bit / 8] ^ block.bytes[bit / 8]) & UInt8(0x80 >> (bit % 8)) != 0 { return false }
        return true
    }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                output.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * position) & 63)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
