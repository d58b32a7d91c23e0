import Glibc
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// The registry API (distribution spec) for one repository: a 401 names a token service,
/// which hands out a token for the repository (anonymously, or for the stored login), or
/// asks for the login itself (HTTP Basic).
public final class RegistryClient {
    static let userAgent = "swrun/0.1"
    public let reference: ImageReference
    let client: HTTPClient
    private var token: String?
    /// Where the token came from: a download worker asks there again when the token has
    /// expired under a long pull (Docker Hub's last five minutes).
    private var tokenURL: HTTPURL?

    /// Which registries may be reached over plain HTTP.
    let security: RegistrySecurity

    /// The login for the registry (`swrun login`), if there is one.
    let credentials: (user: String, password: String)?
    /// HTTP Basic, where the registry asks for it rather than a token.
    private var basic: String?

    public init(reference: ImageReference, caFile: String?, security: RegistrySecurity = RegistrySecurity(),
                credentials: (user: String, password: String)? = nil) {
        self.reference = reference
        self.security = security
        self.credentials = credentials
        client = HTTPClient(options: .init(caFile: caFile, userAgent: Self.userAgent))
    }

    private var scheme: String?

    /// HTTPS; for a registry on this machine or one listed as insecure, plain HTTP when it
    /// does not speak TLS (as Docker allows). A certificate that does not verify is never passed over.
    var base: String {
        get throws(SwrunError) {
            if let scheme { return scheme + "://" + reference.apiHost + "/v2/" + reference.repository }
            let chosen = try chooseScheme()
            scheme = chosen
            return chosen + "://" + reference.apiHost + "/v2/" + reference.repository
        }
    }

    private func chooseScheme() throws(SwrunError) -> String {
        let host = reference.apiHost
        guard security.allowsPlainHTTP(host) else { return "https" }
        do {
            _ = try client.fetch(try HTTPURL("https://" + host + "/v2/"))
            return "https"
        } catch where error.message.contains("did not verify") {
            throw error
        } catch {
            return "http"
        }
    }

    /// A manifest or index, with its bytes exactly as served (their sha256 is its digest).
    public func manifest(_ reference: String) throws(SwrunError) -> (mediaType: String, bytes: [UInt8]) {
        let url = try HTTPURL(try base + "/manifests/" + reference)
        let (response, body) = try explainingPlainHTTP { () throws(SwrunError) in
            try request { (headers) throws(SwrunError) in
                try client.fetch(url, headers: headers + [("Accept", MediaType.manifestAccept)])
            }
        }
        try check(response, what: "the manifest \(self.reference.repository):\(reference)")
        let type = response.header("Content-Type")?.split(separator: ";").first.map { String($0).trimmed }
        return (type ?? "", body)
    }

    /// What downloading a blob to `path` takes, for a worker: its URL and the token this
    /// client got for the manifest (blobs need the same pull scope).
    public func blobDownload(_ descriptor: Descriptor, to path: String) throws(SwrunError) -> BlobDownload {
        BlobDownload(url: try HTTPURL(try base + "/blobs/" + descriptor.digest),
                     headers: authorization.map { BlobDownload.Header($0.0, $0.1) },
                     digest: descriptor.digest, size: descriptor.size, path: path, caFile: client.options.caFile, tokenURL: tokenURL,
                     tokenLogin: tokenURL == nil ? nil : credentials.map { BlobDownload.Login(user: $0.user, password: $0.password) })
    }

    // MARK: push

    /// Whether the registry has the blob in this repository already.
    func hasBlob(_ digest: String) throws(SwrunError) -> Bool {
        let url = try HTTPURL(try base + "/blobs/" + digest)
        let (response, _) = try request { (headers) throws(SwrunError) in try client.send("HEAD", url, headers: headers) }
        if response.status == 404 { return false }
        try check(response, what: "the blob \(digest)")
        return true
    }

    /// Asks the registry to link the blob from another of its repositories (no upload); false
    /// when it would not, and an upload is needed.
    func mountBlob(_ digest: String, from repository: String) throws(SwrunError) -> Bool {
        let url = try HTTPURL(try base + "/blobs/uploads/?mount=" + digest + "&from=" + Self.percentEncoded(repository))
        let (response, _) = try request { (headers) throws(SwrunError) in try client.send("POST", url, headers: headers) }
        return response.status == 201
    }

    /// Uploads the file `path` as the blob `digest`: in one PUT, or in PATCHes of `chunkSize`
    /// bytes and a closing PUT where the blob is larger.
    func uploadBlob(_ digest: String, path: String, size: Int64, chunkSize: Int64) throws(SwrunError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SwrunError.system("cannot open the blob \(path)", Errno.current) }
        defer { close(fd) }
        let start = try HTTPURL(try base + "/blobs/uploads/")
        let (started, _) = try request { (headers) throws(SwrunError) in try client.send("POST", start, headers: headers) }
        var location = try uploadLocation(started, from: start, what: "an upload of \(digest)")
        var offset: Int64 = 0
        if size > chunkSize {
            while offset < size {
                let count = min(chunkSize, size - offset)
                let chunk = location
                let (answer, _) = try request { (headers) throws(SwrunError) in
                    try client.send("PATCH", chunk, headers: headers + [("Content-Type", "application/octet-stream"),
                                                                          ("Content-Range", "\(offset)-\(offset + count - 1)")],
                                    body: .file(fd: fd, offset: offset, count: count))
                }
                location = try uploadLocation(answer, from: chunk, what: "a chunk of \(digest)")
                offset += count
            }
        }
        let separator = location.description.contains("?") ? "&" : "?"
        let finish = try HTTPURL(location.description + separator + "digest=" + Self.percentEncoded(digest))
        let body: HTTPClient.RequestBody = offset < size ? .file(fd: fd, offset: offset, count: size - offset) : .none
        let (done, _) = try request { (headers) throws(SwrunError) in
            try client.send("PUT", finish, headers: headers + [("Content-Type", "application/octet-stream")], body: body)
        }
        try check(done, what: "the upload of \(digest)")
    }

    private func uploadLocation(_ response: HTTPResponse, from url: HTTPURL, what: String) throws(SwrunError) -> HTTPURL {
        try check(response, what: what)
        guard let location = response.header("Location") else {
            throw SwrunError(.network, "\(reference.registry) gave no upload location for \(what)", hint: "the registry does not follow the distribution spec")
        }
        return try url.resolving(location)
    }

    /// Puts the manifest under `tag`.
    func putManifest(_ bytes: [UInt8], mediaType: String, tag: String) throws(SwrunError) {
        let url = try HTTPURL(try base + "/manifests/" + tag)
        let (response, _) = try request { (headers) throws(SwrunError) in
            try client.send("PUT", url, headers: headers + [("Content-Type", mediaType)], body: .bytes(bytes))
        }
        try check(response, what: "the manifest \(reference.repository):\(tag)")
    }

    /// Checks the login against the registry's API root (`swrun login`). Its challenge names
    /// no repository, and a token is asked for the login alone, as docker login does.
    public func checkLogin() throws(SwrunError) {
        fallbackScope = nil
        let url = try HTTPURL(try base.replacingSuffix("/" + reference.repository, with: "") + "/")
        let (response, _) = try explainingPlainHTTP { () throws(SwrunError) in
            try request { (headers) throws(SwrunError) in try client.fetch(url, headers: headers) }
        }
        guard response.isSuccess else {
            throw SwrunError(.unauthorized, "\(reference.registry) refused the login (HTTP \(response.status))", hint: "check the user name and password")
        }
    }

    /// A registry that does not speak TLS fails the handshake: say how to allow plain HTTP for it.
    private func explainingPlainHTTP<T>(_ body: () throws(SwrunError) -> T) throws(SwrunError) -> T {
        do {
            return try body()
        } catch where error.message.hasPrefix("the TLS handshake") && !security.allowsPlainHTTP(reference.apiHost) {
            var error = error
            error.hint = (error.hint.map { $0 + "; " } ?? "")
                + "if \(reference.apiHost) serves only plain HTTP, list it as insecure in \(security.configFile) ([[registry]] location = \"\(reference.apiHost)\" insecure = true) or in SWRUN_INSECURE_REGISTRIES (plain HTTP is used for no other registry but this machine's)"
                + (security.configProblem.map { "; note that \($0), so its entries were not read" } ?? "")
            throw error
        }
    }

    /// Runs `body` with the authorization it needs, authenticating on a 401: again when a
    /// token for pulling meets a request that needs more (a push asks for pull,push).
    private func request<T>(_ body: ([(String, String)]) throws(SwrunError) -> (HTTPResponse, T)) throws(SwrunError) -> (HTTPResponse, T) {
        let first = try body(authorization)
        guard first.0.status == 401, basic == nil, let challenge = first.0.header("WWW-Authenticate") else { return first }
        let scope = Self.challengeParameters(String(challenge.drop { $0 != " " })).first { $0.key == "scope" }?.value
        guard token == nil || scope != grantedScope else { return first }
        try authenticate(challenge)
        return try body(authorization)
    }

    private var grantedScope: String?
    /// What a token is asked for where the challenge names no scope.
    private lazy var fallbackScope: String? = "repository:\(reference.repository):pull"

    private var authorization: [(String, String)] {
        if let basic { return [("Authorization", "Basic " + basic)] }
        return token.map { [("Authorization", "Bearer " + $0)] } ?? []
    }

    /// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`,
    /// or `Basic realm="..."`, which takes the stored login as it is.
    private func authenticate(_ challenge: String) throws(SwrunError) {
        if challenge.lowercased().hasPrefix("basic") {
            guard let credentials else {
                throw SwrunError(.unauthorized, "\(reference.registry) wants a login (Basic) for \(reference.repository)",
                                 hint: "log in first: swrun login \(reference.registry)")
            }
            basic = Base64.encode(credentials.user + ":" + credentials.password)
            return
        }
        guard challenge.lowercased().hasPrefix("bearer ") else {
            throw SwrunError(.unauthorized, "\(reference.registry) wants a login (\(challenge.split(separator: " ").first ?? "")) for \(reference.repository)",
                             hint: "swrun speaks Bearer and Basic; log in with `swrun login \(reference.registry)` where the registry wants a user")
        }
        let parameters = Self.challengeParameters(String(challenge.dropFirst(7)))
        guard let realm = parameters["realm"] else {
            throw SwrunError(.network, "\(reference.registry) sent a token challenge without a realm", hint: "the registry is misconfigured")
        }
        var query: [String] = []
        if let scope = parameters["scope"] ?? fallbackScope { query.append("scope=" + Self.percentEncoded(scope)) }
        if let service = parameters["service"] { query.append("service=" + Self.percentEncoded(service)) }
        if let credentials { query.append("account=" + Self.percentEncoded(credentials.user)) }
        let url = try HTTPURL(realm + (query.isEmpty ? "" : (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")))
        token = try Self.token(from: url, client: client, registry: reference.registry,
                               login: credentials.map { BlobDownload.Login(user: $0.user, password: $0.password) })
        tokenURL = url
        grantedScope = parameters["scope"]
    }

    /// A token from the token service at `url`: anonymous, or for `login` (HTTP Basic, as
    /// Docker sends it to the token service).
    static func token(from url: HTTPURL, client: HTTPClient, registry: String, login: BlobDownload.Login? = nil) throws(SwrunError) -> String {
        let headers = login.map { [("Authorization", "Basic " + Base64.encode($0.user + ":" + $0.password))] } ?? []
        let (response, body) = try client.fetch(url, headers: headers)
        if let login, response.status == 401 || response.status == 403 {
            throw SwrunError(.unauthorized, "\(registry)'s token service \(url.host) refused the login of \(login.user) (HTTP \(response.status))",
                             hint: "check the user name and password, and log in again: swrun login -u USER \(registry)")
        }
        guard response.isSuccess else {
            throw SwrunError(.unauthorized, "\(registry)'s token service \(url.host) refused a pull token (HTTP \(response.status))",
                             hint: "the image may be private or misnamed; swrun pulls public images anonymously")
        }
        guard let document = try? JSONValue(parsing: body), let value = document["token"]?.string ?? document["access_token"]?.string else {
            throw SwrunError(.network, "the token service \(url.host) sent no token", hint: "try again later")
        }
        return value
    }

    private func check(_ response: HTTPResponse, what: String) throws(SwrunError) {
        switch response.status {
        case 200..<300: return
        case 401, 403:
            throw SwrunError(.unauthorized, "\(reference.registry) refused \(what) (HTTP \(response.status))",
                             hint: credentials == nil ? "the image may be private or misnamed: log in with `swrun login \(reference.registry)`"
                                : "the login for \(reference.registry) may not reach \(reference.repository); check the name, or log in again")
        case 404:
            throw SwrunError(.notFound, "\(reference.registry) has no \(what)", hint: "check the image's name and tag: \(reference)")
        case 429:
            throw SwrunError(.network, "\(reference.registry) is rate-limiting pulls (HTTP 429)",
                             hint: "wait and try again (Docker Hub allows about 10 anonymous pulls an hour), or use another registry")
        default:
            throw SwrunError(.network, "\(reference.registry) answered HTTP \(response.status) for \(what)", hint: "try again later")
        }
    }

    public static func challengeParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmed.trimmingCharacters(",")
            rest = rest[rest.index(after: equals)...]
            var value: Substring
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = rest[..<end]
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end]
                rest = rest[end...]
            }
            result[key.lowercased()] = String(value)
        }
        return result
    }

    public static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || "-._~:/".contains(character)) {
                result.append(character)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func trimmingCharacters(_ set: String) -> String { String(drop { set.contains($0) }) }
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
