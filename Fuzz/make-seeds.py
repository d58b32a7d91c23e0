#!/usr/bin/env python3
"""Writes the seed corpora of swrun's fuzz targets into Fuzz/Corpus/TARGET/ (small inputs
of each format that exercise its main paths). Run it again after changing it; the
fuzzers add what they find to their working copies under .build-fuzz, never here; the
regression-* files beside the seeds are inputs that once crashed, kept by hand."""
import io, json, os, struct, sys, tarfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def write(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tar(fmt, members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    # Without tarfile's padding to 10 KiB: small seeds fuzz faster.
    data = out.getvalue().rstrip(b"\0")
    return data + b"\0" * (-len(data) % 512 + 1024)


def member(name, kind=tarfile.REGTYPE, data=None, **extra):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if data is not None else 0
    info.mtime = 1700000000
    for key, value in extra.items():
        setattr(info, key, value)
    return info, data


# Tar: ustar, GNU long names, pax with extended attributes, every member kind.
write("FuzzTarReader", "ustar.tar", tar(tarfile.USTAR_FORMAT, [
    member("etc/", tarfile.DIRTYPE), member("etc/hostname", data=b"box\n", mode=0o4755, uid=1234, gid=5678),
    member("etc/link", tarfile.SYMTYPE, linkname="/etc/hostname"), member("etc/again", tarfile.LNKTYPE, linkname="etc/hostname"),
    member("run/fifo", tarfile.FIFOTYPE), member("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)]))
write("FuzzTarReader", "gnu-long.tar", tar(tarfile.GNU_FORMAT, [
    member("d/" * 60 + "file", data=b"x" * 600), member("l", tarfile.SYMTYPE, linkname="t/" * 60), member("b", tarfile.BLKTYPE, devmajor=8)]))
write("FuzzTarReader", "pax.tar", tar(tarfile.PAX_FORMAT, [
    member("p/" * 70 + "f", data=b"pax", pax_headers={"SCHILY.xattr.user.a": "1", "SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
                                                      "uid": "4000000000", "mtime": "1700000000.5"}),
    member("opaque/.wh..wh..opq"), member("data/.wh.drop")]))
big = bytearray(tar(tarfile.GNU_FORMAT, [member("huge", data=b"x" * 256)]))
big[124:136] = b"\x80" + b"\x00" * 9 + b"\x01\x00"  # the size, 256, in base-256
big[148:156] = b" " * 8
big[148:156] = b"%06o\0 " % sum(big[:512])
write("FuzzTarReader", "base256.tar", bytes(big))

# JSON.
write("FuzzJSON", "object.json", '{"a": [1, -2.5e3, true, false, null, "s\\u00e9\\n"], "b": {"c": {}}}')
write("FuzzJSON", "array.json", '[[], [[]], "\\ud83d\\ude00", 0, 1e-7, -0]')
write("FuzzJSON", "string.json", '"tab\\tquote\\"slash\\/"')

# LXC config.
write("FuzzLXCConfig", "container.conf", """# swrun
lxc.rootfs.path = dir:/var/lib/lxc/c/rootfs
lxc.uts.name = c
lxc.net.0.type = veth
lxc.net.0.link = lxcbr0
lxc.net.0.ipv4.address = 10.0.3.5/24
lxc.idmap = u 0 100000 65536
lxc.cap.drop = sys_module mac_admin
lxc.mount.entry = /srv srv none bind,create=dir 0 0
lxc.cgroup2.memory.max = 512M
lxc.environment = A=1
\tlxc.init.cmd = /sbin/init\r
lxc.tty.max = 4""")
write("FuzzLXCConfig", "image.conf", "lxc.include = LXC_TEMPLATE_CONFIG/debian.common.conf\nlxc.arch = x86_64\nlxc.hook.pre-start = /x\n")

# HTTP responses; the first byte picks the size of the pieces they arrive in.
write("FuzzHTTPResponse", "length", b"\x07HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
write("FuzzHTTPResponse", "chunked", b"\x02HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: y\r\n\r\n")
write("FuzzHTTPResponse", "continue", b"\x10HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 206 Partial\r\nContent-Range: bytes 1-2/3\r\nContent-Length: 2\r\n X-Folded\r\n\r\nab")
write("FuzzHTTPResponse", "close", b"\x3fHTTP/1.0 404 Not Found\r\n\r\nbody until close")


# Netlink: RTM_NEWLINK, RTM_NEWADDR, an error and NLMSG_DONE in one datagram.
def attr(kind, payload):
    data = struct.pack("<HH", 4 + len(payload), kind) + payload
    return data + b"\0" * ((4 - len(data) % 4) % 4)


def message(kind, body, flags=2):
    return struct.pack("<IHHII", 16 + len(body), kind, flags, 1, 0) + body


link = message(16, struct.pack("<BxHiII", 0, 1, 2, 1, 0) + attr(3, b"eth0\0") + attr(10, struct.pack("<I", 5))
               + attr(23, b"\0" * 16 + struct.pack("<QQ", 100, 200) + b"\0" * 32) + attr(18 | 0x8000, attr(1, b"veth\0")))
address = message(20, struct.pack("<BBBBi", 2, 24, 0, 0, 2) + attr(2, bytes([10, 0, 3, 5])) + attr(1, bytes([10, 0, 3, 5])))
address6 = message(20, struct.pack("<BBBBi", 10, 64, 0, 0, 2) + attr(1, bytes(range(16))))
error = message(2, struct.pack("<i", -17) + b"\0" * 16)
write("FuzzNetlink", "dump", link + address + address6 + message(3, struct.pack("<i", 0)))
write("FuzzNetlink", "error", error)

# Image indexes and OCI documents.
write("FuzzImageIndex", "index-system", "debian;bookworm;amd64;default;20261129_05:24;/images/debian/bookworm/amd64/default/20261129_05:24/\n"
      "alpine;3.20;arm64;default;dev;/images/alpine\n")
write("FuzzImageIndex", "index.json", json.dumps({"format": "index:1.0", "index": {"images": {"datatype": "image-downloads", "path": "streams/v1/images.json"}}}))
write("FuzzImageIndex", "images.json", json.dumps({"products": {"debian:bookworm:amd64:default": {
    "os": "Debian", "release": "bookworm", "arch": "amd64", "variant": "default", "versions": {"20261129_05:24": {"items": {
        "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/debian/bookworm/amd64/default/20261129_05:24/rootfs.tar.xz", "sha256": "ab", "size": 1},
        "meta.tar.xz": {"ftype": "meta.tar.xz", "path": "images/x/meta.tar.xz", "sha256": "cd", "size": 2}}}}}}}))
digest = "sha256:" + "ab" * 32
write("FuzzImageIndex", "manifest.json", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": 10},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": 20}]}))
write("FuzzImageIndex", "oci-index.json", json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 5, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 5, "platform": {"architecture": "amd64", "os": "linux"}}]}))
write("FuzzImageIndex", "config.json", json.dumps({"config": {"Env": ["A=1"], "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"],
                                                            "WorkingDir": "/data", "User": "0:0"}, "rootfs": {"diff_ids": [digest]}}))
