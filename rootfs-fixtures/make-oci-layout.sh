#!/bin/sh
# Builds an OCI image layout in OUTDIR (oci-layout, index.json, blobs/sha256/...):
#   tag "single": amd64 image manifest, 3 layers over the busybox rootfs
#   tag "multi":  image index naming linux/amd64 and linux/arm64 (same layers,
#                 arm64 config says architecture arm64 and FIXTURE=arm64)
# Layer 3 is zstd and holds whiteouts (file, directory, and an opaque marker placed
# after a new file in the same directory). Output is reproducible for a given
# busybox. Expected results: OUTDIR/FIXTURE.txt.
# Usage: make-oci-layout.sh OUTDIR
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

rm -rf "$out/.work" "$out/blobs"
FIXTURE_BUILD=oci "$here/make-busybox-rootfs.sh" "$out/.work/rootfs"

python3 - "$out" <<'EOF'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

out = sys.argv[1]
rootfs = os.path.join(out, ".work", "rootfs")
MTIME = 1764374400
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)

def blob(data):
    """Stores data as a blob; returns its digest."""
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(f"{out}/blobs/sha256/{d[7:]}", "wb") as f:
        f.write(data)
    return d

def desc(media_type, data, **extra):
    return dict(mediaType=media_type, digest=blob(data), size=len(data), **extra)

def jbytes(doc):
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"

def entry(name, kind=tarfile.REGTYPE, mode=0o644, data=b"", linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.linkname = kind, mode, MTIME, linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)

def dir_(name):
    return entry(name, tarfile.DIRTYPE, 0o755)

def file_(name, text):
    return entry(name, data=text.encode())

def make_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, f in entries:
            t.addfile(ti, f)
    return buf.getvalue()

# Layer 1: the busybox rootfs, names relative ("bin/sh"), sorted, root-owned.
def rootfs_entries():
    res = []
    for dirpath, dirs, files in os.walk(rootfs):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, rootfs)
            ti = tarfile.TarInfo(rel)
            st = os.lstat(p)
            ti.mode, ti.mtime = st.st_mode & 0o7777, MTIME
            if os.path.islink(p):
                ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(p)
                res.append((ti, None))
            elif os.path.isdir(p):
                ti.type = tarfile.DIRTYPE
                res.append((ti, None))
            else:
                data = open(p, "rb").read()
                ti.size = len(data)
                res.append((ti, io.BytesIO(data)))
    return sorted(res, key=lambda e: e[0].name)

layer1 = make_tar(rootfs_entries())
layer2 = make_tar([
    dir_("etc"), file_("etc/layer2", "layer2\n"),
    dir_("data"), file_("data/keep", "keep\n"), file_("data/drop", "drop\n"),
    dir_("opaque"), file_("opaque/old-a", "old-a\n"), file_("opaque/old-b", "old-b\n"),
    dir_("usr"), dir_("usr/share"), dir_("usr/share/doc"), file_("usr/share/doc/x", "x\n"),
])
# Order matters: opaque/new comes BEFORE opaque/.wh..wh..opq; the marker must only
# hide what lower layers put in opaque/, never opaque/new from this same layer.
layer3 = make_tar([
    dir_("data"), file_("data/.wh.drop", ""),
    dir_("opaque"), file_("opaque/new", "new\n"), file_("opaque/.wh..wh..opq", ""),
    dir_("usr"), dir_("usr/share"), file_("usr/share/.wh.doc", ""),
    dir_("etc"), file_("etc/layer3", "layer3\n"),
])

GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
ZST = "application/vnd.oci.image.layer.v1.tar+zstd"
zstd = subprocess.run(["zstd", "-q", "-19", "-c"], input=layer3, capture_output=True, check=True).stdout
layers = [desc(GZ, gzip.compress(layer1, 9, mtime=0)),
          desc(GZ, gzip.compress(layer2, 9, mtime=0)),
          desc(ZST, zstd)]
diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in (layer1, layer2, layer3)]

def image(arch, fixture, variant=None):
    config = {
        "created": "2025-11-29T00:00:00Z",
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"FIXTURE={fixture}"],
                   "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hello from oci"],
                   "WorkingDir": "/data", "User": "0:0"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2025-11-29T00:00:00Z", "created_by": f"swrun fixture layer {i}"}
                    for i in (1, 2, 3)],
    }
    if variant:
        config["variant"] = variant
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": desc("application/vnd.oci.image.config.v1+json", jbytes(config)),
                "layers": layers}
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    return jbytes(manifest), platform

MAN = "application/vnd.oci.image.manifest.v1+json"
IDX = "application/vnd.oci.image.index.v1+json"
amd64, amd64_platform = image("amd64", "oci")
arm64, arm64_platform = image("arm64", "arm64", "v8")
amd64_desc = desc(MAN, amd64, platform=amd64_platform)
arm64_desc = desc(MAN, arm64, platform=arm64_platform)
index = jbytes({"schemaVersion": 2, "mediaType": IDX, "manifests": [amd64_desc, arm64_desc]})
ref = "org.opencontainers.image.ref.name"
top = {"schemaVersion": 2, "mediaType": IDX, "manifests": [
    desc(IDX, index, annotations={ref: "multi"}),
    dict(amd64_desc, annotations={ref: "single"}),
]}
with open(f"{out}/index.json", "wb") as f:
    f.write(jbytes(top))
with open(f"{out}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}\n')

# Drop blobs left from an earlier run with another busybox.
keep = {d["digest"][7:] for d in layers + [amd64_desc, arm64_desc, top["manifests"][0]]}
keep |= {json.loads(m)["config"]["digest"][7:] for m in (amd64, arm64)}
for n in os.listdir(f"{out}/blobs/sha256"):
    if n not in keep:
        os.remove(f"{out}/blobs/sha256/{n}")

with open(f"{out}/FIXTURE.txt", "w") as f:
    f.write(f"""OCI image layout fixture (made by rootfs-fixtures/make-oci-layout.sh)

tags in index.json (annotation {ref}):
  multi   {top['manifests'][0]['digest']}  image index: linux/amd64, linux/arm64/v8
  single  {amd64_desc['digest']}  linux/amd64 image manifest (also the index's amd64 entry)
  arm64 manifest {arm64_desc['digest']} (only reachable through multi)

layers (same for both platforms):
  1 {layers[0]['digest']} tar+gzip  busybox rootfs (/etc/fixture-release = "oci")
  2 {layers[1]['digest']} tar+gzip  /etc/layer2 /data/keep /data/drop /opaque/old-a /opaque/old-b /usr/share/doc/x
  3 {layers[2]['digest']} tar+zstd  data/.wh.drop; opaque/new then opaque/.wh..wh..opq; usr/share/.wh.doc; etc/layer3
diff_ids: {' '.join(diff_ids)}

config (amd64): Env PATH=/usr/sbin:/usr/bin:/sbin:/bin FIXTURE=oci; Entrypoint ["/bin/sh","-c"];
  Cmd ["echo hello from oci"]; WorkingDir /data; User 0:0; no Hostname. arm64: FIXTURE=arm64.
  `run` with no arguments prints "hello from oci".

after applying all layers:
  present: /etc/layer2 /etc/layer3 /data/keep /opaque/new /usr/share /bin/busybox /bin/sh
  content: /etc/layer3 = "layer3\\n", /opaque/new = "new\\n", /data/keep = "keep\\n"
  absent:  /data/drop /opaque/old-a /opaque/old-b /usr/share/doc
  no name anywhere starts with ".wh."
""")
EOF
rm -rf "$out/.work"
