#!/bin/sh
# swrun build (issue 16), part of make bench: the same Dockerfiles built by swrun and by
# buildah (`bud --layers`, its own storage, chroot isolation), cold (no cache) and again with
# nothing changed; a small Dockerfile on busybox, and a RUN-heavy one on the debootstrapped Debian.
# Usage: bench-build.sh SWRUN RESULTS RUNS (run in a mount and network namespace of its own)
set -eu
swrun=$1 results=$2 runs=$3
. "$(dirname "$0")/bench-lib.sh"
ip link set lo up

work=$(mktemp -d /tmp/swrun-bench-build-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
export SWRUN_CACHE_PATH=$work/cache
lxc=$work/lxc
echo "lxc.net.0.type = empty" > "$work/empty.conf"

# The base images, made by swrun (commit) and handed to buildah as OCI archives.
"$swrun" create -n busybox -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
"$swrun" commit -P "$lxc" busybox localhost/bench/busybox:1 >/dev/null
"$swrun" save localhost/bench/busybox:1 -o "$work/busybox.tar"
debian=$(cd "$(dirname "$0")/.." && pwd)/.build/distro/debian12-systemd
if [ -f "$debian.complete" ]; then
    "$swrun" create -n debian -t busybox -P "$lxc" -f "$work/empty.conf" >/dev/null 2>&1
    printf 'lxc.rootfs.path = dir:%s\nlxc.net.0.type = empty\n' "$debian" > "$lxc/debian/config"
    "$swrun" commit -P "$lxc" debian localhost/bench/debian:12 >/dev/null
    "$swrun" save localhost/bench/debian:12 -o "$work/debian.tar"
fi

mkdir -p "$work/small" "$work/heavy"
echo hello > "$work/small/hello.txt"
cat > "$work/small/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
ENV GREETING=hello
WORKDIR /app
COPY hello.txt ./
RUN echo "$GREETING" > greeting.txt
CMD ["cat", "/app/greeting.txt"]
DOCKERFILE
cat > "$work/heavy/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
RUN dpkg-query -W > /packages.txt
RUN for i in $(seq 1 200); do echo "line $i" >> /srv/lines.txt; done
RUN mkdir -p /srv/tree && cd /srv/tree && for i in $(seq 1 50); do mkdir d$i && echo $i > d$i/f; done
RUN tar -C /usr/share -cf /srv/doc.tar doc
RUN sha256sum /srv/doc.tar > /srv/doc.sum && rm /srv/doc.tar
CMD ["cat", "/srv/doc.sum"]
DOCKERFILE

buildah="buildah --root $work/buildah --runroot $work/buildah-run --storage-driver vfs"
bench() {  # bench NAME DIR IMAGE-NAME
    name=$1 dir=$2 base=$3
    archive=$work/$(echo "$base" | tr '/:' '--').tar
    [ -f "$work/busybox.tar" ] && [ "$base" = localhost/bench/busybox:1 ] && archive=$work/busybox.tar
    [ "$base" = localhost/bench/debian:12 ] && archive=$work/debian.tar
    echo
    echo "$name: cold build (no cache), then again with nothing changed: $runs runs each"
    set -- "swrun" "$swrun build -q --no-cache --network none --build-arg BASE=$base -t localhost/bench/$name:cold $dir"
    if command -v buildah >/dev/null 2>&1; then
        set -- "$@" "buildah" "$buildah bud -q --layers --no-cache --isolation chroot --build-arg BASE=oci-archive:$archive -t localhost/bench/$name:cold $dir"
    else
        echo "  buildah: not installed"
    fi
    time_group "build-$name-cold" "$runs" "$@"
    "$swrun" build -q --network none --build-arg "BASE=$base" -t "localhost/bench/$name:cached" "$dir" >/dev/null
    set -- "swrun" "$swrun build -q --network none --build-arg BASE=$base -t localhost/bench/$name:cached $dir"
    if command -v buildah >/dev/null 2>&1; then
        $buildah bud -q --layers --isolation chroot --build-arg "BASE=oci-archive:$archive" -t "localhost/bench/$name:cached" "$dir" >/dev/null 2>&1
        set -- "$@" "buildah" "$buildah bud -q --layers --isolation chroot --build-arg BASE=oci-archive:$archive -t localhost/bench/$name:cached $dir"
    fi
    time_group "build-$name-cached" "$runs" "$@"
}
bench small "$work/small" localhost/bench/busybox:1
if [ -f "$work/debian.tar" ]; then bench heavy "$work/heavy" localhost/bench/debian:12; else echo "heavy: no Debian rootfs (scripts/distro-rootfs.sh systemd)"; fi
echo "targets: a cold build no slower than buildah (ratio <= 1); a rebuild with nothing changed under 200 ms and faster than buildah's"
