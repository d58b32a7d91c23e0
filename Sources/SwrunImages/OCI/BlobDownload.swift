import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// One blob to bring into the cache: where it comes from (with the registry's token), and
/// what it must be (digest and size) once it lies at `path`.
public struct BlobDownload: Sendable {
    public var url: HTTPURL
    public var headers: [Header]
    public var digest: String
    public var size: Int64
    public var path: String
    public var caFile: String?
    /// The registry's token service, asked again when the token in `headers` has expired.
    public var tokenURL: HTTPURL?
    /// The login the token service is asked with (a private image's token needs it again).
    public var tokenLogin: Login?

    public struct Login: Sendable, Equatable {
        public var user: String
        public var password: String
        public init(user: String, password: String) { (self.user, self.password) = (user, password) }
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { (self.name, self.value) = (name, value) }
    }

    public init(url: HTTPURL, headers: [Header] = [], digest: String, size: Int64, path: String, caFile: String? = nil,
                tokenURL: HTTPURL? = nil, tokenLogin: Login? = nil) {
        self.url = url
        self.headers = headers
        self.digest = digest
        self.size = size
        self.path = path
        self.caFile = caFile
        self.tokenURL = tokenURL
        self.tokenLogin = tokenLogin
    }

    /// "sha256:0123456789ab": how progress lines name it.
    public var shortDigest: String { String(digest.prefix(19)) }

    /// Downloads it here, in this process: resumed from a .part, verified, renamed into place.
    /// A token that expired meanwhile (the registry answers 401) is fetched anew, once.
    public func run(progress: (any TransferProgress)?) throws(SwrunError) {
        let client = HTTPClient(options: .init(caFile: caFile, userAgent: RegistryClient.userAgent))
        func download(_ headers: [(String, String)]) throws(SwrunError) {
            try Downloader(client: client).download(url, to: path, headers: headers, expectedSHA256: digest,
                                                    expectedSize: size, progress: progress)
        }
        let headers = headers.map { ($0.name, $0.value) }
        do {
            try download(headers)
        } catch where error.code == .unauthorized && tokenURL != nil {
            guard let tokenURL else { throw error }
            let token = try RegistryClient.token(from: tokenURL, client: client, registry: url.host, login: tokenLogin)
            try download(headers.filter { $0.0 != "Authorization" } + [("Authorization", "Bearer " + token)])
        }
    }

    // MARK: What a worker process reads on its stdin (never argv: the headers hold a token, tokenLogin a password)

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "url": .string(url.description), "digest": .string(digest), "size": .number(String(size)), "path": .string(path),
            "headers": .array(headers.map { .array([.string($0.name), .string($0.value)]) }),
        ]
        if let caFile { members["caFile"] = .string(caFile) }
        if let tokenURL { members["tokenURL"] = .string(tokenURL.description) }
        if let tokenLogin { members["tokenLogin"] = .array([.string(tokenLogin.user), .string(tokenLogin.password)]) }
        return .object(members)
    }

    init(json: JSONValue) throws(SwrunError) {
        let headers = json["headers"]?.array?.compactMap { pair -> Header? in
            guard let name = pair[0]?.string, let value = pair[1]?.string else { return nil }
            return Header(name, value)
        }
        guard let url = json["url"]?.string, let digest = json["digest"]?.string, let size = json["size"]?.int64,
              let path = json["path"]?.string, let headers else {
            throw SwrunError(.invalidArgument, "the blob download request on stdin is incomplete",
                             hint: "`swrun image fetch-blob` is started by `swrun pull` itself, not by hand")
        }
        self.init(url: try HTTPURL(url), headers: headers, digest: digest, size: size, path: path, caFile: json["caFile"]?.string,
                  tokenURL: try json["tokenURL"]?.string.map { (text) throws(SwrunError) in try HTTPURL(text) },
                  tokenLogin: json["tokenLogin"].flatMap { login in
                      login[0]?.string.flatMap { user in login[1]?.string.map { Login(user: user, password: $0) } }
                  })
    }
}

/// How a pull gets the blobs it lacks. Each blob is locked (PATH.lock) while it is fetched,
/// so a second pull that wants the same blob waits and then finds it complete.
public protocol BlobFetcher: Sendable {
    func fetch(_ downloads: [BlobDownload], report: (String) -> Void) throws(SwrunError)
}

/// One blob after the other, in this process: for library users and tests that have no
/// swrun executable to start workers from.
public struct SequentialBlobFetcher: BlobFetcher {
    public init() {}

    public func fetch(_ downloads: [BlobDownload], report: (String) -> Void) throws(SwrunError) {
        for download in downloads {
            let lock = try FileLock.acquire(download.path + ".lock")
            defer { _ = lock }
            if FileSystem.exists(download.path) { continue }
            try download.run(progress: DownloadProgress(name: download.shortDigest))
        }
    }
}
