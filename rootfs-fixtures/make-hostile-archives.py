#!/usr/bin/env python3
"""Writes tarballs into OUTDIR that try to escape their extraction root, and benign
good.tar.{gz,xz,zst,bz2} full of special entries. A safe extractor must refuse the
hostile ones (or contain them inside the root); OUTDIR/FIXTURE.txt lists what each
one aims at. Output is reproducible. Needs the zstd program for good.tar.zst.

Usage: make-hostile-archives.py OUTDIR
"""
import bz2, gzip, io, lzma, os, subprocess, sys, tarfile

MTIME = 1700000000
# Many "../" so that a relative escape reaches / from any extraction root under 32 levels.
UP = "/".join([".."] * 32)


def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, linkname="", **attrs):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.linkname = kind, mode, MTIME, linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    for k, v in attrs.items():
        setattr(ti, k, v)
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, f in entries:
            t.addfile(ti, f)  # addfile keeps names as given: "../x" and "/x" stay
    return buf.getvalue()


# name -> (entries, what a vulnerable extractor would touch)
HOSTILE = {
    "dotdot.tar": (
        [entry("../../escaped-dotdot", data=b"swrun-escaped-dotdot\n")],
        "ROOT/../../escaped-dotdot (two levels above the extraction root)"),
    "absolute.tar": (
        [entry("/tmp/swrun-escape-absolute", data=b"swrun-escaped-absolute\n")],
        "/tmp/swrun-escape-absolute"),
    "symlink-dir.tar": (
        [entry("link", tarfile.SYMTYPE, mode=0o777, linkname="/tmp/swrun-escape-target"),
         entry("link/escaped-via-symlink", data=b"swrun-escaped-via-symlink\n")],
        "/tmp/swrun-escape-target/escaped-via-symlink (create /tmp/swrun-escape-target "
        "first, or a vulnerable extractor just fails)"),
    "symlink-relative.tar": (
        [entry("up", tarfile.SYMTYPE, mode=0o777, linkname=UP),
         entry("up/tmp/swrun-escaped-relative", data=b"swrun-escaped-relative\n")],
        f"/tmp/swrun-escaped-relative (symlink up -> {'../' * 3}... 32 times, which is / "
        "from any root)"),
    # The classic overwrite: a hardlink out of the root, then a regular file of the
    # same name whose content lands in the link's target. The target is a decoy in
    # /tmp, not /etc/passwd, so that a broken extractor cannot wreck the test host.
    "hardlink.tar": (
        [entry("passwd-link", tarfile.LNKTYPE, linkname="/tmp/swrun-escape-hardlink-target"),
         entry("passwd-link", data=b"swrun-escaped-hardlink\n")],
        "/tmp/swrun-escape-hardlink-target (create it first with known content; it must "
        "keep that content and its link count)"),
    "hardlink-dotdot.tar": (
        [entry("hostname-link", tarfile.LNKTYPE, linkname="../../../etc/hostname")],
        "ROOT/../../../etc/hostname (a hardlink to it must not appear in ROOT)"),
}


def good_entries():
    long_dir = "long/" + "d" * 60 + "/" + "e" * 60  # > 100 characters: needs a PAX path
    return [
        entry("dir", tarfile.DIRTYPE, mode=0o755),
        entry("dir/file", data=b"hello from good.tar\n"),
        entry("dir/setuid", data=b"#!/bin/sh\n", mode=0o4755),
        entry("dir/owned", data=b"owned by 1234:5678\n", uid=1234, gid=5678,
              uname="", gname=""),
        entry("dir/symlink", tarfile.SYMTYPE, mode=0o777, linkname="file"),
        entry("dir/hardlink", tarfile.LNKTYPE, linkname="dir/file"),
        entry("dir/fifo", tarfile.FIFOTYPE, mode=0o644),
        entry("dir/dev-null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3),
        entry("dir/xattr", data=b"has user.swrun\n",
              pax_headers={"SCHILY.xattr.user.swrun": "fixture"}),
        entry("dir/mtime", data=b"mtime 1700000000\n"),
        entry("long", tarfile.DIRTYPE, mode=0o755),
        entry("long/" + "d" * 60, tarfile.DIRTYPE, mode=0o755),
        entry(long_dir, tarfile.DIRTYPE, mode=0o755),
        entry(long_dir + "/long-file", data=b"long path\n"),
    ], long_dir + "/long-file"


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    for name, (entries, _) in HOSTILE.items():
        write(name, tar_bytes(entries))

    entries, long_path = good_entries()
    good = tar_bytes(entries)
    write("good.tar", good)
    write("good.tar.gz", gzip.compress(good, 9, mtime=0))
    write("good.tar.xz", lzma.compress(good, format=lzma.FORMAT_XZ))
    write("good.tar.bz2", bz2.compress(good, 9))
    zst = subprocess.run(["zstd", "-q", "-19", "-c"], input=good, capture_output=True,
                         check=True).stdout
    write("good.tar.zst", zst)

    lines = ["Hostile and benign tarballs (made by rootfs-fixtures/make-hostile-archives.py)",
             "", "hostile (ROOT = the extraction root); after extracting, none of these may exist"
             " or have changed outside ROOT:"]
    lines += [f"  {n:22} {aim}" for n, (_, aim) in HOSTILE.items()]
    lines += ["", "good.tar, good.tar.gz, good.tar.xz, good.tar.zst, good.tar.bz2 (same tar inside):",
              "  dir/            directory 0755",
              "  dir/file        regular 0644, \"hello from good.tar\\n\"",
              "  dir/setuid      regular 04755 (setuid)",
              "  dir/owned       regular, uid 1234 gid 5678",
              "  dir/symlink     symlink -> file",
              "  dir/hardlink    hardlink to dir/file (same inode)",
              "  dir/fifo        fifo",
              "  dir/dev-null    character device 1:3",
              "  dir/xattr       xattr user.swrun=fixture (PAX SCHILY.xattr.user.swrun)",
              "  dir/mtime       mtime 1700000000 (as is every entry)",
              f"  {long_path}",
              f"                  {len(long_path)} characters (PAX path header), \"long path\\n\"",
              "  everything else is owned by 0:0"]
    write("FIXTURE.txt", ("\n".join(lines) + "\n").encode())


main()
