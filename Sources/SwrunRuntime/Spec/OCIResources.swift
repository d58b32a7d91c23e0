import SwrunCgroups
import SwrunJSON
import SwrunSeccomp
import SwrunSystem

/// linux.resources (config.json, and `update --resources`): cgroup limits and the device
/// policy, in swrun's terms (v2 keys, written as v1 files on a v1 host).
enum OCIResources {
    static func read(_ value: JSONValue?, in document: OCIDocument, key: String) throws(SwrunError) -> ResourceSpec {
        var spec = ResourceSpec()
        guard let value else {
            spec.devicePolicy.allowStandardNodes()
            return spec
        }
        func number(_ path: String) throws(SwrunError) -> Int64? {
            var item: JSONValue? = value
            for part in path.split(separator: ".") { item = item?[String(part)] }
            return try document.number(item, "\(key).\(path)", as: Int64.self)
        }
        func set(v2 name: String, _ text: String, from path: String) throws(SwrunError) {
            do { try spec.limits.set(v2: name, text, origin: "\(key).\(path)") } catch {
                throw document.error("\(key).\(path)", error.message, hint: error.hint ?? "see the runtime-spec's linux.resources")
            }
        }
        func set(v1 name: String, _ text: String, from path: String) throws(SwrunError) {
            do { try spec.limits.set(v1: name, text, origin: "\(key).\(path)") } catch {
                throw document.error("\(key).\(path)", error.message, hint: error.hint ?? "see the runtime-spec's linux.resources")
            }
        }
        if let limit = try number("memory.limit") { try set(v2: "memory.max", limit < 0 ? "max" : String(limit), from: "memory.limit") }
        if let reservation = try number("memory.reservation") { try set(v2: "memory.low", reservation < 0 ? "max" : String(reservation), from: "memory.reservation") }
        if let limit = try number("pids.limit") { try set(v2: "pids.max", limit <= 0 ? "max" : String(limit), from: "pids.limit") }
        func exact(_ controller: String, v1: String?, v2: String? = nil, _ value: String, v2Value: String? = nil, replacing key: String? = nil) {
            spec.limits.setExact(.init(v1: v1.map { CgroupWrite(controller: controller, file: $0, value: value) },
                                       v2: v2.map { CgroupWrite(controller: controller == "blkio" ? "io" : controller, file: $0, value: v2Value ?? value) }),
                                 replacing: key)
        }
        // Shares go to a v1 host exactly as given (a round trip through a v2 weight would change them).
        if let shares = try number("cpu.shares"), shares > 0 {
            try set(v1: "cpu.shares", String(shares), from: "cpu.shares")
            exact("cpu", v1: "cpu.shares", v2: "cpu.weight", String(shares), v2Value: spec.limits.values["cpu.weight"], replacing: "cpu.weight")
        }
        for (field, file) in [("realtimeRuntime", "cpu.rt_runtime_us"), ("realtimePeriod", "cpu.rt_period_us")] {
            if let value = try number("cpu.\(field)"), value != 0 { exact("cpu", v1: file, String(value)) }
        }
        if let limit = try number("memory.limit"), let swap = try number("memory.swap"), swap != 0 {
            // OCI's swap is memory and swap together, as v1's memsw; v2's swap.max is the swap alone.
            exact("memory", v1: "memory.memsw.limit_in_bytes", v2: "memory.swap.max", String(swap),
                  v2Value: swap < 0 ? "max" : String(max(0, swap - max(limit, 0))))
        }
        if let swappiness = try number("memory.swappiness"), swappiness >= 0, swappiness <= 100 {
            exact("memory", v1: "memory.swappiness", String(swappiness))
        }
        // v1's TCP buffer limit still works; its kernel memory limit does not (see unapplied).
        if let kernelTCP = try number("memory.kernelTCP"), kernelTCP != 0 { exact("memory", v1: "memory.kmem.tcp.limit_in_bytes", String(kernelTCP)) }
        if value["memory"]?["disableOOMKiller"]?.bool == true { exact("memory", v1: "memory.oom_control", "1") }
        if let weight = try number("blockIO.weight"), weight > 0 { exact("blkio", v1: "blkio.weight", v2: "io.weight", String(weight)) }
        for (index, item) in (value["hugepageLimits"]?.array ?? []).enumerated() {
            guard let size = item["pageSize"]?.string, let limit = try document.number(item["limit"], "\(key).hugepageLimits[\(index)].limit", as: UInt64.self) else { continue }
            exact("hugetlb", v1: "hugetlb.\(size).limit_in_bytes", v2: "hugetlb.\(size).max", String(limit))
        }
        if let classID = try number("network.classID") { exact("net_cls", v1: "net_cls.classid", String(classID)) }
        for (index, item) in (value["network"]?["priorities"]?.array ?? []).enumerated() {
            guard let name = item["name"]?.string, let priority = try document.number(item["priority"], "\(key).network.priorities[\(index)].priority", as: UInt32.self) else { continue }
            exact("net_prio", v1: "net_prio.ifpriomap", "\(name) \(priority)")
        }
        if let period = try number("cpu.period"), period > 0 { try set(v1: "cpu.cfs_period_us", String(period), from: "cpu.period") }
        if let quota = try number("cpu.quota"), quota != 0 { try set(v1: "cpu.cfs_quota_us", String(quota), from: "cpu.quota") }
        for (field, name) in [("cpus", "cpuset.cpus"), ("mems", "cpuset.mems")] {
            if let text = value["cpu"]?[field]?.string, !text.isEmpty { try set(v2: name, text, from: "cpu.\(field)") }
        }
        for (name, item) in (value["unified"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let text = item.string else { throw document.error("\(key).unified.\(name)", "is not a string", hint: "write the file's value in quotes") }
            try set(v2: name, text, from: "unified.\(name)")
        }
        for (index, item) in (value["devices"]?.array ?? []).enumerated() {
            let itemKey = "\(key).devices[\(index)]"
            guard let allow = item["allow"]?.bool else { throw document.error(itemKey + ".allow", "is missing", hint: "true or false") }
            let type = item["type"]?.string ?? "a"
            let major = try document.number(item["major"], itemKey + ".major", as: Int64.self)
            let minor = try document.number(item["minor"], itemKey + ".minor", as: Int64.self)
            let access = item["access"]?.string ?? "rwm"
            let rule = type == "a" && major == nil && minor == nil && access == "rwm"
                ? "a" : "\(type) \(major.map { $0 < 0 ? "*" : String($0) } ?? "*"):\(minor.map { $0 < 0 ? "*" : String($0) } ?? "*") \(access)"
            do { try spec.devicePolicy.add(rule, allow: allow) } catch {
                throw document.error(itemKey, error.message, hint: error.hint ?? "type a, c or b; access of r, w, m")
            }
        }
        spec.devicePolicy.allowStandardNodes()
        return spec
    }

    /// The fields of linux.resources that swrun reads but cannot apply on this host, for a warning.
    static func unapplied(_ value: JSONValue?) -> [String] {
        guard let value else { return [] }
        var fields: [String] = []
        // The kernel took kernel memory limits away (Linux 6.0 ignores them), as crun does.
        for field in ["kernel"] where value["memory"]?[field].map({ !$0.isNull }) == true {
            fields.append("memory.\(field)")
        }
        for field in ["burst", "idle"] where value["cpu"]?[field].map({ !$0.isNull }) == true {
            fields.append("cpu.\(field)")
        }
        for field in ["weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice", "leafWeight"]
            where value["blockIO"]?[field].map(OCIDocument.isSet) == true {
            fields.append("blockIO.\(field)")
        }
        if value["rdma"].map(OCIDocument.isSet) == true { fields.append("rdma") }
        return fields
    }
}

/// linux.seccomp as a filter swrun compiles itself: named calls (unknown names skipped, as
/// libseccomp skips calls an architecture lacks), 64-bit argument conditions, OCI's actions.
enum OCISeccomp {
    static func filter(_ value: JSONValue, in document: OCIDocument, linux32: Bool) throws(SwrunError) -> SeccompFilter? {
        let key = "linux.seccomp"
        let defaultErrno = try document.number(value["defaultErrnoRet"], key + ".defaultErrnoRet", as: UInt16.self)
        guard let defaultName = value["defaultAction"]?.string else {
            throw document.error(key + ".defaultAction", "is missing", hint: "for example SCMP_ACT_ERRNO")
        }
        let defaultAction = try action(defaultName, errno: defaultErrno, key: key + ".defaultAction", document: document)
        if defaultAction == .notify {
            // As runc: every call, sendmsg of the notify fd included, would wait for the listener.
            throw document.error(key + ".defaultAction", "cannot be SCMP_ACT_NOTIFY", hint: "notify on the calls named in linux.seccomp.syscalls")
        }
        for (index, flag) in (value["flags"]?.array ?? []).enumerated() {
            let name = flag.string ?? ""
            // The filter is loaded before the command runs, in a single-threaded process: TSYNC changes nothing.
            guard ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"].contains(name) else {
                throw document.error("\(key).flags[\(index)]", "'\(name)' is not a seccomp flag swrun knows", hint: "drop it")
            }
        }
        var rules: [SeccompFilter.Rule] = []
        for (index, item) in (value["syscalls"]?.array ?? []).enumerated() {
            let itemKey = "\(key).syscalls[\(index)]"
            guard let actionName = item["action"]?.string else { throw document.error(itemKey + ".action", "is missing", hint: "for example SCMP_ACT_ALLOW") }
            let ruleAction = try action(actionName, errno: try document.number(item["errnoRet"], itemKey + ".errnoRet", as: UInt16.self) ?? defaultErrno,
                                        key: itemKey + ".action", document: document)
            var conditions: [SeccompFilter.ArgumentCondition] = []
            for (position, argument) in (item["args"]?.array ?? []).enumerated() {
                let argumentKey = "\(itemKey).args[\(position)]"
                guard let index = try document.number(argument["index"], argumentKey + ".index", as: Int.self), (0..<6).contains(index) else {
                    throw document.error(argumentKey + ".index", "must be 0 to 5", hint: "a system call has six arguments")
                }
                guard let opName = argument["op"]?.string, let operation = operations[opName] else {
                    throw document.error(argumentKey + ".op", "'\(argument["op"]?.string ?? "")' is not a comparison", hint: "use SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ")
                }
                conditions.append(.init(index: index, operation: operation,
                                        value: try document.number(argument["value"], argumentKey + ".value", as: UInt64.self) ?? 0,
                                        valueTwo: try document.number(argument["valueTwo"], argumentKey + ".valueTwo", as: UInt64.self) ?? 0))
            }
            for name in try document.strings(item["names"], itemKey + ".names") {
                guard let number = SeccompFilter.number(ofCall: name) else { continue }
                rules.append(.init(name: name, number: number, action: ruleAction, conditions: conditions))
            }
        }
        var filter = SeccompFilter(defaultAction: defaultAction, rules: rules)
        let architectures = try document.strings(key + ".architectures")
        if linux32 || architectures.contains("SCMP_ARCH_X86") {
            guard let both = filter.judgingI386Calls() else { throw document.error(key, "cannot be applied to i386 calls", hint: "drop SCMP_ARCH_X86") }
            filter = both
        }
        guard filter.program.count <= ProcessProfile.maxFilterInstructions else {
            throw document.error(key, "makes a filter of \(filter.program.count) instructions; the kernel takes \(ProcessProfile.maxFilterInstructions)",
                                 hint: "name fewer calls")
        }
        return filter
    }

    static let operations: [String: SeccompFilter.ArgumentCondition.Operation] = [
        "SCMP_CMP_NE": .notEqual, "SCMP_CMP_LT": .lessThan, "SCMP_CMP_LE": .lessOrEqual, "SCMP_CMP_EQ": .equal,
        "SCMP_CMP_GE": .greaterOrEqual, "SCMP_CMP_GT": .greaterThan, "SCMP_CMP_MASKED_EQ": .maskedEqual,
    ]

    /// The listener of a filter with SCMP_ACT_NOTIFY rules: both or neither.
    static func listener(_ value: JSONValue, filter: SeccompFilter?, in document: OCIDocument) throws(SwrunError) -> String? {
        let path = try document.string(value["listenerPath"], "linux.seccomp.listenerPath").flatMap { $0.isEmpty ? nil : $0 }
        let notifies = filter?.rules.contains { $0.action == .notify } == true
        if notifies && path == nil {
            throw document.error("linux.seccomp.listenerPath", "is missing, but SCMP_ACT_NOTIFY rules need a listener", hint: "give the agent's socket path, or use SCMP_ACT_ERRNO")
        }
        return notifies ? path.map(FileSystem.absolutePath) : nil
    }

    private static func action(_ name: String, errno: UInt16?, key: String, document: OCIDocument) throws(SwrunError) -> SeccompAction {
        switch name {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errno ?? 1)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .killThread
        case "SCMP_ACT_KILL_PROCESS": return .kill
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_TRACE": return .trace(errno ?? 38)
        case "SCMP_ACT_NOTIFY": return .notify
        default:
            throw document.error(key, "'\(name)' is not a seccomp action", hint: "use SCMP_ACT_ALLOW, ERRNO, KILL, KILL_PROCESS, TRAP, LOG or TRACE")
        }
    }
}
