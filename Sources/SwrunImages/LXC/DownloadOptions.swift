import SwrunSystem

/// The options of LXC's download template, as `lxc-create -t download -- ...` takes them.
public struct DownloadOptions: Sendable, Equatable {
    public static let defaultServer = "https://images.linuxcontainers.org"

    public var dist: String?
    public var release: String?
    public var arch: String?
    public var variant = "default"
    public var server = DownloadOptions.defaultServer
    public var flushCache = false
    public var forceCache = false
    public var validate = true
    public var keyrings: [String] = []
    public var caFile: String?
    public var list = false

    public init() {}

    /// The arguments after `--`; `-d/-r/-a` (or `--dist/--release/--arch`), `--variant`, `--server`,
    /// `--flush-cache`, `--force-cache`, `--no-validate`, `--keyring FILE`, `--ca-file FILE`, `--list`.
    public init(arguments: [String]) throws(SwrunError) {
        var index = 0
        func value(_ option: String) throws(SwrunError) -> String {
            index += 1
            guard index < arguments.count else {
                throw SwrunError(.invalidArgument, "the download template's option \(option) needs a value",
                                 hint: "for example: swrun create -n NAME -t download -- -d debian -r bookworm -a amd64")
            }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            var option = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                option = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            func take() throws(SwrunError) -> String { if let inline { return inline }; return try value(option) }
            switch option {
            case "-d", "--dist": dist = try take()
            case "-r", "--release": release = try take()
            case "-a", "--arch": arch = try take()
            case "--variant": variant = try take()
            case "--server": server = try take()
            case "--keyring": keyrings.append(try take())
            case "--ca-file": caFile = try take()
            case "--flush-cache": flushCache = true
            case "--force-cache": forceCache = true
            case "--no-validate": validate = false
            case "-l", "--list": list = true
            default:
                throw SwrunError(.invalidArgument, "unknown option '\(argument)' for the download template",
                                 hint: "the options are -d DIST -r RELEASE -a ARCH, --variant, --server URL, --flush-cache, --force-cache, --no-validate, --keyring FILE, --ca-file FILE, --list")
            }
            index += 1
        }
        if !server.contains("://") { server = "https://" + server }
        while server.hasSuffix("/") { server.removeLast() }
        if flushCache && forceCache {
            throw SwrunError(.invalidArgument, "--flush-cache and --force-cache contradict each other", hint: "give one of them")
        }
    }

    /// True when no image is named: list what the server offers.
    public var listsOnly: Bool { list || dist == nil || release == nil }
}
