import Foundation
import Testing

/// Overlay rootfs in LXC's layout (LXCPATH/NAME/overlay/delta over read-only lowers): swrun
/// starts what LXC's tools make and LXC starts what swrun makes; the mount lives only in the
/// start's own mount namespace, so nothing stays mounted on the host, crash or not.
@Suite struct StorageTests {
    /// A busybox container `base` and `name` on an overlay of its rootfs, as lxc-copy -s makes it.
    func overlayClone(_ sandbox: Sandbox, _ name: String) throws -> (base: String, delta: String) {
        let base = sandbox.name("base")
        try sandbox.create(base)
        let config = try String(contentsOfFile: "\(sandbox.path)/\(base)/config", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                if line.hasPrefix("lxc.rootfs.path") { return "lxc.rootfs.path = overlay:\(sandbox.path)/\(base)/rootfs:\(sandbox.path)/\(name)/overlay/delta" }
                if line.hasPrefix("lxc.uts.name") { return "lxc.uts.name = \(name)" }
                return String(line)
            }.joined(separator: "\n")
        try FileManager.default.createDirectory(atPath: "\(sandbox.path)/\(name)", withIntermediateDirectories: false)
        try config.write(toFile: "\(sandbox.path)/\(name)/config", atomically: false, encoding: .utf8)
        return (base, "\(sandbox.path)/\(name)/overlay/delta")
    }

    /// lxc-execute in a mount namespace of the test's own; the lxc.pivot cgroups LXC leaves in
    /// each hierarchy's root go after it (empty, or rmdir leaves them).
    func lxcExecute(_ sandbox: Sandbox, _ name: String, _ command: [String]) throws -> Swrun.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-m", "--propagation", "private", "lxc-execute", "-P", sandbox.path, "-n", name,
                             "-s", "lxc.cgroup.relative=1", "--"] + command
        defer { removeLXCPivotCgroups() }
        return try Swrun.runProcess(process)
    }

    /// LXC puts lxc.pivot below the caller's cgroup in each hierarchy (co-mounted ones are
    /// links) and leaves it; empty, or rmdir leaves it.
    func removeLXCPivotCgroups() {
        let roots = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 }
        for directory in ownCgroupDirectories() + roots { rmdir(directory + "/lxc.pivot") }
    }

    /// Each store `create -B` makes, through rootfs-fixtures/storage-round-trip.sh: created,
    /// started, copied, snapshotted and restored by swrun, then listed, restored, copied and
    /// started by LXC's tools, swrun reading back what they made; all destroyed. overlay (and
    /// LXC's name for it) from an image's layers, the others from the busybox template; btrfs
    /// on a loop-mounted mkfs.btrfs image, mounted in the script's own mount namespace only.
    @Test(.serialized, arguments: ["dir", "overlay", "overlayfs", "btrfs", "loop"])
    func aBackingStoreRoundTripsThroughSwrunAndLXC(_ store: String) throws {
        let sandbox = try Sandbox(), name = sandbox.name("rt")
        var template = "busybox", cache = sandbox.path + "/swrun-cache"
        var fixtures: ImageFixtures?  // its registry runs until the test ends
        if store.hasPrefix("overlay") {
            fixtures = try ImageFixtures()
            template = try fixtures!.startRegistry() + "/fixture/busybox:v2s2"
            cache = fixtures!.path + "/swrun-cache"
        }
        defer { withExtendedLifetime(fixtures) {} }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.path)
        process.environment = ProcessInfo.processInfo.environment.merging(["SWRUN_CACHE_PATH": cache]) { $1 }
        process.arguments = ["-m", "--propagation", "private", "sh", "-ec", """
            mkdir lxc
            if [ "$3" = btrfs ]; then truncate -s 300M btrfs.img; mkfs.btrfs -q btrfs.img >/dev/null; mount -o loop btrfs.img lxc; fi
            sh "$1/storage-round-trip.sh" "$2" "$PWD/lxc" "$3" "$4" "$5" "$6"
            if [ "$3" = btrfs ]; then echo "subvolumes: $(btrfs subvolume list lxc | wc -l)"; fi
            """, "sh", ImageFixtures.scripts, Swrun.binary, store, name, template, sandbox.emptyConfig]
        defer { removeLXCPivotCgroups() }
        let result = try Swrun.runProcess(process, timeout: 300)
        let kind = store == "overlayfs" ? "overlay" : store
        let lxc = FileManager.default.isExecutableFile(atPath: "/usr/bin/lxc-start")
        let expected = ["created \(kind)", "started \(name)", "copied \(kind) \(name)-copy one ", "restored \(kind) one"]
            + (lxc ? ["listed by lxc-snapshot: snap0"] : [])
            + (lxc && kind != "overlay" ? ["restored by lxc-snapshot \(kind) one", "copied by lxc-copy \(kind) \(name)-lxccopy one "] : [])
            + (lxc ? ["started by lxc-start: one"] : [])
            + ["left: "] + (store == "btrfs" ? ["subvolumes: 0"] : [])
        #expect(result.status == 0 && result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) == expected + [""],
                "\(result.stdout)\n\(result.stderr)")
        #expect(try loopDevices(sandbox.path) == 0 && !(try hostMountInfo()).contains(sandbox.path), "no loop device or mount is left")
    }

    @Test func swrunAndLXCStartTheSameOverlayContainer() throws {
        let sandbox = try Sandbox(), name = sandbox.name("clone")
        let (base, delta) = try overlayClone(sandbox, name)
        let written = try sandbox.execute(name, ["sh", "-c", "echo from-swrun > /mark; rm /etc/hostname; hostname"])
        #expect(written.status == 0 && written.stdout == "\(name)\n", "\(written.stderr)")
        #expect((try? String(contentsOfFile: delta + "/mark", encoding: .utf8)) == "from-swrun\n")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(base)/rootfs/etc/hostname"), "the lower layer is untouched")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(base)/rootfs/mark"))
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/overlay/work"), "LXC's work directory, beside the delta")

        // LXC mounts the same layers in a mount namespace of the test's own.
        let lxc = try lxcExecute(sandbox, name, ["sh", "-c", "cat /mark; test -e /etc/hostname || echo hidden; echo from-lxc > /mark2"])
        #expect(lxc.status == 0 && lxc.stdout == "from-swrun\nhidden\n", "\(lxc.stdout) \(lxc.stderr)")
        let read = try sandbox.execute(name, ["cat", "/mark2"])
        #expect(read.stdout == "from-lxc\n", "\(read.stderr)")
    }

    @Test func anOverlayIsNeverMountedOnTheHost() throws {
        let sandbox = try Sandbox(), name = sandbox.name("hidden")
        _ = try overlayClone(sandbox, name)
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        let seen = try Swrun.run(["attach", "-n", name, "-P", sandbox.path, "--", "ls", "/bin/busybox"])
        #expect(seen.status == 0 && seen.stdout == "/bin/busybox\n", "the container sees its rootfs: \(seen.stderr)")
        #expect(!(try hostMountInfo()).contains(rootfs), "the host does not")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rootfs).isEmpty)
        // A crash of monitor and init together leaves no mount behind either.
        let record = try String(contentsOfFile: "\(sandbox.path)/\(name)/swrun.state", encoding: .utf8)
        let pids = record.split(separator: "\n").filter { $0.hasPrefix("monitor_pid=") || $0.hasPrefix("init_pid=") }
            .compactMap { pid_t($0.split(separator: "=")[1]) }
        #expect(pids.count == 2)
        for pid in pids { kill(pid, SIGKILL) }
        for _ in 0..<100 where pids.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        #expect(try Swrun.run(["info", "-s", "-H", "-n", name, "-P", sandbox.path]).stdout == "STOPPED\n")
        #expect(!(try hostMountInfo()).contains(rootfs))
        #expect(try Swrun.run(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    @Test func aMissingLayerIsNamedWithAWayOut() throws {
        let sandbox = try Sandbox(), name = sandbox.name("lost")
        let (base, _) = try overlayClone(sandbox, name)
        try FileManager.default.removeItem(atPath: "\(sandbox.path)/\(base)/rootfs")
        let failed = try sandbox.execute(name, ["true"])
        #expect(failed.status != 0 && failed.stderr.contains("the rootfs layer \(sandbox.path)/\(base)/rootfs is missing"), "\(failed.stderr)")
    }

    func config(_ sandbox: Sandbox, _ name: String) -> String {
        (try? String(contentsOfFile: "\(sandbox.path)/\(name)/config", encoding: .utf8)) ?? ""
    }

    func value(_ key: String, in config: String) -> String? {
        config.split(separator: "\n").last { $0.hasPrefix(key + " = ") }.map { String($0.dropFirst(key.count + 3)) }
    }

    /// lxc-copy's whole copy: the files, and a config with the copy's name, paths and MAC.
    @Test func aCopyHasItsOwnFilesNameAndAddresses() throws {
        let sandbox = try Sandbox(), name = sandbox.name("orig"), copy = sandbox.name("copy")
        let settings = sandbox.write("net.conf", "lxc.net.0.type = empty\nlxc.net.1.type = veth\nlxc.net.1.link = nobr0\nlxc.net.1.hwaddr = 00:16:3e:xx:xx:xx\nlxc.console.logfile = \(sandbox.path)/\(name)/console.log\n")
        try sandbox.create(name, config: settings)
        let copied = try Swrun.run(["copy", "-n", name, "-N", copy, "-P", sandbox.path])
        #expect(copied.status == 0, "\(copied.stderr)")
        let original = config(sandbox, name), made = config(sandbox, copy)
        #expect(value("lxc.rootfs.path", in: made) == "dir:\(sandbox.path)/\(copy)/rootfs")
        #expect(value("lxc.uts.name", in: made) == copy)
        #expect(value("lxc.console.logfile", in: made) == "\(sandbox.path)/\(copy)/console.log")
        let mac = try #require(value("lxc.net.1.hwaddr", in: made))
        #expect(mac.hasPrefix("00:16:3e:") && mac != value("lxc.net.1.hwaddr", in: original))
        #expect((try? String(contentsOfFile: "\(sandbox.path)/\(copy)/rootfs/etc/hostname", encoding: .utf8)) == copy + "\n")
        let ran = try sandbox.execute(copy, ["hostname"], options: ["-s", "lxc.net.1.type=empty"])
        #expect(ran.stdout == copy + "\n", "\(ran.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/lxc_snapshots"), "a whole copy stands on nothing")
        let again = try Swrun.run(["copy", "-n", name, "-N", copy, "-P", sandbox.path])
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again.stderr)")
    }

    /// A snapshot is an overlay over the original, in LXC's files: neither swrun nor LXC
    /// destroys the original while it stands on it.
    @Test func aSnapshotStandsOnTheOriginalAndLXCKnowsIt() throws {
        let sandbox = try Sandbox(), name = sandbox.name("orig"), snapshot = sandbox.name("snap")
        try sandbox.create(name)
        let made = try Swrun.run(["copy", "-n", name, "-N", snapshot, "-s", "-P", sandbox.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(value("lxc.rootfs.path", in: config(sandbox, snapshot)) == "overlay:\(sandbox.path)/\(name)/rootfs:\(sandbox.path)/\(snapshot)/overlay/delta")
        #expect((try? String(contentsOfFile: "\(sandbox.path)/\(name)/lxc_snapshots", encoding: .utf8)) == "\(sandbox.path)\n\(snapshot)\n")
        #expect((try? String(contentsOfFile: "\(sandbox.path)/\(snapshot)/lxc_rdepends", encoding: .utf8)) == "\(sandbox.path)\n\(name)\n")
        let ran = try sandbox.execute(snapshot, ["sh", "-c", "hostname; echo mine > /etc/motd"])
        #expect(ran.stdout == snapshot + "\n", "\(ran.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/rootfs/etc/motd"))

        let refused = try Swrun.run(["destroy", "-n", name, "-P", sandbox.path])
        #expect(refused.status != 0 && refused.stderr.contains("snapshot clones") && refused.stderr.contains(snapshot), "\(refused.stderr)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/lxc-destroy")
        process.arguments = ["-n", name, "-P", sandbox.path]
        let lxc = try Swrun.runProcess(process)
        #expect(lxc.status != 0 && lxc.stderr.contains("has clones"), "\(lxc.stderr)")

        #expect(try Swrun.run(["destroy", "-n", snapshot, "-P", sandbox.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/lxc_snapshots"))
        #expect(try Swrun.run(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
    }

    /// Copies of an overlay container: a whole copy keeps its layers under a copy of its
    /// changes; -B dir copies the merged files.
    @Test func copiesOfAnOverlayContainer() throws {
        let sandbox = try Sandbox(), name = sandbox.name("clone")
        let (base, _) = try overlayClone(sandbox, name)
        #expect(try sandbox.execute(name, ["sh", "-c", "echo changed > /etc/motd; rm /etc/hostname"]).status == 0)
        let layered = sandbox.name("layered"), flat = sandbox.name("flat")
        #expect(try Swrun.run(["copy", "-n", name, "-N", layered, "-P", sandbox.path]).status == 0)
        #expect(value("lxc.rootfs.path", in: config(sandbox, layered)) == "overlay:\(sandbox.path)/\(base)/rootfs:\(sandbox.path)/\(layered)/overlay/delta")
        let seen = try sandbox.execute(layered, ["sh", "-c", "cat /etc/motd; test -e /etc/hostname || echo gone"])
        #expect(seen.stdout == "changed\ngone\n", "\(seen.stderr)")

        let copied = try Swrun.run(["copy", "-n", name, "-N", flat, "-B", "dir", "-P", sandbox.path])
        #expect(copied.status == 0, "\(copied.stderr)")
        let rootfs = "\(sandbox.path)/\(flat)/rootfs"
        #expect(value("lxc.rootfs.path", in: config(sandbox, flat)) == "dir:" + rootfs)
        #expect((try? String(contentsOfFile: rootfs + "/etc/motd", encoding: .utf8)) == "changed\n")
        #expect(!FileManager.default.fileExists(atPath: rootfs + "/etc/hostname"), "the whiteout was applied, not copied")
        #expect(FileManager.default.fileExists(atPath: rootfs + "/bin/busybox"))
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(flat)/.merged"))
        #expect(!(try hostMountInfo()).contains(sandbox.path), "the merged view was this process's own")
    }

    /// lxc-copy -e: an ephemeral snapshot, started, with binds; gone once it stops.
    @Test func anEphemeralCopyRunsAndGoesWhenItStops() throws {
        let sandbox = try Sandbox(), name = sandbox.name("orig"), ephemeral = sandbox.name("eph")
        try sandbox.create(name)
        let shared = sandbox.write("shared.txt", "from the host\n")
        let started = try Swrun.run(["copy", "-n", name, "-N", ephemeral, "-e", "-m", "bind=\(shared):/mnt/shared.txt:ro", "-P", sandbox.path])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(value("lxc.ephemeral", in: config(sandbox, ephemeral)) == "1")
        let seen = try Swrun.run(["attach", "-n", ephemeral, "-P", sandbox.path, "--", "sh", "-c", "cat /mnt/shared.txt; echo x >> /mnt/shared.txt || echo read-only"])
        #expect(seen.stdout == "from the host\nread-only\n", "\(seen.stderr)")
        #expect(try Swrun.run(["stop", "-k", "-n", ephemeral, "-P", sandbox.path]).status == 0)
        for _ in 0..<100 where FileManager.default.fileExists(atPath: "\(sandbox.path)/\(ephemeral)") { usleep(20_000) }
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(ephemeral)"))
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/lxc_snapshots"))
        let misuse = try Swrun.run(["copy", "-n", name, "-N", sandbox.name("x"), "-D", "-P", sandbox.path])
        #expect(misuse.status != 0 && misuse.stderr.contains("goes with -e"), "\(misuse.stderr)")
    }

    /// lxc-copy -e -t -m overlay=: the copy's changes on a tmpfs (none reach its directory on
    /// disk) and its writes to the host directory in an upper of its own; all gone at stop.
    @Test func anEphemeralCopyOnATmpfsWritesNothingToDisk() throws {
        let sandbox = try Sandbox(), name = sandbox.name("orig"), ephemeral = sandbox.name("tmp")
        try sandbox.create(name)
        let site = sandbox.path + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: false)
        _ = sandbox.write("site/index.html", "host page\n")
        let started = try Swrun.run(["copy", "-n", name, "-N", ephemeral, "-e", "-t", "-m", "overlay=\(site):/srv/www", "-P", sandbox.path])
        #expect(started.status == 0, "\(started.stderr)")
        let made = config(sandbox, ephemeral)
        let script = try #require(value("lxc.hook.pre-mount", in: made))
        #expect(script.hasPrefix("\(sandbox.path)/\(ephemeral)/pre-start-"))
        let entry = try #require(value("lxc.mount.entry", in: made))
        #expect(entry.hasPrefix("\(site) srv/www overlay lowerdir=\(site),upperdir=\(sandbox.path)/\(ephemeral)/delta#")
                && entry.hasSuffix(",create=dir"), "\(entry)")
        let seen = try Swrun.run(["attach", "-n", ephemeral, "-P", sandbox.path, "--", "sh", "-c",
                                  "hostname; cat /srv/www/index.html; echo mine > /srv/www/index.html; echo scratch > /scratch; cat /srv/www/index.html /scratch"])
        #expect(seen.stdout == "\(ephemeral)\nhost page\nmine\nscratch\n", "\(seen.stdout) \(seen.stderr)")
        #expect((try? String(contentsOfFile: site + "/index.html", encoding: .utf8)) == "host page\n", "the host's directory is the lower")
        let delta = "\(sandbox.path)/\(ephemeral)/overlay/delta"
        #expect(!FileManager.default.fileExists(atPath: delta + "/scratch"), "the changes are on the tmpfs")
        let uppers = try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.path)/\(ephemeral)").filter { $0.hasPrefix("delta#") }
        #expect(uppers.count == 1 && FileManager.default.fileExists(atPath: "\(sandbox.path)/\(ephemeral)/\(uppers[0])/index.html"))
        #expect(!(try hostMountInfo()).contains(sandbox.path), "the tmpfs is in the start's mount namespace only")
        #expect(try Swrun.run(["stop", "-k", "-n", ephemeral, "-P", sandbox.path]).status == 0)
        for _ in 0..<100 where FileManager.default.fileExists(atPath: "\(sandbox.path)/\(ephemeral)") { usleep(20_000) }
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(ephemeral)"))
        let kept = try Swrun.run(["copy", "-n", name, "-e", "-t", "-D", "-P", sandbox.path])
        #expect(kept.status != 0 && kept.stderr.contains("-t puts an ephemeral copy's changes on a tmpfs"), "\(kept.stderr)")
        let bad = try Swrun.run(["copy", "-n", name, "-e", "-m", "tmpfs=/x", "-P", sandbox.path])
        #expect(bad.status != 0 && bad.stderr.contains("neither bind= nor overlay="), "\(bad.stderr)")
    }

    /// lxc-copy -R: the directory, the paths in the config and the hostname follow the new
    /// name, the MAC addresses stay; LXC's tools see the new name only.
    @Test func aRenamedContainerIsFoundByItsNewNameOnly() throws {
        let sandbox = try Sandbox(), name = sandbox.name("old"), renamed = sandbox.name("new")
        let settings = sandbox.write("net.conf", "lxc.net.0.type = empty\nlxc.net.1.type = veth\nlxc.net.1.link = nobr0\nlxc.net.1.hwaddr = 00:16:3e:12:34:56\nlxc.console.logfile = \(sandbox.path)/\(name)/console.log\n")
        try sandbox.create(name, config: settings)
        #expect(try sandbox.execute(name, ["sh", "-c", "echo kept > /mark"], options: ["-s", "lxc.net.1.type=empty"]).status == 0)
        let result = try Swrun.run(["copy", "-R", "-n", name, "-N", renamed, "-P", sandbox.path])
        #expect(result.status == 0 && result.stdout == "Renamed container \(name) to \(renamed)\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
        let made = config(sandbox, renamed)
        #expect(value("lxc.rootfs.path", in: made) == "dir:\(sandbox.path)/\(renamed)/rootfs")
        #expect(value("lxc.uts.name", in: made) == renamed)
        #expect(value("lxc.console.logfile", in: made) == "\(sandbox.path)/\(renamed)/console.log")
        #expect(value("lxc.net.1.hwaddr", in: made) == "00:16:3e:12:34:56")
        let ran = try sandbox.execute(renamed, ["sh", "-c", "hostname; cat /etc/hostname /mark"], options: ["-s", "lxc.net.1.type=empty"])
        #expect(ran.stdout == "\(renamed)\n\(renamed)\nkept\n", "\(ran.stderr)")
        let gone = try Swrun.run(["info", "-n", name, "-P", sandbox.path])
        #expect(gone.status != 0)

        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: "/usr/bin/lxc-ls")
        listing.arguments = ["-P", sandbox.path, "-1"]
        #expect(try Swrun.runProcess(listing).stdout.split(separator: "\n") == [Substring(renamed)])
        let info = Process()
        info.executableURL = URL(fileURLWithPath: "/usr/bin/lxc-info")
        info.arguments = ["-P", sandbox.path, "-n", renamed, "-s"]
        let state = try Swrun.runProcess(info)
        #expect(state.status == 0 && state.stdout.contains("STOPPED"), "\(state.stdout) \(state.stderr)")
    }

    /// A renamed snapshot clone is still known by what it stands on; a container that clones
    /// stand on is not renamed (their configs name its files), as LXC refuses it too.
    @Test func renamingKeepsSnapshotDependencies() throws {
        let sandbox = try Sandbox(), name = sandbox.name("orig"), snapshot = sandbox.name("snap"), renamed = sandbox.name("moved")
        try sandbox.create(name)
        #expect(try Swrun.run(["copy", "-n", name, "-N", snapshot, "-s", "-P", sandbox.path]).status == 0)
        let refused = try Swrun.run(["copy", "-R", "-n", name, "-N", renamed, "-P", sandbox.path])
        #expect(refused.status != 0 && refused.stderr.contains("snapshot clones") && refused.stderr.contains(snapshot), "\(refused.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/config"))

        let moved = try Swrun.run(["copy", "-R", "-n", snapshot, "-N", renamed, "-P", sandbox.path])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(value("lxc.rootfs.path", in: config(sandbox, renamed)) == "overlay:\(sandbox.path)/\(name)/rootfs:\(sandbox.path)/\(renamed)/overlay/delta")
        #expect((try? String(contentsOfFile: "\(sandbox.path)/\(name)/lxc_snapshots", encoding: .utf8)) == "\(sandbox.path)\n\(renamed)\n")
        let ran = try sandbox.execute(renamed, ["hostname"])
        #expect(ran.stdout == renamed + "\n", "\(ran.stderr)")
        let mixed = try Swrun.run(["copy", "-R", "-n", renamed, "-N", snapshot, "-s", "-P", sandbox.path])
        #expect(mixed.status != 0 && mixed.stderr.contains("--snapshot does not go with -R"), "\(mixed.stderr)")
        #expect(try Swrun.run(["destroy", "-n", renamed, "-P", sandbox.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/lxc_snapshots"))
    }

    /// lxc-snapshot's layout and listing: swrun's snapshots are LXC's, restored in place (the
    /// snapshots stay) or as a new container, destroyed one by one, ALL, or with destroy -s.
    @Test func snapshotsAreTakenListedRestoredAndDestroyedAsLXCDoes() throws {
        let sandbox = try Sandbox(), name = sandbox.name("snapped")
        try sandbox.create(name)
        func swrun(_ words: [String]) throws -> Swrun.Result { try Swrun.run(["snapshot", "-n", name, "-P", sandbox.path] + words) }
        let note = sandbox.write("note.txt", "before the upgrade\n")
        #expect(try swrun(["-c", note]).stdout == "Created snapshot snap0 of \(name)\n")
        #expect(try sandbox.execute(name, ["sh", "-c", "echo v2 > /version"]).status == 0)
        #expect(try swrun([]).stdout == "Created snapshot snap1 of \(name)\n")
        let snaps = "\(sandbox.path)/\(name)/snaps"
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: snaps + "/snap0")) == ["config", "rootfs", "ts", "comment", "swrun.json"])
        #expect(try String(contentsOfFile: snaps + "/snap0/config", encoding: .utf8).contains("lxc.rootfs.path = dir:\(snaps)/snap0/rootfs"))

        let listed = try swrun(["-L", "-C"])
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0].hasPrefix("snap0 (\(snaps)) ") && lines[1] == "before the upgrade" && lines[2].hasPrefix("snap1 (\(snaps)) "), "\(listed.stdout)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/lxc-snapshot")
        process.arguments = ["-n", name, "-P", sandbox.path, "-L", "-C"]
        let lxc = try Swrun.runProcess(process)
        #expect(lxc.stdout == listed.stdout, "LXC lists the same: \(lxc.stdout) \(lxc.stderr)")

        #expect(try sandbox.execute(name, ["sh", "-c", "echo v3 > /version"]).status == 0)
        #expect(try swrun(["-r", "snap1"]).status == 0)
        #expect(try sandbox.execute(name, ["cat", "/version"]).stdout == "v2\n")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/.before-restore"))
        let older = sandbox.name("older")
        #expect(try swrun(["-r", "snap0", older]).status == 0)
        let restored = try sandbox.execute(older, ["sh", "-c", "test -e /version || hostname"])
        #expect(restored.stdout == name + "\n", "a snapshot keeps its container's hostname: \(restored.stderr)")

        let missing = try swrun(["-r", "snap7"])
        #expect(missing.status != 0 && missing.stderr.contains("has no snapshot 'snap7'"), "\(missing.stderr)")
        #expect(try swrun(["-d", "snap0"]).status == 0)
        #expect(try swrun(["-L"]).stdout.hasPrefix("snap1 "))
        let refused = try Swrun.run(["destroy", "-n", name, "-P", sandbox.path])
        #expect(refused.status != 0 && refused.stderr.contains("has snapshots: snap1"), "\(refused.stderr)")
        #expect(try swrun(["-d", "ALL"]).status == 0)
        #expect(try swrun(["-L"]).stdout == "No snapshots\n")
        #expect(try swrun([]).status == 0)
        #expect(try Swrun.run(["destroy", "-s", "-n", name, "-P", sandbox.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    /// docker export: the merged files, numeric owners kept; the same archive twice over; a
    /// running container without its /proc, /sys and /dev contents.
    @Test func exportWritesTheFilesAsTheContainerSeesThem() throws {
        let sandbox = try Sandbox(), name = sandbox.name("clone")
        _ = try overlayClone(sandbox, name)
        #expect(try sandbox.execute(name, ["sh", "-c", "echo hi > /marker; chown 1234:5678 /marker; rm /etc/hostname"]).status == 0)
        let first = sandbox.path + "/first.tar", second = sandbox.path + "/second.tar"
        for path in [first, second] {
            let exported = try Swrun.run(["export", name, "-P", sandbox.path, "-o", path])
            #expect(exported.status == 0, "\(exported.stderr)")
        }
        #expect(FileManager.default.contentsEqual(atPath: first, andPath: second), "an export is the same each time")
        let listing = try shell("tar --numeric-owner -tvf '\(first)'").stdout
        #expect(listing.contains("1234/5678") && listing.contains("./marker"), "\(listing)")
        #expect(listing.contains("./bin/busybox") && !listing.contains("./etc/hostname"), "the layers merged, the whiteout applied")
        #expect(!(try hostMountInfo()).contains(sandbox.path) && !FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/.export"))

        #expect(try Swrun.run(["start", "-n", name, "-P", sandbox.path]).status == 0)
        let live = sandbox.path + "/live.tar"
        let exported = try Swrun.run(["export", "-n", name, "-P", sandbox.path, "-o", live])
        #expect(exported.status == 0, "\(exported.stderr)")
        let entries = try shell("tar -tf '\(live)'").stdout.split(separator: "\n")
        #expect(entries.contains("./marker") && entries.contains("./proc/") && !entries.contains { $0.hasPrefix("./proc/") && $0 != "./proc/" }, "\(entries.count)")
        #expect(try Swrun.run(["stop", "-k", "-n", name, "-P", sandbox.path]).status == 0)
        let missing = try Swrun.run(["export", "nosuch", "-P", sandbox.path, "-o", sandbox.path + "/x.tar"])
        #expect(missing.status != 0 && !FileManager.default.fileExists(atPath: sandbox.path + "/x.tar.partial"))
    }

    func loopDevices(_ path: String) throws -> Int {
        try shell("losetup -a").stdout.components(separatedBy: path).count - 1
    }

    /// lxc-create -B loop: the rootfs an ext4 image in the container's directory, mounted as
    /// it starts (the host sees neither the mount nor a loop device after), read by LXC too;
    /// a copy copies the image.
    @Test func aLoopContainerLivesInAnImageFile() throws {
        let sandbox = try Sandbox(), name = sandbox.name("loop")
        let made = try Swrun.run(["create", "-n", name, "-t", "busybox", "-B", "loop", "--fssize", "48M", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(value("lxc.rootfs.path", in: config(sandbox, name)) == "loop:\(sandbox.path)/\(name)/rootdev")
        let image = try FileManager.default.attributesOfItem(atPath: "\(sandbox.path)/\(name)/rootdev")[.size] as? Int
        #expect(image == 48 << 20)
        let ran = try sandbox.execute(name, ["sh", "-c", "grep -c ' / ext4 ' /proc/mounts; echo inside > /mark"])
        #expect(ran.stdout == "1\n", "\(ran.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.path)/\(name)/rootfs").isEmpty)
        #expect(try loopDevices(sandbox.path) == 0 && !(try hostMountInfo()).contains(sandbox.path))
        let lxc = try lxcExecute(sandbox, name, ["cat", "/mark"])
        #expect(lxc.stdout == "inside\n", "LXC mounts it too: \(lxc.stderr)")
        let copy = sandbox.name("loopcopy")
        #expect(try Swrun.run(["copy", "-n", name, "-N", copy, "-P", sandbox.path]).status == 0)
        #expect(value("lxc.rootfs.path", in: config(sandbox, copy)) == "loop:\(sandbox.path)/\(copy)/rootdev")
        #expect(try sandbox.execute(copy, ["cat", "/mark"]).stdout == "inside\n")
        #expect(try Swrun.run(["destroy", "-n", copy, "-P", sandbox.path]).status == 0)
        #expect(try Swrun.run(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
        #expect(try loopDevices(sandbox.path) == 0)
        let bad = try Swrun.run(["create", "-n", sandbox.name("bad"), "-t", "busybox", "-B", "loop", "--fssize", "lots", "-P", sandbox.path])
        #expect(bad.status != 0 && bad.stderr.contains("--fssize lots is not a size"), "\(bad.stderr)")
    }

    /// lxc-create -B btrfs on a btrfs filesystem of the test's own (a loop image mounted in a
    /// mount namespace of its own): subvolumes, btrfs snapshots for copy -s, all removed by destroy.
    @Test func btrfsContainersAreSubvolumes() throws {
        let sandbox = try Sandbox(), name = sandbox.name("btrfs")
        let result = try shell("""
            set -e; cd '\(sandbox.path)'; truncate -s 160M btrfs.img; mkfs.btrfs -q btrfs.img >/dev/null
            unshare -m --propagation private sh -ec '
                mkdir fs; mount -o loop btrfs.img fs; S="\(Swrun.binary)"
                "$S" create -n \(name) -t busybox -B btrfs -P fs -f "\(sandbox.emptyConfig)" >/dev/null 2>&1
                sed -n "s/^lxc.rootfs.path = //p" fs/\(name)/config
                "$S" execute -n \(name) -P fs -- sh -c "echo one > /mark"
                "$S" copy -n \(name) -N snap -s -P fs >/dev/null 2>&1
                sed -n "s/^lxc.rootfs.path = //p" fs/snap/config
                btrfs subvolume list -o fs | sed "s/.* path //"
                "$S" execute -n snap -P fs -- cat /mark
                "$S" destroy -n \(name) -P fs >/dev/null; "$S" destroy -n snap -P fs >/dev/null
                echo left: $(btrfs subvolume list fs | wc -l) $(ls fs | wc -l)'
            rm btrfs.img
            """)
        #expect(result.stdout == "btrfs:\(sandbox.path)/fs/\(name)/rootfs\nbtrfs:\(sandbox.path)/fs/snap/rootfs\n\(name)/rootfs\nsnap/rootfs\none\nleft: 0 0\n", "\(result.stdout) \(result.stderr)")
        let refused = try Swrun.run(["create", "-n", name, "-t", "busybox", "-B", "btrfs", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(refused.status != 0 && refused.stderr.contains("needs \(sandbox.path) on a btrfs filesystem"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    /// lxc-create -B lvm and -B zfs: a volume group or pool that is not there (or the tools,
    /// here) is named, and nothing is left made.
    @Test func lvmAndZfsNameWhatIsMissing() throws {
        let sandbox = try Sandbox(), name = sandbox.name("volume")
        let lvm = try Swrun.run(["create", "-n", name, "-t", "busybox", "-B", "lvm", "--vgname", "swrun-test-no-vg", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(lvm.status != 0 && lvm.stderr.contains("-B lvm (the volume group swrun-test-no-vg, --vgname)"), "\(lvm.stderr)")
        let zfs = try Swrun.run(["create", "-n", name, "-t", "busybox", "-B", "zfs", "--zfsroot", "swrun-test-no-pool", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(zfs.status != 0 && zfs.stderr.contains("-B zfs (the dataset swrun-test-no-pool/\(name)"), "\(zfs.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
        let unknown = try Swrun.run(["create", "-n", name, "-t", "busybox", "-B", "rbd", "-P", sandbox.path])
        #expect(unknown.status != 0 && unknown.stderr.contains("LXC's rbd is not made by swrun"), "\(unknown.stderr)")
    }
}
