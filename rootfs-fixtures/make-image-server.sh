#!/bin/bash
# Builds a tree to serve over HTTP(S) that looks like an LXC image server
# (images.linuxcontainers.org) in both of its layouts, for one image
# swrunfix/{1.0,2.0}/amd64/default, build 20261129_00:00:
#   legacy (lxc-download):  meta/1.0/index-system, images/<dist>/<rel>/<arch>/<variant>/<build>/
#   simplestreams (LXD):    streams/v1/index.json, streams/v1/images.json
# plus bad/ (corrupted rootfs), badsig/ (signed by another key) and replay/ (an older
# build's signatures) copies of the legacy layout, and a release `hooks` whose config
# sets keys an image may not. Keys live in OUTDIR/gnupg (never the host's ~/.gnupg) and
# are kept between runs; everything else is rebuilt. See OUTDIR/FIXTURE.txt afterwards.
# Usage: make-image-server.sh OUTDIR
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

dist=swrunfix arch=amd64 variant=default build=20261129_00:00
releases="1.0 2.0 hooks"
expiry=4102444800   # 2100-01-01, "far in the future"
mtime=@1764374400   # fixed mtime so the tarballs are reproducible

export GNUPGHOME=$out/gnupg
mkdir -p "$GNUPGHOME" "$out/keys"
chmod 0700 "$GNUPGHOME"
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true' EXIT
g() { gpg --batch --quiet --no-auto-check-trustdb "$@"; }

# Fingerprint of the secret key with this uid; generates it on first run.
key() {
  local uid=$1 fpr
  fpr=$(g --with-colons --list-secret-keys "=$uid" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
  if [ -z "$fpr" ]; then
    # Made "in 2025", so that replay/ can hold signatures dated before the build.
    g --faked-system-time 20250101T000000 --passphrase '' --quick-gen-key "$uid" rsa3072 sign never 2>/dev/null
    fpr=$(g --with-colons --list-secret-keys "=$uid" | awk -F: '$1=="fpr"{print $10; exit}')
  fi
  echo "$fpr"
}
good=$(key 'swrun fixture <fixture@swrun.invalid>')
other=$(key 'swrun other fixture <other@swrun.invalid>')
# Binary (non-armoured) exports: gpgv --keyring FILE reads them as they are.
g --yes --export "$good" > "$out/keys/fixture.gpg"
g --yes --export "$other" > "$out/keys/other.gpg"
g --yes --armor --export "$good" > "$out/keys/fixture.asc"

sign() { # sign KEY FILE [GPG OPTIONS]: FILE.asc, detached and ASCII-armoured
  g --yes --local-user "$1" "${@:3}" --armor --detach-sign --output "$2.asc" "$2"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Reproducible tar: sorted names, root owners as numbers, fixed mtime.
rtar() { tar --sort=name --numeric-owner --owner=0 --group=0 --mtime="$mtime" --format=gnu "$@"; }

work=$out/.work
rm -rf "$work" "$out/meta" "$out/images" "$out/streams" "$out/bad" "$out/badsig"
mkdir -p "$work" "$out/meta/1.0"

index=$out/meta/1.0/index-system
: > "$index"
for rel in $releases; do
  path=images/$dist/$rel/$arch/$variant/$build
  dir=$out/$path
  mkdir -p "$dir" "$work/$rel/meta" "$work/$rel/lxd"

  # rootfs.tar.xz: the busybox rootfs, VERSION_ID telling the releases apart.
  FIXTURE_BUILD=$build FIXTURE_VERSION=$rel "$here/make-busybox-rootfs.sh" "$work/$rel/rootfs"
  # As in LXC's images: the template file names /etc/hostname, which holds LXC_NAME.
  echo LXC_NAME > "$work/$rel/rootfs/etc/hostname"
  rtar -C "$work/$rel/rootfs" -cf - . | xz -9 -T1 -c > "$dir/rootfs.tar.xz"

  # meta.tar.xz: what lxc-download reads (files at the top of the tarball).
  m=$work/$rel/meta
  printf 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n' > "$m/config"
  printf 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\nlxc.arch = x86_64\n' > "$m/config-user"
  if [ "$rel" = hooks ]; then  # what an image may not set: a host hook, a host mount, all capabilities
    printf 'lxc.hook.pre-start = /bin/sh -c "touch /tmp/swrun-fixture-hook-ran"\nlxc.mount.entry = /etc host-etc none bind,create=dir 0 0\nlxc.cap.drop =\nlxc.signal.halt = SIGRTMIN+3\n' \
      | tee -a "$m/config" >> "$m/config-user"
  fi
  : > "$m/excludes-user"
  echo /etc/hostname > "$m/templates"
  echo "You just created a swrun fixture container." > "$m/create-message"
  echo "$expiry" > "$m/expiry"
  rtar -C "$m" -cf - config config-user create-message excludes-user expiry templates | xz -9 -T1 -c > "$dir/meta.tar.xz"

  # lxd.tar.xz: LXD/Incus image metadata, only referenced by simplestreams.
  cat > "$work/$rel/lxd/metadata.yaml" <<EOF
architecture: x86_64
creation_date: 1764374400
expiry_date: $expiry
properties:
  architecture: $arch
  description: Swrunfix $rel $arch ($variant) ($build)
  name: $dist-$rel-$arch-$variant-$build
  os: Swrunfix
  release: "$rel"
  serial: "$build"
  variant: $variant
templates: {}
EOF
  rtar -C "$work/$rel/lxd" -cf - metadata.yaml | xz -9 -T1 -c > "$dir/lxd.tar.xz"

  (cd "$dir" && sha256sum rootfs.tar.xz meta.tar.xz > SHA256SUMS)
  for f in rootfs.tar.xz meta.tar.xz SHA256SUMS; do sign "$good" "$dir/$f"; done
  echo "$dist;$rel;$arch;$variant;$build;/$path/" >> "$index"
done
sign "$good" "$index"   # lxc-download also fetches index-system.asc

# Simplestreams, the way LXD/Incus read images.linuxcontainers.org.
mkdir -p "$out/streams/v1"
# shellcheck disable=SC2086 # $releases is a list
python3 - "$out" "$dist" "$arch" "$variant" "$build" $releases <<'EOF'
import hashlib, json, os, sys
out, dist, arch, variant, build, *releases = sys.argv[1:]
def item(path, ftype, **extra):
    data = open(os.path.join(out, path), "rb").read()
    return dict(ftype=ftype, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data), **extra)
products = {}
for rel in releases:
    base = f"images/{dist}/{rel}/{arch}/{variant}/{build}"
    root = open(f"{out}/{base}/rootfs.tar.xz", "rb").read()
    lxd = open(f"{out}/{base}/lxd.tar.xz", "rb").read()
    products[f"{dist}:{rel}:{arch}:{variant}"] = {
        "aliases": f"{dist}/{rel}/{variant},{dist}/{rel}",
        "arch": arch, "os": dist.capitalize(), "release": rel,
        "release_title": rel, "variant": variant,
        "versions": {build: {"items": {
            "root.tar.xz": item(f"{base}/rootfs.tar.xz", "root.tar.xz"),
            "meta.tar.xz": item(f"{base}/meta.tar.xz", "meta.tar.xz"),
            # combined_* = sha256 of metadata tarball followed by rootfs (LXD's image fingerprint)
            "lxd.tar.xz": item(f"{base}/lxd.tar.xz", "lxd.tar.xz",
                               combined_sha256=hashlib.sha256(lxd + root).hexdigest(),
                               combined_rootxz_sha256=hashlib.sha256(lxd + root).hexdigest()),
        }}},
    }
images = {"content_id": "images", "datatype": "image-downloads",
          "format": "products:1.0", "products": products}
index = {"format": "index:1.0", "index": {"images": {
    "datatype": "image-downloads", "path": "streams/v1/images.json",
    "format": "products:1.0", "products": sorted(products)}}}
for name, doc in (("images.json", images), ("index.json", index)):
    with open(f"{out}/streams/v1/{name}", "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
EOF

# bad/: same signatures and sums, rootfs.tar.xz with its byte at offset 100 flipped.
# badsig/: good files, every .asc made by the other key.
# replay/: the index signed now, every other .asc by the good key on 2026-11-01, before the
#   build the index names: an older build's signed files served as that build's.
p1=images/$dist/1.0/$arch/$variant/$build
for b in bad badsig replay; do
  mkdir -p "$out/$b"
  cp -a "$out/meta" "$out/images" "$out/$b/"
done
cp -a "$out/streams" "$out/bad/"
python3 - "$out/bad/$p1/rootfs.tar.xz" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xFF]))
EOF
find "$out/badsig" -name '*.asc' | while read -r asc; do sign "$other" "${asc%.asc}"; done
find "$out/replay/images" -name "*.asc" | while read -r asc; do sign "$good" "${asc%.asc}" --faked-system-time 20261101T000000 2>/dev/null; done

rm -rf "$work"
d1=$out/$p1
cat > "$out/FIXTURE.txt" <<EOF
LXC image server fixture (made by rootfs-fixtures/make-image-server.sh)

Serve OUTDIR as the document root. Image: $dist / releases $releases / $arch / $variant, build $build.
Paths in index-system are relative to the base URL (the OUTDIR root, or bad/, or badsig/).

legacy layout (lxc-download):
  meta/1.0/index-system  (+ .asc)   lines: dist;release;arch;variant;build;path
$(sed 's/^/    /' "$index")
  $p1/
    rootfs.tar.xz meta.tar.xz SHA256SUMS and a detached armoured .asc for each; lxd.tar.xz (unsigned)
  meta.tar.xz holds: config config-user create-message excludes-user expiry templates
  create-message: "You just created a swrun fixture container."   expiry: $expiry
  rootfs: busybox; /etc/fixture-release = "$build"; /etc/os-release NAME="swrun-fixture" VERSION_ID=<release>

simplestreams (LXD/Incus): streams/v1/index.json -> streams/v1/images.json
  products: $(for r in $releases; do printf '%s ' "$dist:$r:$arch:$variant"; done)
  items per version: root.tar.xz (ftype root.tar.xz), meta.tar.xz (ftype meta.tar.xz), lxd.tar.xz (ftype lxd.tar.xz)

1.0 sha256:
  rootfs.tar.xz $(sha "$d1/rootfs.tar.xz")  size $(size "$d1/rootfs.tar.xz")
  meta.tar.xz   $(sha "$d1/meta.tar.xz")  size $(size "$d1/meta.tar.xz")
2.0 sha256:
  rootfs.tar.xz $(sha "$out/images/$dist/2.0/$arch/$variant/$build/rootfs.tar.xz")

bad/     legacy layout (and streams/) where 1.0 rootfs.tar.xz has byte 100 flipped:
         sha256 $(sha "$out/bad/$p1/rootfs.tar.xz"); SHA256SUMS, .asc and images.json describe the good file
badsig/  legacy layout whose every .asc is signed by the other key
replay/  legacy layout whose index is signed now and every other .asc on 2026-11-01 (before build $build)
release hooks: its config and config-user also set lxc.hook.pre-start (touches /tmp/swrun-fixture-hook-ran),
         lxc.mount.entry (/etc of the host), an empty lxc.cap.drop (no capability dropped) and lxc.signal.halt = SIGRTMIN+3

keys (binary keyrings for gpgv --keyring FILE):
  keys/fixture.gpg  $good  swrun fixture <fixture@swrun.invalid>  (also keys/fixture.asc, armoured)
  keys/other.gpg    $other  swrun other fixture <other@swrun.invalid>
  check: gpgv --keyring OUTDIR/keys/fixture.gpg $p1/SHA256SUMS.asc $p1/SHA256SUMS
EOF
