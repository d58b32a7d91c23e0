import CLinux
import Glibc
import SwrunSystem

/// A container's group in the resctrl filesystem (OCI linux.intelRdt): a directory whose
/// schemata file sets the cache ways and memory bandwidth of the processes in its tasks
/// file. A group named by closID may be shared by several containers: it is joined as it is,
/// and checked against the container's schemata, but only removed by whoever made it.
struct ResctrlGroup {
    static let defaultRoot = "/sys/fs/resctrl"
    /// statfs's f_type of a resctrl filesystem (RDTGROUP_SUPER_MAGIC).
    static let magic: UInt = 0x7655821

    let rdt: IntelRDT
    /// ROOT/NAME: the control group.
    let path: String
    /// ROOT/NAME/mon_groups/ID, with enableMonitoring.
    let monitoringPath: String?
    private let root: String

    init(_ rdt: IntelRDT, containerID: String, root: String = Self.defaultRoot) {
        self.rdt = rdt
        self.root = root
        path = FileSystem.join(root, rdt.closID ?? containerID)
        monitoringPath = rdt.monitoring ? FileSystem.join(FileSystem.join(path, "mon_groups"), containerID) : nil
    }

    /// Whether `root` is a resctrl filesystem (the host's CPU has RDT, and it is mounted).
    static func isMounted(_ root: String = defaultRoot) -> Bool {
        swrun_filesystem_type(root) == Int(magic)
    }

    /// Makes the group and its schemata, or joins the one of that closID (which must then have
    /// the same schemata); the monitoring group too. Returns the directories made, to remove
    /// at the end, oldest first. `requireMount`: false only for tests on a plain directory.
    func prepare(requireMount: Bool = true) throws(SwrunError) -> [String] {
        if requireMount && !Self.isMounted(root) {
            throw SwrunError(.missingDependency, "linux.intelRdt: this host has no resctrl filesystem at \(root)",
                             hint: "mount it (mount -t resctrl resctrl \(root)) on a CPU with RDT, or drop linux.intelRdt from config.json")
        }
        var made: [String] = []
        if FileSystem.isDirectory(path) {
            if rdt.setsSchemata { try requireSameSchemata() }
        } else {
            if rdt.closID != nil && !rdt.setsSchemata {
                throw SwrunError(.notFound, "linux.intelRdt.closID: the resctrl group \(path) does not exist",
                                 hint: "make it first, or give l3CacheSchema or memBwSchema for swrun to make it")
            }
            try FileSystem.makeDirectory(path)
            made.append(path)
            if rdt.setsSchemata {
                do { try writeSchemata() } catch {
                    rmdir(path)
                    throw error
                }
            }
        }
        if let monitoringPath, mkdir(monitoringPath, 0o755) == 0 {
            made.append(monitoringPath)
        } else if let monitoringPath, Errno.current != .fileExists {
            let error = Errno.current
            for directory in made.reversed() { rmdir(directory) }
            throw SwrunError.system("cannot make the resctrl monitoring group \(monitoringPath)", error)
        }
        return made
    }

    /// The tasks files a process joins (the group's, then its monitoring group's): writing a
    /// pid moves it, "0" the writer.
    var taskFiles: [String] {
        [FileSystem.join(path, "tasks")] + (monitoringPath.map { [FileSystem.join($0, "tasks")] } ?? [])
    }

    /// Puts process `pid` (and the children it makes from then on) in the group.
    func add(_ pid: pid_t) throws(SwrunError) {
        for file in taskFiles {
            try Self.write(file, String(pid), hint: "the container's resctrl group was removed meanwhile, or the kernel refused the move")
        }
    }

    /// Writes the container's schemata over the group's (update --l3-cache-schema ...).
    func writeSchemata() throws(SwrunError) {
        try Self.write(FileSystem.join(path, "schemata"), rdt.schemataText,
                       hint: "see \(FileSystem.join(root, "info/last_cmd_status")) for what the kernel disliked")
    }

    /// One write of `text` to a file of a group. O_CREAT: resctrl makes a group's files with
    /// it, so nothing is created there; a test's plain directory gets them made here.
    private static func write(_ path: String, _ text: String, hint: String) throws(SwrunError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        defer { if fd >= 0 { close(fd) } }
        let bytes = Array(text.utf8)
        guard fd >= 0, bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw SwrunError.system("cannot write '\(text.split(separator: "\n").joined(separator: " "))' to \(path)", Errno.current, hint: hint)
        }
    }

    /// A group that exists is joined only if each L3: and MB: line asked for says what its
    /// line says (domain=value pairs in any order, values compared as numbers).
    private func requireSameSchemata() throws(SwrunError) {
        let existing = ((try? FileSystem.readText(FileSystem.join(path, "schemata"))) ?? "").split(separator: "\n").map(String.init)
        let wanted = rdt.schemataText.split(separator: "\n").map(String.init).filter { $0.hasPrefix("L3:") || $0.hasPrefix("MB:") }
        for line in wanted {
            let resource = String(line.prefix { $0 != ":" })
            guard let current = existing.first(where: { String($0.prefix { $0 != ":" }).trimmingCharacters(in: " ") == resource }),
                  Self.domains(current) == Self.domains(line) else {
                throw SwrunError(.busy, "linux.intelRdt: the resctrl group \(path) exists with other \(resource) schemata than the container's",
                                 hint: "give the container the group's schemata, or another closID")
            }
        }
    }

    /// "L3:0=ffff;1=3ff" as [0: 0xffff, 1: 0x3ff].
    static func domains(_ line: String) -> [Int: UInt64]? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        var result: [Int: UInt64] = [:]
        for part in line[line.index(after: colon)...].split(separator: ";") {
            let pair = part.split(separator: "=")
            guard pair.count == 2, let domain = Int(String(pair[0]).trimmingCharacters(in: " ")),
                  let value = UInt64(String(pair[1]).trimmingCharacters(in: " "), radix: 16) else { return nil }
            result[domain] = value
        }
        return result
    }
}
