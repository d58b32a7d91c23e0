import SwrunSystem

/// AppArmor as LXC uses it: a container's processes change to a loaded profile as they
/// execve (lxc.apparmor.profile). swrun loads no profiles itself: LXC's `generated` ones are
/// built by LXC from its templates and apparmor_parser, which swrun does not run.
enum AppArmor {
    /// The kernel runs AppArmor: without it every lxc.apparmor key is moot, as LXC treats it.
    static func isEnabled(parameters: String = "/sys/module/apparmor/parameters/enabled") -> Bool {
        ((try? FileSystem.readText(parameters)) ?? "").hasPrefix("Y")
    }

    /// The per-thread file whose "exec PROFILE" takes effect at the next execve; the older
    /// generic attr file where the kernel has no AppArmor-specific directory.
    static let execAttribute = "/proc/thread-self/attr/apparmor/exec"
    static let legacyExecAttribute = "/proc/thread-self/attr/exec"

    /// What lxc.apparmor.profile asks of swrun on a host where AppArmor is `enabled`: a profile
    /// to change to on exec, or nil, with a warning where swrun cannot do what LXC would.
    static func execProfile(_ value: String?, enabled: Bool) -> (profile: String?, warning: String?) {
        guard enabled, let value, !value.isEmpty, value != "unconfined" else { return (nil, nil) }
        if value == "generated" {
            return (nil, "lxc.apparmor.profile = generated is not applied: swrun does not generate and load AppArmor profiles as LXC does; the container runs under swrun's own profile. Name a loaded profile (see /sys/kernel/security/apparmor/profiles), e.g. lxc-container-default-cgns, to confine it")
        }
        return (value, nil)
    }
}
