#!/bin/sh
# swrun's cgroup features on a pure cgroup-v2 host, run inside the VM of scripts/vm-test.sh
# (as its /init's payload). Uses the swrun CLI as a user would. Each test prints
# "ok NAME" or "not ok NAME: reason" (or "skip NAME: reason"); the last line is
# "VM-TEST: PASS n/n" or "VM-TEST: FAIL passed/n".
set -eu
cg=/sys/fs/cgroup
out=/tmp/out
pass=0 total=0
ok() { pass=$((pass + 1)); total=$((total + 1)); echo "ok $1"; }
notok() { total=$((total + 1)); echo "not ok $1: $2"; }
skip() { echo "skip $1: $2"; }
# swrun with a deadline, so that a hang fails one test instead of the VM's timeout.
sw() { timeout 120 swrun "$@"; }
# The container's cgroup directory (swrun-NAME-HASH below the root), or nothing.
cgdir() { for d in "$cg"/swrun-"$1"-*; do [ -d "$d" ] && echo "$d"; done; return 0; }
# Seconds since boot, in hundredths, for wall-time measurements.
now() { cut -d' ' -f1 /proc/uptime | tr -d .; }
usage() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }
# Waits up to 10 s for the container's cgroup to appear.
waitcg() { i=0; while [ -z "$(cgdir "$1")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; cgdir "$1"; }

# Stage 1 of /init started a container while / was still the initramfs, where pivot_root
# cannot work and swrun moves the rootfs over / and chroots instead.
if [ "${VM_INITRAMFS_ROOT:-}" = ok ]; then ok initramfs-root-start; else notok initramfs-root-start "${VM_INITRAMFS_ROOT:-not run}"; fi

# One busybox container for the foreground tests, one for the started ones; -f /dev/null:
# no network from /etc/lxc/default.conf.
sw create -n t -t busybox -f /dev/null >$out 2>&1 || { echo "not ok create: $(cat $out)"; echo "VM-TEST: FAIL 0/1"; exit 1; }
sw create -n s -t busybox -f /dev/null >$out 2>&1 || { echo "not ok create: $(cat $out)"; echo "VM-TEST: FAIL 0/1"; exit 1; }

# --- Hardening that needs a kernel with SysRq and /proc/kcore (the build host has neither):
# the container cannot write the trigger ("h", help, harmless) nor read the host's memory.
rc=0
sw execute -n t -T -- sh -c 'echo h > /proc/sysrq-trigger; echo rc=$?; head -c 16 /proc/kcore | wc -c' </dev/null >$out 2>&1 || rc=$?
if [ ! -e /proc/sysrq-trigger ] || [ ! -e /proc/kcore ]; then skip sysrq-kcore "this kernel lacks them too"
elif [ $rc -eq 0 ] && grep -q '^rc=1$' $out && grep -q 'Read-only file system' $out && [ "$(tail -n 1 $out | tr -d ' ')" = 0 ]; then ok sysrq-kcore-refused
else notok sysrq-kcore-refused "exit $rc: $(cat $out | tr '\n' ' ')"; fi

# --- Stacked links, which the build host's kernel lacks (vm-init.sh loads the modules): a
# container on a vlan and one on an ipvlan of a veth link reach the link's far end, veth0
# (busybox ip names the peer itself).
net() { echo "-s lxc.net.0.type=$1 -s lxc.net.0.link=swpar0 -s lxc.net.0.flags=up -s lxc.net.0.ipv4.address=$2 $3"; }
if ip link add name swpar0 type veth && ip link set swpar0 up && ip link set veth0 up &&
   ip link add link veth0 name veth0.42 type vlan id 42 && ip address add 10.94.0.1/24 dev veth0.42 && ip link set veth0.42 up &&
   ip address add 10.93.0.1/24 dev veth0; then
  for case in "vlan 10.94.0.2/24 -s_lxc.net.0.vlan.id=42 10.94.0.1" "ipvlan 10.93.0.2/24 -s_lxc.net.0.ipvlan.mode=l2 10.93.0.1"; do
    set -- $case
    rc=0
    # shellcheck disable=SC2046
    sw execute -n t -T $(net "$1" "$2" "$(echo "$3" | tr _ ' ')") -- sh -c "ping -c1 -W2 $4 | grep -o '1 packets received'" </dev/null >$out 2>&1 || rc=$?
    if [ $rc -eq 0 ] && grep -q '1 packets received' $out; then ok "$1-link-reaches-the-wire"
    else notok "$1-link-reaches-the-wire" "exit $rc: $(tail -n 3 $out | tr '\n' ' ')"; fi
  done
else
  notok stacked-links "cannot make the veth, vlan and addresses on the VM's side"
fi

# --- memory.max: a shell that doubles a string past 32M is OOM-killed (exit 137).
rc=0
sw execute -n t -T --memory 32M -- sh -c 'x=0123456789abcdef; while :; do x="$x$x"; done' </dev/null >$out 2>&1 || rc=$?
# The kernel log names the cgroup whose limit was hit.
oom=$(dmesg | grep -c 'oom-kill:.*oom_memcg=/swrun-t-' || true)
if [ $rc -eq 137 ] && [ "$oom" -ge 1 ]; then ok memory-oom-kill
else notok memory-oom-kill "exit $rc (137 expected), memcg OOM kills in dmesg: $oom: $(tail -n 3 $out | tr '\n' ' ')"; fi

# --- swrun-oci events on v2: the OOM kill is told while the container runs (inotify on
# memory.events), then the stream ends with the container.
bundle=/tmp/oom-bundle
mkdir -p $bundle
cat > $bundle/config.json <<'JSON'
{"ociVersion": "1.0.2", "root": {"path": "/var/lib/lxc/t/rootfs"},
 "process": {"args": ["sh", "-c", "sleep 2; x=0123456789abcdef; while :; do x=$x$x; done"], "cwd": "/",
             "env": ["PATH=/bin:/sbin"], "user": {"uid": 0, "gid": 0}},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}],
           "resources": {"memory": {"limit": 33554432}}}}
JSON
oci() { timeout 60 swrun oci --root /run/vm-oci "$@"; }
rc=0
oci run --detach --bundle $bundle oom >$out 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
  oci events --interval 1s oom >/tmp/events 2>&1 || true
  if grep -q '"type":"oom"' /tmp/events; then ok events-oom-v2
  else notok events-oom-v2 "no oom event: $(tail -c 300 /tmp/events | tr '\n' ' ')"; fi
  oci delete --force oom >/dev/null 2>&1 || true
else
  notok events-oom-v2 "run exited $rc: $(tail -n 3 $out | tr '\n' ' ')"
fi

# --- pids.max: a fork bomb stops at 20 processes; the container's shell survives, counts
# its processes with builtins only, kills the rest and ends with 0.
rc=0
sw execute -n t -T --pids 20 -- sh -c '
  sh -c "while :; do sleep 60 & done" 2>/dev/null
  n=0; for p in /proc/[0-9]*; do n=$((n + 1)); done
  echo "procs=$n"; kill -9 -1; exit 0' </dev/null >$out 2>&1 || rc=$?
n=$(sed -n 's/^procs=//p' $out)
if [ $rc -eq 0 ] && [ -n "$n" ] && [ "$n" -ge 10 ] && [ "$n" -le 20 ]; then ok "pids-fork-bomb ($n processes at the limit)"
else notok pids-fork-bomb "exit $rc, procs=${n:-none}: $(tail -n 3 $out | tr '\n' ' ')"; fi

# --- cpu.max: a busy loop under --cpus 0.5 uses 0.3..0.7 of one CPU over 3 s of wall time.
rc=0
sw execute -n t -T --cpus 0.5 -- timeout 8 sh -c 'while :; do :; done' </dev/null >$out 2>&1 &
job=$!
d=$(waitcg t)
if [ -n "$d" ]; then
  sleep 1; u0=$(usage "$d"); t0=$(now); sleep 3; u1=$(usage "$d"); t1=$(now)
  max=$(cat "$d/cpu.max")
  ratio=$(awk -v u="$((u1 - u0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", u / (t * 10000) }')
fi
wait $job || rc=$?
if [ -z "$d" ]; then notok cpu-quota "no cgroup $cg/swrun-t-* appeared: $(tail -n 3 $out | tr '\n' ' ')"
elif [ "$max" != "50000 100000" ]; then notok cpu-quota "cpu.max is '$max', not '50000 100000'"
elif awk -v r="$ratio" 'BEGIN { exit !(r >= 0.3 && r <= 0.7) }'; then ok "cpu-quota (usage $ratio CPU)"
else notok cpu-quota "usage $ratio CPU, not within 0.3..0.7"; fi

# --- no cgroup is left by the foreground runs above.
left=$(cgdir t)
if [ -z "$left" ]; then ok execute-cgroup-removed; else notok execute-cgroup-removed "$left remains"; fi

# --- lxc.cgroup.dir and lxc.cgroup.relative: the cgroup goes where the config says, below
# swrun's own; its missing parent is made (and stays, as with LXC), the cgroup itself goes.
rc=0
got=$(sw execute -n t -T --memory 40M -s lxc.cgroup.dir=vmdir/inner -s lxc.cgroup.relative=1 -- \
  sh -c 'cat /sys/fs/cgroup/memory.max' 2>$out) || rc=$?
if [ $rc -eq 0 ] && [ "$got" = 41943040 ] && [ -d $cg/vmdir ] && [ ! -d $cg/vmdir/inner ]; then ok cgroup-dir
else notok cgroup-dir "exit $rc, memory.max inside '$got', $cg/vmdir: $(ls -d $cg/vmdir $cg/vmdir/inner 2>&1 | tr '\n' ' ') $(tail -n 2 $out | tr '\n' ' ')"; fi
rmdir $cg/vmdir 2>/dev/null || true

# --- swrun cgroup: a started container's memory.max is read, raised live, and read back.
rc=0
sw start -n s --memory 32M >$out 2>&1 || rc=$?
if [ $rc -ne 0 ]; then notok start-with-limits "exit $rc: $(tail -n 3 $out | tr '\n' ' ')"
else
  ok start-with-limits
  before=$(sw cgroup -n s memory.max 2>&1 || true)
  sw cgroup -n s memory.max 64M >$out 2>&1 || echo "(exit $?)" >>$out
  after=$(sw cgroup -n s memory.max 2>&1 || true)
  file=$(cat "$(cgdir s)/memory.max" 2>&1 || true)
  if [ "$before" = 33554432 ] && [ "$after" = 67108864 ] && [ "$file" = 67108864 ]; then ok cgroup-set-memory-max
  else notok cgroup-set-memory-max "before '$before', after '$after', file '$file', set said: $(cat $out)"; fi
  # info -S reads the cgroup: memory, processes, CPU and block I/O (io.stat) for this container.
  stats=$(sw info -n s -S 2>&1 || true)
  if echo "$stats" | grep -q '^BlkIO use:' && echo "$stats" | grep -q '^Memory limit: *64.0 MiB' && echo "$stats" | grep -q '^Processes:'; then ok info-stats
  else notok info-stats "$(echo "$stats" | tr '\n' '|')"; fi
  # top: a BLKIO column beside CPU and memory, and in JSON this container's figures from its cgroup.
  top=$(sw top --once 2>&1 || true)
  json=$(sw top --format json 2>&1 || true)
  if echo "$top" | head -n 1 | grep -q 'CPU *BLKIO *MEMORY' && echo "$json" | grep -q '"name": *"s"' &&
     echo "$json" | grep -q '"blkio_bytes": *[0-9]' && echo "$json" | grep -q '"cpu_nanoseconds": *[0-9]'; then ok top-shows-cpu-io-memory
  else notok top-shows-cpu-io-memory "$(echo "$top $json" | tr '\n' '|')"; fi
  rc=0; sw stop -n s -t 10 >$out 2>&1 || rc=$?
  left=$(cgdir s)
  if [ $rc -eq 0 ] && [ -z "$left" ]; then ok stop-removes-cgroup
  else notok stop-removes-cgroup "stop exit $rc ($(cat $out)), left: '$left'"; fi
fi

# --- kill -9 of the monitor, then swrun stop: the container ends and its cgroup goes.
rc=0
sw start -n s --memory 32M >$out 2>&1 || rc=$?
mon=$(ps -o pid,args | awk '$3 == "monitor" && / -n s / { print $1 }')
if [ $rc -ne 0 ] || [ -z "$mon" ]; then notok monitor-killed-stop "start exit $rc, monitor pid '${mon}': $(tail -n 3 $out | tr '\n' ' ')"
else
  initpid=$(sw info -n s -p -H 2>/dev/null || true)
  kill -9 "$mon"; sleep 0.5
  survived=no; [ -n "$initpid" ] && [ -d "/proc/$initpid" ] && survived=yes
  rc=0; sw stop -n s -t 10 >$out 2>&1 || rc=$?
  left=$(cgdir s)
  alive=""; [ -n "$initpid" ] && [ -d "/proc/$initpid" ] && alive=$initpid
  if [ $rc -eq 0 ] && [ -z "$left" ] && [ -z "$alive" ]; then ok "monitor-killed-stop (init outlived its monitor: $survived)"
  else notok monitor-killed-stop "stop exit $rc ($(cat $out | tr '\n' ' ')), cgroup left: '$left', init $initpid alive: '${alive}'"; fi
  sw stop -n s -k >/dev/null 2>&1 || true
fi

# --- cgroup.kill: a process moved into the container's cgroup from outside its pid namespace
# (which the end of init does not reach) ends at stop too, and the cgroup goes.
rc=0
sw start -n s -- sleep 600 >$out 2>&1 || rc=$?
d=$(waitcg s)
sleep 600 &
intruder=$!
[ -n "$d" ] && echo $intruder > "$d/cgroup.procs"
rc2=0; sw stop -n s -k >>$out 2>&1 || rc2=$?
sleep 0.2
alive=no
if kill -0 $intruder 2>/dev/null; then alive=yes; kill -9 $intruder; fi
wait $intruder 2>/dev/null || true
left=$(cgdir s)
if [ $rc -eq 0 ] && [ -n "$d" ] && [ $rc2 -eq 0 ] && [ $alive = no ] && [ -z "$left" ]; then ok cgroup-kill-outsider
else notok cgroup-kill-outsider "start $rc, cgroup '$d', stop $rc2, outsider alive after stop: $alive, left '$left'; $(tail -n 2 $out | tr '\n' ' ')"; fi

# --- freeze: a counter in the container stops while frozen and goes on after unfreeze.
# No limits: on a v2 host every container has a cgroup.
if ! swrun freeze --help >/dev/null 2>&1; then skip freeze "not built"
else
  counter=/var/lib/lxc/s/rootfs/count
  # The counter is the file's size: the container appends a byte a turn (a rewritten
  # number would often be caught truncated by the freeze).
  count() { stat -c %s $counter 2>/dev/null || echo none; }
  rc=0
  sw start -n s -- sh -c 'while :; do echo >> /count; done' >$out 2>&1 || rc=$?
  sleep 1
  rc2=0; sw freeze -n s >>$out 2>&1 || rc2=$?
  sleep 0.5; c0=$(count); state=$(sw info -n s -s -H 2>&1 || true); sleep 1; c1=$(count)
  rc3=0; sw unfreeze -n s >>$out 2>&1 || rc3=$?
  sleep 1; c2=$(count)
  if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ "$c0" != none ] && [ "$c0" = "$c1" ] && [ "$c2" -gt "$c1" ] 2>/dev/null; then ok "freeze-unfreeze (state while frozen: $state)"
  else notok freeze-unfreeze "exits $rc/$rc2/$rc3, counter $c0 -> $c1 frozen, $c2 after; $(tail -n 3 $out | tr '\n' ' ')"; fi
  # A frozen container stops too: swrun thaws it first (a frozen init cannot act on signals).
  sw freeze -n s >>$out 2>&1 || true
  rc=0; sw stop -n s -t 1 >>$out 2>&1 || rc=$?
  left=$(cgdir s)
  if [ $rc -eq 0 ] && [ -z "$left" ]; then ok freeze-stop-removes-cgroup
  else notok freeze-stop-removes-cgroup "stop of the frozen container exit $rc, '$left' remains; $(tail -n 2 $out | tr '\n' ' ')"; fi
  sw stop -n s -k >/dev/null 2>&1 || true
fi

# --- The device policy on cgroup v2: a BPF program on the container's cgroup. A node of the
# host's kernel log in the rootfs cannot be opened; lxc.cgroup2.devices.allow opens it.
r=$(sed -n 's/^lxc.rootfs.path = \(dir:\)\{0,1\}//p' /var/lib/lxc/t/config)
if mknod "$r/kmsg" c 1 11; then
  rc=0; sw execute -n t -T -- sh -c 'head -c 16 /kmsg >/dev/null; echo status=$?; head -c 16 /dev/zero | wc -c' </dev/null >$out 2>&1 || rc=$?
  rc2=0; sw execute -n t -T -s 'lxc.cgroup2.devices.allow=c 1:11 r' -- sh -c 'head -c 16 /kmsg | wc -c' </dev/null >$out.allowed 2>&1 || rc2=$?
  if [ $rc -eq 0 ] && grep -q '^status=1$' $out && grep -q 'Operation not permitted' $out && [ "$(grep -c '^ *16$' $out)" = 1 ] \
     && [ $rc2 -eq 0 ] && [ "$(tr -d ' ' < $out.allowed)" = 16 ]; then ok device-policy-bpf
  else notok device-policy-bpf "exits $rc/$rc2: $(tr '\n' ' ' < $out) / $(tr '\n' ' ' < $out.allowed)"; fi
  rm -f "$r/kmsg"
else notok device-policy-bpf "cannot mknod in $r"; fi

# --- A Debian 12 with systemd (the disk vm-test.sh made from the boot tests' rootfs) boots
# to "running" in a cgroup of its own with the controllers delegated to it, and halts by
# itself on SIGRTMIN+3 (no lxc.signal.halt: swrun sees that systemd blocks it).
d=/var/lib/lxc/deb
if [ ! -b /dev/vda ]; then notok systemd-boots-to-running "no disk /dev/vda"
elif ! { mkdir -p $d/rootfs && mount -t ext4 /dev/vda $d/rootfs; }; then notok systemd-boots-to-running "cannot mount /dev/vda"
else
  printf '%s\n' "lxc.rootfs.path = dir:$d/rootfs" "lxc.uts.name = deb" "lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed" \
    "lxc.autodev = 1" "lxc.tty.max = 4" "lxc.pty.max = 1024" "lxc.net.0.type = empty" > $d/config
  t0=$(now)
  rc=0; sw start -n deb </dev/null >$out 2>&1 || rc=$?
  state=none
  while [ $rc -eq 0 ] && [ $(( $(now) - t0 )) -lt 30000 ]; do
    state=$(sw attach -n deb -- systemctl is-system-running </dev/null 2>/dev/null || true)
    case "$state" in running|degraded|maintenance) break ;; esac
    sleep 1
  done
  t1=$(now)
  cgd=$(cgdir deb)
  if [ "$state" = running ] && [ -d "$cgd/init.scope" ] && grep -qw memory "$cgd/cgroup.controllers"; then
    ok "systemd-boots-to-running (v2, $(( (t1 - t0) / 100 )) s under TCG)"
  else
    notok systemd-boots-to-running "start exit $rc, state '$state', cgroup '$cgd' ($(cat "$cgd/cgroup.controllers" 2>/dev/null); below: $(find "$cgd" -maxdepth 1 -mindepth 1 -type d | tr '\n' ' '); init in $(sw attach -n deb -- cat /proc/1/cgroup </dev/null 2>&1); $(( (t1 - t0) / 100 )) s); failed: $(sw attach -n deb -- systemctl --failed --no-legend </dev/null 2>&1 | tr '\n' ' '); $(tail -n 5 $out | tr '\n' ' ')"
  fi
  rc=0; sw stop -n deb -t 120 </dev/null >$out 2>&1 || rc=$?
  if [ $rc -eq 0 ] && ! grep -q killed $out && [ -z "$(cgdir deb)" ] && grep -q 'init killed by signal SIGINT' $d/swrun.log; then ok systemd-halts-by-itself
  else notok systemd-halts-by-itself "stop exit $rc: $(tr '\n' ' ' < $out); log: $(tail -n 3 $d/swrun.log | tr '\n' ' ')"; fi
  sw stop -n deb -k >/dev/null 2>&1 || true
  umount $d/rootfs || true
fi

if [ $pass -eq $total ]; then echo "VM-TEST: PASS $pass/$total"; else echo "VM-TEST: FAIL $pass/$total"; fi
