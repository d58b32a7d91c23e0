import SwrunSystem

/// Containers of a `swrun run --rm` that died before it could destroy them (kill -9, a crash,
/// the machine going down). Such a run marks its container in swrun.json from the moment the
/// directory exists (ContainerSidecar.removeWith: its pid and start time, so a reused pid is
/// no alibi); once that process is gone, the container is nobody's.
///
/// `swrun run` sweeps them, and nothing else does: run is where they come from, so a host that
/// makes them also clears them, and the cost stays one listing of LXCPATH and a read of the
/// swrun.json files there (none for containers made from templates). `ls`, `info` and the other
/// commands only look, and never destroy behind the user's back.
/// A swept container goes by ContainerStore.destroy, which takes the run lock: one started
/// again meanwhile (or still running) is left for a later sweep, and the host-effects journal of
/// the dead run (cgroups, veths, NAT) is undone before the directory goes, its lease with it.
/// A create cut short left a directory without a config, where nothing ever ran: it is removed.
public struct AbandonedRuns {
    public let store: ContainerStore

    public init(store: ContainerStore) {
        self.store = store
    }

    /// The containers (or cut-short creates) of LXCPATH whose `swrun run --rm` has died.
    public func names() -> [String] {
        let entries = (try? FileSystem.listDirectory(store.lxcPath)) ?? []
        return entries.filter { entry in
            guard !entry.hasPrefix("."), let creator = (try? ContainerSidecar.load(from: store.directory(of: entry)))?.removeWith else {
                return false
            }
            return !creator.isAlive
        }
    }

    /// Destroys every abandoned container that is not running; `warn` hears what could not go.
    /// Parallel runs would race to destroy the same container (one removing its tree while the
    /// other makes its lock file anew in it): one sweeps at a time, holding an flock on LXCPATH
    /// itself, and the others go on without sweeping.
    public func destroy(warn: (String) -> Void) {
        let abandoned = names()
        guard !abandoned.isEmpty, let lock = try? FileLock.tryAcquire(directory: store.lxcPath) else { return }
        defer { withExtendedLifetime(lock) {} }
        for name in abandoned {
            do {
                if store.exists(name) {
                    try store.destroy(name)
                } else {
                    try FileSystem.removeTree(store.directory(of: name))
                }
            } catch where error.code == .busy || error.code == .notFound {
                continue  // running, or destroyed meanwhile
            } catch {
                warn("could not remove container \(name), left by a `swrun run --rm` that died: \(error)")
            }
        }
    }
}
