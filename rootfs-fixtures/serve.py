#!/usr/bin/env python3
"""A small HTTP(S) file server for swrun's tests (standard library only).

    python3 serve.py --root DIR [--tls CERT KEY] [--port 0] [--slow SECONDS] [--hold-blobs SECONDS]

Binds 127.0.0.1, prints the port it got as the first line on stdout, and serves the
files under DIR with Content-Length and `Range: bytes=N-` (206, or 416 past the end).
Each request is logged on stderr as "GET PATH [range=...] [auth] active=N", N counting
the requests in progress, this one included (so a parallel download shows N > 1). Test hooks:

    /redirect/N/PATH   302 to /redirect/N-1/PATH, and at N=1 to /PATH
    /location/URL      302 to URL as it is given (an absolute http:// or https:// URL)
    /chunked/PATH      PATH with chunked transfer encoding
    /drop-once/PATH    the first request gets half of PATH, then the connection closes
    /status/CODE       answers CODE with a short body
    /slow/PATH         sends the head, waits --slow seconds, then the body
    --hold-blobs S     every path with /blobs/ in it (an OCI registry's blobs, for a tree made
                       by make-static-registry.sh) sends the head, waits S seconds, then the body
    --bearer-uses N    a registry's anonymous token flow: /v2/... wants "Authorization: Bearer
                       TOKEN" (else 401 with a Bearer challenge whose realm is /token); each
                       token /token hands out expires after N requests, as Docker Hub's
                       expire after some minutes
"""
import argparse
import http.server
import os
import ssl
import sys
import threading
import time

HOOKS = ("chunked", "drop-once", "slow")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    dropped = set()  # paths whose /drop-once/ request was already cut short
    lock = threading.Lock()
    active = 0  # requests in progress

    def log_message(self, format, *args):
        pass  # one line per request is logged by do_GET instead

    def do_GET(self):
        self.close_connection = True
        byte_range = self.headers.get("Range")
        with Handler.lock:
            Handler.active += 1
            log = "GET " + self.path + (" range=" + byte_range if byte_range else "")
            log += (" auth" if self.headers.get("Authorization") else "") + f" active={Handler.active}"
            sys.stderr.write(log + "\n")
            sys.stderr.flush()
        try:
            self.answer(self.path.split("?")[0], byte_range)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to do
        finally:
            with Handler.lock:
                Handler.active -= 1

    def answer(self, path, byte_range):
        if self.server.bearer_uses and (path == "/token" or path.startswith("/v2/")):
            if not self.authorized(path):
                return
        parts = path.split("/")
        hook = parts[1] if len(parts) > 2 else ""
        if hook == "redirect" and len(parts) > 3 and parts[2].isdigit():
            count, rest = int(parts[2]), "/".join(parts[3:])
            location = f"/redirect/{count - 1}/{rest}" if count > 1 else "/" + rest
            return self.send_small(302, b"redirected\n", [("Location", location)])
        if hook == "location":
            return self.send_small(302, b"redirected\n", [("Location", self.path[len("/location/"):])])
        if hook == "status" and parts[2].isdigit():
            return self.send_small(int(parts[2]), f"status {parts[2]}\n".encode())
        file = "/" + "/".join(parts[2:]) if hook in HOOKS else path
        data = self.read_file(file)
        if data is None:
            return self.send_small(404, b"not found\n")
        if hook == "chunked":
            return self.send_chunked(data)
        if hook == "drop-once":
            with Handler.lock:
                first = file not in Handler.dropped
                Handler.dropped.add(file)
            if first:
                self.send_head(200, [("Content-Length", str(len(data)))])
                self.wfile.write(data[: len(data) // 2])
                return  # close_connection: the client sees the end before Content-Length
        start = 0
        if byte_range and byte_range.startswith("bytes=") and byte_range.endswith("-"):
            start = int(byte_range[6:-1])
            if start >= len(data):
                return self.send_small(416, b"", [("Content-Range", f"bytes */{len(data)}")])
            self.send_head(206, [("Content-Length", str(len(data) - start)),
                                 ("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
        else:
            self.send_head(200, [("Content-Length", str(len(data)))])
        if hook == "slow" or (self.server.hold_blobs and "/blobs/" in path):
            self.wfile.flush()
            time.sleep(self.server.slow if hook == "slow" else self.server.hold_blobs)
        self.wfile.write(data[start:])

    def authorized(self, path):
        """The token flow of --bearer-uses: True when the request may go on to the files."""
        with Handler.lock:
            server = self.server
            given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if path == "/token":
                token = "token-%d" % (len(server.tokens) + 1)
                server.tokens[token] = 0
                body = ('{"token": "%s"}' % token).encode()
            elif server.tokens.get(given, server.bearer_uses) < server.bearer_uses:
                server.tokens[given] += 1
                return True
            else:
                body = None
        if body is not None:
            self.send_small(200, body, [("Content-Type", "application/json")])
        else:
            realm = 'Bearer realm="http://127.0.0.1:%d/token",service="fixture"' % server.server_address[1]
            self.send_small(401, b"token wanted\n", [("WWW-Authenticate", realm)])
        return False

    def read_file(self, path):
        root = os.path.realpath(self.server.root)
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def send_head(self, code, headers):
        self.send_response(code)
        for name, value in headers + [("Connection", "close")]:
            self.send_header(name, value)
        self.end_headers()

    def send_small(self, code, body, headers=[]):
        self.send_head(code, headers + [("Content-Length", str(len(body)))])
        self.wfile.write(body)

    def send_chunked(self, data):
        self.send_head(200, [("Transfer-Encoding", "chunked")])
        for offset in range(0, len(data), 1000):  # many chunks, of odd sizes at the end
            piece = data[offset:offset + 1000]
            self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        sys.stderr.write(f"error: {sys.exc_info()[1]}\n")  # one line, not a traceback


def main():
    parser = argparse.ArgumentParser(description="file server for swrun's tests")
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--slow", type=float, default=2.0)
    parser.add_argument("--hold-blobs", type=float, default=0.0)
    parser.add_argument("--bearer-uses", type=int, default=0)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.root, server.slow, server.hold_blobs = args.root, args.slow, args.hold_blobs
    server.bearer_uses, server.tokens = args.bearer_uses, {}  # token -> requests it served
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        # The handshake runs in the request's thread, so one stuck client blocks no other.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
