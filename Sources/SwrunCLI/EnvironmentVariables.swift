import SwrunImages
import SwrunSystem

/// The environment variables swrun reads, with what each one does: `cacheEnvironment`
/// passes the first group on to the image code, and `swrun man` lists them all.
enum EnvironmentVariables {
    struct Variable {
        var name: String
        var help: String
    }

    /// What moves swrun's caches and shipped keys, names the registries reached over plain
    /// HTTP, and finds the registry logins.
    static let cache: [Variable] = [
        .init(name: "LXC_CACHE_PATH", help: "LXC's image cache, where the download template keeps its images (default: SWRUN_CACHE_PATH/lxc if that is set, else /var/cache/lxc)."),
        .init(name: "SWRUN_CACHE_PATH", help: "swrun's cache of OCI images, unpacked layers and named volumes (default /var/cache/swrun)."),
        .init(name: "SWRUN_KEYS_DIR", help: "The image servers' signing keys (default \(DownloadTemplate.shippedKeys))."),
        .init(name: "SWRUN_INSECURE_REGISTRIES", help: "Registries reached over plain HTTP besides this machine's, separated by commas or spaces: HOST (any port) or HOST:PORT, as Docker's insecure-registries."),
        .init(name: "SWRUN_REGISTRIES_CONF", help: "The containers-registries.conf(5) file whose insecure = true registries are reached over plain HTTP too, instead of podman's /etc/containers/registries.conf and registries.conf.d/*.conf."),
        .init(name: "REGISTRY_AUTH_FILE", help: "The registry logins to read first, and where `swrun login` writes them."),
        .init(name: "XDG_RUNTIME_DIR", help: "podman's logins, XDG_RUNTIME_DIR/containers/auth.json, are read second."),
        .init(name: "HOME", help: "Docker's logins, HOME/.docker/config.json, are read last, and written when REGISTRY_AUTH_FILE is not set."),
    ]

    /// Read where they are used, not through `cacheEnvironment`.
    static let other: [Variable] = [
        .init(name: "SWRUN_ARCHIVE_MAX_MEMBERS", help: "The most members one archive (an image layer) may hold (default \(ArchiveLimits.defaultMembers))."),
        .init(name: "SWRUN_ARCHIVE_MAX_BYTES", help: "The most bytes of file data one archive may hold (default \(ArchiveLimits.defaultBytes))."),
        .init(name: "http_proxy, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY, no_proxy, NO_PROXY",
              help: "Proxies for image pulls and pushes, read as curl reads them (http_proxy in lowercase only)."),
        .init(name: "TERM", help: "Passed to a command given a pty (run, execute, attach, exec)."),
    ]

    static var all: [Variable] { cache + other }
}
