#!/bin/bash
# Drives real container engines (podman, containerd's ctr, dockerd) with an OCI runtime that
# has runc's command line, and prints TAP: `ok N - ...` / `not ok N - ...`, exit 1 if any failed.
# Checked with crun, runc and swrun-oci (swrun under that name: `make oci-test`).
# Usage (as root): scripts/oci-engines.sh RUNTIME_BINARY      Packages: install-deps.sh oci
#
# Hermetic: the engines run in private mount, network, pid and cgroup namespaces (unshare
# -Cmnp), with every root, state dir, socket, config and the registry's storage in one
# mktemp -d directory on a /tmp that only they see (a tmpfs, as are their /run and
# /sys/fs/cgroup). When the script inside ends, the kernel ends every process left in its pid
# namespace, containers included. The containers' cgroups go below one cgroup per hierarchy,
# oci-engines-PID under this shell's own, which the host side checks empty and removes.
# Env: OCI_ENGINES_KEEP=1 leaves the engines' logs in the host's /tmp/oci-engines-PID-logs.
set -eu

die() { echo "$0: $*" >&2; exit 2; }
# Waits up to 5 s for a process to be gone (reaped, not a zombie).
wait_gone() { for _ in $(seq 50); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done; }

# ---------------------------------------------------------------------------------------
# Host side: the test cgroups, the namespace, and the cleanup after it.
# ---------------------------------------------------------------------------------------
if [ "${1:-}" != --inside ]; then
  [ $# -eq 1 ] || die "usage: $0 RUNTIME_BINARY"
  [ "$(id -u)" -eq 0 ] || die "needs root"
  runtime=$(command -v "$1") || die "$1: not found"
  # Absolute, but not through its last link: swrun answers as an OCI runtime under the name swrun-oci.
  runtime=$(cd "$(dirname "$runtime")" && pwd -P)/$(basename "$runtime")
  for tool in podman /usr/lib/podman/netavark containerd ctr dockerd docker docker-registry skopeo \
              busybox unshare curl iptables /usr/bin/python3; do
    command -v "$tool" >/dev/null || die "$tool missing: run scripts/install-deps.sh oci"
  done
  name=oci-engines-$$

  # One cgroup per hierarchy below our own, as "MOUNTPOINT KEY OWN-PATH" lines; KEY is the
  # hierarchy's name in /proc/self/cgroup (controllers, name=systemd, or - for cgroup2).
  # (mountinfo: the file system type follows the "-" after the optional fields.)
  hierarchies=$(awk '{ i = 7; while ($i != "-") i++; t = $(i + 1) }
                     t == "cgroup" || t == "cgroup2" { print $5, t, $NF }' /proc/self/mountinfo |
    while read -r mnt fstype opts; do
      if [ "$fstype" = cgroup2 ]; then key=""
      else key=$(echo "$opts" | tr , '\n' | grep -Ev '^(rw|ro|clone_children|noprefix|xattr|cpuset_v2_mode)$|^release_agent=' | paste -sd,)
      fi
      own=$(awk -F: -v k="$key" '$2 == k { print $3 }' /proc/self/cgroup)
      if [ -n "$own" ]; then echo "$mnt ${key:--} ${own%/}"; fi
    done)
  [ -n "$hierarchies" ] || die "no cgroup hierarchies found"
  cgroups=()
  while read -r mnt _ own; do
    dir=$mnt$own/$name
    mkdir "$dir"
    cgroups+=("$dir")
    # A v1 cpuset cgroup takes no task until it has cpus and mems.
    [ -e "$dir/cpuset.cpus" ] && cat "$mnt$own/cpuset.cpus" > "$dir/cpuset.cpus" && cat "$mnt$own/cpuset.mems" > "$dir/cpuset.mems"
  done <<< "$hierarchies"

  cleanup() {
    set +e
    # The pid namespace's end took every process in it; anything that still is in our
    # cgroups (it would have escaped that namespace) is ours all the same: end it.
    local pids killed="" pid
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pids=$(cat $(find "${cgroups[@]}" -name cgroup.procs) 2>/dev/null | sort -u)
      [ -z "$pids" ] && break
      echo "# ending leftover processes:" $(for pid in $pids; do echo "$pid:$(cat /proc/$pid/comm 2>/dev/null)"; done) >&2
      kill -9 $pids 2>/dev/null
      killed="$killed $pids"
      sleep 0.3
    done
    # Until their parent (init, for a daemon) has reaped them.
    for pid in $killed; do wait_gone "$pid"; done
    # Deepest first, once each: rmdir removes the (empty) cgroup directories only.
    find "${cgroups[@]}" -depth -type d -exec rmdir {} + 2>/dev/null
    for dir in "${cgroups[@]}"; do [ -d "$dir" ] && echo "# cgroup left: $dir" >&2; done
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  # The namespaces' first process goes into the test cgroups, so that its cgroup namespace
  # starts there: `sh -c` moves itself before exec. --fork: the script inside is the pid
  # namespace's init, the reaper of the daemons that the engines start.
  procs=""
  for dir in "${cgroups[@]}"; do procs="$procs $dir/cgroup.procs"; done
  status=0
  sh -c 'for f in $1; do echo $$ > "$f"; done; shift; exec "$@"' sh "$procs" \
    unshare -Cmnp --fork --mount-proc --propagation private -- "$0" --inside "$runtime" "$name" "$hierarchies" || status=$?
  exit $status
fi

# ---------------------------------------------------------------------------------------
# Inside the namespace.
# ---------------------------------------------------------------------------------------
runtime=$2 name=$3 hierarchies=$4

# Private tmpfs for /tmp (conmon's console sockets go there whatever TMPDIR says) and /run
# (the engines' default sockets and state, /run/netns, xtables.lock); sysfs again, so that
# /sys/class/net shows this namespace's links (netavark reads it); the cgroup hierarchies
# again, so that their root is the test cgroup. fd 9 keeps the host's /tmp for the logs.
exec 9</tmp
# The runtime may live below the /tmp about to be hidden (a checkout in /tmp): fd 8 keeps it.
exec 8<"$runtime"
mount -t tmpfs -o mode=1777 oci-engines-tmp /tmp
mount -t tmpfs -o mode=0755 oci-engines-run /run
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
# (Written for this hybrid v1 host; a pure cgroup2 host would need the test cgroup's
# processes in a leaf before the engines enable controllers below it.)
while read -r mnt key _; do
  mkdir -p "$mnt"
  if [ "$key" = - ]; then mount -t cgroup2 cgroup2 "$mnt"; else mount -t cgroup -o "$key" cgroup "$mnt"; fi
done <<< "$hierarchies"
ip link set lo up

# Everything the engines write lives in $T.
T=$(mktemp -d /tmp/oci-engines.XXXXXX)
# A copy under the name it was given (swrun answers to swrun-oci), wherever it came from.
mkdir -p "$T/bin"
cat /proc/self/fd/8 > "$T/bin/${runtime##*/}"
exec 8<&-
chmod 755 "$T/bin/${runtime##*/}"
runtime=$T/bin/${runtime##*/}
export T runtime
mkdir -p "$T/log" "$T/tmp"
# Temporary files too (containerd-shim's exec process.json, ...).
export TMPDIR=$T/tmp
pids_to_stop=()
finish() {
  set +e
  # The daemons we started, by pid, so that they shut down in order; whatever is left
  # (shims, containers) ends with the pid namespace.
  podman_cmd rm -af -t 0 >/dev/null 2>&1
  for pid in "${pids_to_stop[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids_to_stop[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [ "${OCI_ENGINES_KEEP:-}" = 1 ]; then
    mkdir -p "/dev/fd/9/$name-logs" && cp -r "$T/log/." "/dev/fd/9/$name-logs/"
    echo "# logs kept in /tmp/$name-logs"
  fi
  # The namespace's mounts (tmpfs, overlays, cgroups) go with it; unmount what the engines
  # mounted under $T first anyway, deepest first, so that none outlives a lingering process.
  awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
  rm -rf "$T"
}
trap finish EXIT

# ---- TAP ----
n=0 failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
  n=$((n + 1)) failed=$((failed + 1))
  echo "not ok $n - $1"
  [ -s "$T/log/last" ] && tail -n 15 "$T/log/last" | sed 's/^/#   /'
  return 0
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# attempt COMMAND...: runs COMMAND (an exported function too) for up to 2 minutes, with its
# stdout and stderr in $T/log/last.
attempt() { timeout 120 bash -c '"$@"' attempt "$@" > "$T/log/last" 2>&1 </dev/null; }
# expect DESCRIPTION WANTED COMMAND...: ok when COMMAND succeeds and its output has the line WANTED.
expect() {
  local desc=$1 want=$2; shift 2
  if attempt "$@" && grep -qxF -- "$want" "$T/log/last"; then
    pass "$desc"
  else
    echo "(wanted the line: $want)" >> "$T/log/last"
    fail "$desc"
  fi
}
# run_ok DESCRIPTION COMMAND...: ok when COMMAND succeeds.
run_ok() {
  local desc=$1; shift
  if attempt "$@"; then pass "$desc"; else fail "$desc"; fi
}
# Waits up to $1 tenths of a second for a command to succeed.
wait_for() {
  local tries=$1; shift
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

echo "# runtime: $runtime ($("$runtime" --version 2>&1 | head -n1))"

# ---------------------------------------------------------------------------------------
# The image: busybox with its applet links, made into an OCI layout by hand, pushed to a
# local docker-registry, so that every engine pulls it the way it pulls any image.
# ---------------------------------------------------------------------------------------
rootfs=$T/image/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,www}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
# --install writes absolute links (/bin/sh -> /bin/busybox): they resolve inside the container.
chroot "$rootfs" /bin/busybox --install -s
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
echo served-by-busybox > "$rootfs/www/index.html"

layout=$T/image/layout
mkdir -p "$layout/blobs/sha256"
# Stores stdin as a blob; prints "DIGEST SIZE".
blob() {
  local tmp=$layout/blob.tmp sum
  cat > "$tmp"
  sum=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$layout/blobs/sha256/$sum"
  echo "sha256:$sum $(stat -c %s "$layout/blobs/sha256/$sum")"
}
read -r layer layer_size < <(tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | blob)
read -r config config_size < <(printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["'"$layer"'"]}}' | blob)
read -r manifest manifest_size < <(printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'"$config"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"'"$layer"'","size":'"$layer_size"'}]}' | blob)
printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'"$manifest"'","size":'"$manifest_size"',"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' > "$layout/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"

# The registry: plain HTTP on this namespace's loopback.
registry=127.0.0.1:5000
IMAGE=$registry/oci-engines/busybox:latest
mkdir -p "$T/registry/storage"
cat > "$T/registry/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $T/registry/storage}}
http: {addr: $registry}
EOF
docker-registry serve "$T/registry/config.yml" > "$T/log/registry.log" 2>&1 &
pids_to_stop+=($!)
wait_for 100 curl -sf "http://$registry/v2/" || echo "# registry did not answer"
# Docker schema 2 with a gzip layer: the format every engine here pulls.
run_ok "image: busybox OCI layout pushed to the local registry" \
  skopeo copy --insecure-policy --format v2s2 --dest-tls-verify=false "oci:$layout:latest" "docker://$IMAGE"

# ---------------------------------------------------------------------------------------
# podman, rootful, with the runtime named by path; cgroupfs, file events, no systemd.
# ---------------------------------------------------------------------------------------
P=$T/podman
mkdir -p "$P"/{root,runroot,tmp,networks,volumes}
# Without CAP_SYS_RESOURCE (root here lacks it) the runtime cannot raise a hard rlimit, and
# podman's defaults (nofile 1048576, ...) would fail in its setrlimit; so containers get the
# limits the runtime inherits: our hard nofile, and for nproc the lower of our hard limit and
# pid_max, which podman gives conmon as its RLIMIT_NPROC.
ulimits=""
cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
if (( (0x$cap_eff >> 24 & 1) == 0 )); then
  nproc=$(ulimit -Hu) pid_max=$(cat /proc/sys/kernel/pid_max)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ] && nproc=$pid_max
  ulimits="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=$nproc:$nproc"
  echo "# no CAP_SYS_RESOURCE: podman runs with $ulimits"
fi
cat > "$P/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/log/podman-events.log"
tmp_dir = "$P/tmp"
volume_path = "$P/volumes"
[network]
network_backend = "netavark"
network_config_dir = "$P/networks"
EOF
cat > "$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF
cat > "$P/registries.conf" <<EOF
unqualified-search-registries = []
[[registry]]
location = "$registry"
insecure = true
EOF
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf \
       CONTAINERS_REGISTRIES_CONF=$P/registries.conf
export P ulimits
podman_cmd() {
  podman --root "$P/root" --runroot "$P/runroot" --runtime "$runtime" --cgroup-manager cgroupfs \
         --events-backend file --network-config-dir "$P/networks" --tmpdir "$P/tmp" "$@"
}
# shellcheck disable=SC2086 # the --ulimit flags, split
prun() { podman_cmd run $ulimits "$@"; }
export -f podman_cmd prun

run_ok "podman: pull from the local registry" podman_cmd pull -q "$IMAGE"
expect "podman: run --rm echo" "hello from podman" prun --rm "$IMAGE" echo hello from podman

# A shell on a terminal: the runtime hands the pty's master to podman through --console-socket.
cat > "$T/tty-drive.py" <<'EOF'
# Runs argv[1:] on a new pty, types a command into the container's shell and waits for its answer.
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen, sent, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not sent and (b"# " in seen or time.time() > deadline - 50):
        os.write(fd, b"[ -t 0 ] && echo tty-$((6*7)); exit\r")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
EOF
expect "podman: run -it, a shell on a pty answers a typed command" "tty-42" \
  bash -c '/usr/bin/python3 "$@" | tr -d "\r"' bash "$T/tty-drive.py" bash -c 'prun -it --rm "$1" sh' prun "$IMAGE"

# Detached: exec into it, then stop; its TERM trap makes the exit code 3.
run_ok "podman: run -d" prun -d --name bg "$IMAGE" sh -c 'trap "exit 3" TERM; while :; do sleep 0.2; done'
expect "podman: exec in the running container" "exec says 42" podman_cmd exec bg sh -c 'echo exec says $((6*7))'
expect "podman: inspect shows it running" "running" podman_cmd inspect -f '{{.State.Status}}' bg
run_ok "podman: stop" podman_cmd stop -t 10 bg
expect "podman: stopped, exit code 3 from its TERM trap" "exited 3" podman_cmd inspect -f '{{.State.Status}} {{.State.ExitCode}}' bg
run_ok "podman: rm" podman_cmd rm bg

# The memory limit, read from inside: v1 memory.limit_in_bytes or v2 memory.max.
expect "podman: --memory 64m seen by the container" "67108864" \
  prun --rm --memory 64m "$IMAGE" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'

# A published port: busybox httpd in the container, curl on this namespace's loopback.
if prun -d --name web -p 127.0.0.1:18080:8080 "$IMAGE" httpd -f -p 8080 -h /www > "$T/log/last" 2>&1; then
  wait_for 100 curl -sf http://127.0.0.1:18080/index.html
  expect "podman: -p 127.0.0.1:18080:8080, httpd's file fetched from the host side" "served-by-busybox" \
    curl -sS --max-time 10 http://127.0.0.1:18080/index.html
else
  fail "podman: -p 127.0.0.1:18080:8080, httpd's file fetched from the host side"
fi
podman_cmd rm -f -t 0 web > /dev/null 2>&1 || true

# ---------------------------------------------------------------------------------------
# containerd with its own root, state and socket; ctr with --runc-binary.
# ---------------------------------------------------------------------------------------
C=$T/containerd
mkdir -p "$C"
cat > "$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
EOF
containerd --config "$C/config.toml" > "$T/log/containerd.log" 2>&1 &
pids_to_stop+=($!)
export C
ctr_cmd() { ctr --address "$C/containerd.sock" "$@"; }
export -f ctr_cmd
wait_for 200 ctr_cmd version || echo "# containerd did not answer"
run_ok "containerd: ctr image pull --plain-http" ctr_cmd image pull --plain-http "$IMAGE"
expect "containerd: ctr run --rm echo" "hi from ctr" \
  ctr_cmd run --rm --runc-binary "$runtime" "$IMAGE" once echo hi from ctr
run_ok "containerd: ctr run -d" ctr_cmd run -d --runc-binary "$runtime" "$IMAGE" bg sleep 600
expect "containerd: task exec" "exec says 42" ctr_cmd task exec --exec-id probe bg sh -c 'echo exec says $((6*7))'
run_ok "containerd: task kill -s SIGKILL" ctr_cmd task kill -s SIGKILL bg
task_stopped() { ctr_cmd task ls | awk '$1 == "bg" { print $3 }' | grep -qx STOPPED; }
export -f task_stopped
if wait_for 100 task_stopped; then pass "containerd: task stopped after the kill"; else ctr_cmd task ls > "$T/log/last" 2>&1; fail "containerd: task stopped after the kill"; fi
run_ok "containerd: task delete" ctr_cmd task delete bg
run_ok "containerd: container delete" ctr_cmd container delete bg

# ---------------------------------------------------------------------------------------
# dockerd with its own data root, exec root, socket and config; the runtime added as "swrun".
# ---------------------------------------------------------------------------------------
D=$T/docker
mkdir -p "$D"
cat > "$D/daemon.json" <<EOF
{"runtimes": {"swrun": {"path": "$runtime"}}, "insecure-registries": ["$registry"]}
EOF
dockerd --config-file "$D/daemon.json" --data-root "$D/root" --exec-root "$D/exec" \
        -H "unix://$D/docker.sock" --pidfile "$D/docker.pid" --storage-driver overlay2 \
        --exec-opt native.cgroupdriver=cgroupfs > "$T/log/dockerd.log" 2>&1 &
dockerd_pid=$!
pids_to_stop+=($dockerd_pid)
export D
docker_cmd() { docker -H "unix://$D/docker.sock" "$@"; }
export -f docker_cmd
# Up when it answers; given up on when it exits, or after 30 s.
docker_up() { docker_cmd version || ! kill -0 "$dockerd_pid"; }
if wait_for 300 docker_up && kill -0 "$dockerd_pid" 2>/dev/null; then
  expect "docker: run --rm --runtime swrun echo" "hi from docker" \
    docker_cmd run --rm --runtime swrun "$IMAGE" echo hi from docker
  run_ok "docker: run -d --runtime swrun" \
    docker_cmd run -d --name bg --runtime swrun "$IMAGE" sh -c 'trap "exit 3" TERM; while :; do sleep 0.2; done'
  expect "docker: exec in the running container" "exec says 42" docker_cmd exec bg sh -c 'echo exec says $((6*7))'
  run_ok "docker: stop" docker_cmd stop -t 10 bg
  expect "docker: stopped, exit code 3 from its TERM trap" "exited 3" docker_cmd inspect -f '{{.State.Status}} {{.State.ExitCode}}' bg
  run_ok "docker: rm" docker_cmd rm bg
else
  reason=$(grep -E 'level=(fatal|error)|failed to start' "$T/log/dockerd.log" | tail -n1 | cut -c1-200)
  kill -0 "$dockerd_pid" 2>/dev/null || reason="exited: ${reason:-see its log}"
  skip "dockerd cannot run here: ${reason:-no answer in 30 s}"
fi

echo "1..$n"
[ "$failed" -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
