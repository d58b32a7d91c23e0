import SwrunSystem

/// The head of a server's answer: status, headers, and the URL that gave it (after redirects).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    /// Every header in the order received; a name that came several times appears several times.
    public var headers: [(name: String, value: String)]
    public var url: HTTPURL

    public init(status: Int, reason: String, headers: [(name: String, value: String)], url: HTTPURL) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.url = url
    }

    /// The first value of header `name` (any case).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// All values of header `name` (any case), in order.
    public func headers(named name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The body's length as Content-Length announces it; nil for a chunked or unframed body.
    public var contentLength: Int64? {
        header("Transfer-Encoding") == nil ? header("Content-Length").flatMap { Int64($0) } : nil
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Throws an error that names the URL and says what the status means, unless it is 2xx.
    public func checkSuccess() throws(SwrunError) {
        if isSuccess { return }
        let (meaning, hint): (String, String?) = switch status {
        case 404, 410: ("not found on the server", "check the name, version and architecture of what you asked for")
        case 401, 403: ("access denied", "it needs credentials or is not public; check its name and your access")
        case 429: ("rate-limited, try again later", nil)
        case 500...599: ("the server failed", "the server has a problem; try again later")
        default: ("unexpected answer", nil)
        }
        throw SwrunError([401, 403].contains(status) ? .unauthorized : .network,
                         "cannot download \(url): \(meaning) (\(status)\(reason.isEmpty ? "" : " " + reason))", hint: hint)
    }
}
