import Glibc
import SwrunConfig
import SwrunSystem

/// lxc-autostart: the containers marked lxc.start.auto = 1, in lxc.start.order (higher
/// first), started one by one with lxc.start.delay seconds after each, or stopped in the
/// reverse order.
public struct Autostart {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var order: Int
        public var delay: Int
        public var groups: [String]
    }

    public let store: ContainerStore

    public init(store: ContainerStore) {
        self.store = store
    }

    /// The containers to act on, in start order. With no `groups`, only containers without
    /// lxc.group are chosen (as LXC does); "NULL" in `groups` stands for those. `all` takes
    /// every group; `ignoreAuto` also those without lxc.start.auto = 1.
    public func selection(groups: [String]?, all: Bool, ignoreAuto: Bool = false, skipped: (String, SwrunError) -> Void = { _, _ in }) throws(SwrunError) -> [Entry] {
        var entries: [Entry] = []
        for name in try store.names() {
            // One broken config must not keep the others from starting.
            let config: ContainerConfig
            do { config = try store.config(of: name) } catch {
                skipped(name, error)
                continue
            }
            let entry = Self.entry(name: name, settings: config.settings)
            let auto = config.settings.last { $0.key == "lxc.start.auto" }?.value == "1"
            guard auto || ignoreAuto else { continue }
            let wanted = groups ?? ["NULL"]
            let chosen = all || wanted.contains { group in group == "NULL" ? entry.groups.isEmpty : entry.groups.contains(group) }
            if chosen { entries.append(entry) }
        }
        return entries.sorted { $0.order != $1.order ? $0.order > $1.order : $0.name < $1.name }
    }

    /// What autostart reads of one container's settings.
    public static func entry(name: String, settings: [ConfigSetting]) -> Entry {
        func last(_ key: String) -> String? { settings.last { $0.key == key }?.value }
        let groups = settings.filter { $0.key == "lxc.group" }
            .flatMap { $0.value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) }
        return Entry(name: name, order: last("lxc.start.order").flatMap { Int($0) } ?? 0,
                     delay: last("lxc.start.delay").flatMap { Int($0) } ?? 0, groups: groups)
    }

    /// Starts each stopped container of `entries` in order, waiting its delay after each.
    /// Returns the failures, by container; one failing does not stop the others.
    public func start(_ entries: [Entry], report: (String) -> Void) -> [(String, SwrunError)] {
        var failures: [(String, SwrunError)] = []
        for entry in entries where store.status(of: entry.name).state == .stopped {
            do {
                try ContainerMonitor.startDetached(MonitorRequest(name: entry.name, lxcPath: store.lxcPath))
                report("started \(entry.name)")
                if entry.delay > 0 { sleep(UInt32(entry.delay)) }
            } catch {
                failures.append((entry.name, error))
            }
        }
        return failures
    }

    /// Stops each running container of `entries`, in the reverse of start order.
    public func stop(_ entries: [Entry], timeout: Int, kill: Bool, report: (String) -> Void) -> [(String, SwrunError)] {
        var failures: [(String, SwrunError)] = []
        for entry in entries.reversed() where store.status(of: entry.name).state != .stopped {
            do {
                try ContainerStopper(store: store, name: entry.name).stop(timeout: timeout, killAtOnce: kill)
                report("stopped \(entry.name)")
            } catch {
                failures.append((entry.name, error))
            }
        }
        return failures
    }
}
