#!/bin/sh
# Lays out an OCI image layout (from make-oci-layout.sh) as the files a registry serves,
# for serve.py to answer pulls with plain file reads:
#   OUTDIR/v2/REPO/manifests/TAG and manifests/sha256:HEX   (every index and manifest)
#   OUTDIR/v2/REPO/blobs/sha256:HEX                         (every blob)
# Tag "tampered" is "single" with a config whose second rootfs.diff_id is wrong (every
# digest of the blobs themselves is right): unpacking it must fail at layer 2/3.
# A pull of 127.0.0.1:PORT/REPO:single or :multi then works against `serve.py --root OUTDIR`,
# and `--hold-blobs S` makes each blob wait, so parallel downloads overlap visibly.
# Usage: make-static-registry.sh LAYOUTDIR OUTDIR REPO
set -eu

[ $# -eq 3 ] || { echo "usage: $0 LAYOUTDIR OUTDIR REPO" >&2; exit 2; }
layout=$(cd "$1" && pwd)
[ -f "$layout/index.json" ] || { echo "$0: $layout is not an OCI layout" >&2; exit 1; }
mkdir -p "$2"
out=$(cd "$2" && pwd)
rm -rf "$out/v2"
mkdir -p "$out/v2/$3/manifests" "$out/v2/$3/blobs"

python3 - "$layout" "$out/v2/$3" <<'PY'
import hashlib, json, os, shutil, sys

layout, repo = sys.argv[1], sys.argv[2]
for name in os.listdir(f"{layout}/blobs/sha256"):
    shutil.copyfile(f"{layout}/blobs/sha256/{name}", f"{repo}/blobs/sha256:{name}")
index = json.load(open(f"{layout}/index.json"))
for entry in index["manifests"]:
    digest = entry["digest"]
    tag = entry.get("annotations", {}).get("org.opencontainers.image.ref.name")
    source = f"{layout}/blobs/sha256/{digest[7:]}"
    if tag:
        shutil.copyfile(source, f"{repo}/manifests/{tag}")
    shutil.copyfile(source, f"{repo}/manifests/{digest}")
    document = json.load(open(source))
    for child in document.get("manifests", []):  # an index: its platform manifests by digest
        shutil.copyfile(f"{layout}/blobs/sha256/{child['digest'][7:]}", f"{repo}/manifests/{child['digest']}")

def store(kind, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(f"{repo}/{kind}/{digest}", "wb") as f:
        f.write(data)
    return digest

manifest = json.load(open(f"{repo}/manifests/single"))
config = json.load(open(f"{repo}/blobs/{manifest['config']['digest']}"))
config["rootfs"]["diff_ids"][1] = "sha256:" + hashlib.sha256(b"tampered").hexdigest()
data = json.dumps(config, sort_keys=True).encode()
manifest["config"] = dict(manifest["config"], digest=store("blobs", data), size=len(data))
data = json.dumps(manifest, sort_keys=True).encode()
store("manifests", data)
with open(f"{repo}/manifests/tampered", "wb") as f:
    f.write(data)
PY
