import SwrunJSON
import SwrunSeccomp
import SwrunSystem

/// What `features` reports (runtime-spec features.md) and what `spec` writes: both say what
/// this runtime does, so they live together.
public enum OCIFeatures {
    public static var document: JSONValue {
        let capabilities = (0...Capabilities.lastCapability).map { JSONValue.string("CAP_" + Capabilities.name($0).uppercased()) }
        return [
            "ociVersionMin": "1.0.0",
            "ociVersionMax": .string(OCIContainer.specVersion),
            "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            "mountOptions": .array(mountOptions.map { .string($0) }),
            "linux": [
                "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
                "capabilities": .array(capabilities),
                "cgroup": ["v1": true, "v2": true, "systemd": false, "systemdUser": false],
                "seccomp": [
                    "enabled": true,
                    "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
                    "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                    "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
                ],
                "apparmor": ["enabled": .bool(AppArmor.isEnabled())],
                "selinux": ["enabled": false],
                "mountExtensions": ["idmap": ["enabled": true]],
                "intelRdt": ["enabled": true],
            ],
            "annotations": ["org.opencontainers.runtime-spec.features.runtime": "swrun"],
        ]
    }

    static let mountOptions = ["async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "lazytime", "mand",
                               "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid",
                               "nosymfollow", "private", "rbind", "relatime", "remount", "ridmap", "ro", "rprivate", "rshared", "rslave",
                               "rro", "rrw", "runbindable", "rw", "shared", "slave", "strictatime", "suid", "sync", "unbindable"]

    /// A config.json to start a bundle from: `sh` in ./rootfs, the usual mounts, namespaces
    /// and capabilities, as runc's own `spec` writes it.
    public static var defaultSpec: JSONValue {
        let capabilities: JSONValue = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        return [
            "ociVersion": .string(OCIContainer.specVersion),
            "process": [
                "terminal": true, "user": ["uid": 0, "gid": 0], "args": ["sh"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                "cwd": "/",
                "capabilities": ["bounding": capabilities, "effective": capabilities, "permitted": capabilities, "ambient": capabilities],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]],
                "noNewPrivileges": true,
            ],
            "root": ["path": "rootfs", "readonly": true],
            "hostname": "swrun",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc"],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                ["destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
                ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]],
            ],
            "linux": [
                "resources": ["devices": [["allow": false, "access": "rwm"]]],
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"]],
                "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ],
        ]
    }
}
