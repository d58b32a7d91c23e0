import SwrunJSON
import SwrunSystem

/// process.ioPriority, process.scheduler and process.execCPUAffinity, each checked here as
/// far as the kernel's rules can be known before it runs (the kernel has the last word).
extension OCIProcess {
    func ioPriority() throws(SwrunError) -> IOPriority? {
        guard let item = value["ioPriority"], !item.isNull else { return nil }
        let key = "\(self.key).ioPriority"
        let className = item["class"]?.string ?? ""
        guard let ioClass = IOPriority.Class(name: className) else {
            throw document.error(key + ".class", "'\(className)' is not an I/O class", hint: "use IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE")
        }
        guard let level = try document.number(item["priority"], key + ".priority", as: Int32.self), (0...7).contains(level) else {
            throw document.error(key + ".priority", "must be a level from 0 (highest) to 7 (lowest)", hint: "for example 4, the kernel's default")
        }
        return IOPriority(ioClass: ioClass, level: level)
    }

    func scheduler() throws(SwrunError) -> SchedulerSettings? {
        guard let item = value["scheduler"], !item.isNull else { return nil }
        let key = "\(self.key).scheduler"
        let policyName = item["policy"]?.string ?? ""
        guard let policy = SchedulerSettings.Policy(name: policyName) else {
            throw document.error(key + ".policy", "'\(policyName)' is not a policy",
                                 hint: "use one of " + SchedulerSettings.Policy.allCases.filter { $0 != .iso }.map(\.name).joined(separator: ", "))
        }
        if policy == .iso {
            throw document.error(key + ".policy", "SCHED_ISO is reserved: Linux has no such scheduler", hint: "use SCHED_OTHER, SCHED_BATCH or SCHED_IDLE")
        }
        var settings = SchedulerSettings(policy: policy)
        settings.nice = try document.number(item["nice"], key + ".nice", as: Int32.self) ?? 0
        guard (-20...19).contains(settings.nice) else {
            throw document.error(key + ".nice", "\(settings.nice) is not a nice value", hint: "use -20 (most favoured) to 19 (least)")
        }
        settings.priority = try document.number(item["priority"], key + ".priority", as: UInt32.self) ?? 0
        if policy.isRealTime && !(1...99).contains(settings.priority) {
            throw document.error(key + ".priority", "must be 1 to 99 for \(policy.name)", hint: "give the real-time priority, e.g. 10")
        }
        if !policy.isRealTime && settings.priority != 0 {
            throw document.error(key + ".priority", "must be 0 for \(policy.name): only SCHED_FIFO and SCHED_RR take a static priority", hint: "drop it, or use nice")
        }
        for (index, flag) in (try document.strings(item["flags"], key + ".flags")).enumerated() {
            guard let bit = SchedulerSettings.flagNames.first(where: { $0.name == flag })?.bit else {
                throw document.error("\(key).flags[\(index)]", "'\(flag)' is not a scheduling flag",
                                     hint: "use " + SchedulerSettings.flagNames.map(\.name).joined(separator: ", "))
            }
            settings.flags |= bit
        }
        settings.runtime = try document.number(item["runtime"], key + ".runtime", as: UInt64.self) ?? 0
        settings.deadline = try document.number(item["deadline"], key + ".deadline", as: UInt64.self) ?? 0
        settings.period = try document.number(item["period"], key + ".period", as: UInt64.self) ?? 0
        if policy == .deadline {
            // sched(7): runtime <= deadline <= period, a period of 0 standing for the deadline.
            let period = settings.period == 0 ? settings.deadline : settings.period
            guard settings.runtime > 0, settings.runtime <= settings.deadline, settings.deadline <= period else {
                throw document.error(key, "needs runtime <= deadline <= period for SCHED_DEADLINE (\(settings.runtime), \(settings.deadline), \(settings.period))",
                                     hint: "give them in nanoseconds, e.g. runtime 10000000, deadline 30000000, period 30000000")
            }
        }
        return settings
    }

    func execCPUAffinity() throws(SwrunError) -> ExecCPUAffinity? {
        guard let item = value["execCPUAffinity"], !item.isNull else { return nil }
        let key = "\(self.key).execCPUAffinity"
        func list(_ field: String) throws(SwrunError) -> CPUList? {
            guard let text = try document.string(item[field], key + "." + field), !text.isEmpty else { return nil }
            guard let list = CPUList(text) else {
                throw document.error(key + "." + field, "'\(text)' is not a CPU list", hint: "write CPU numbers and ranges below \(CPUList.maxCPUs), e.g. \"0-3,7\"")
            }
            return list
        }
        let affinity = ExecCPUAffinity(initial: try list("initial"), final: try list("final"))
        return affinity.initial == nil && affinity.final == nil ? nil : affinity
    }
}
