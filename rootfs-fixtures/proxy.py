#!/usr/bin/env python3
"""An HTTP proxy for swrun's tests (standard library only).

    python3 proxy.py [--auth USER:PASSWORD] [--port 0]

Binds 127.0.0.1 and prints the port it got as the first line on stdout. `CONNECT HOST:PORT`
opens a tunnel (for https:// URLs); `GET http://HOST:PORT/PATH` (absolute form, for
http:// URLs) is passed to HOST as `GET /PATH` and the answer relayed byte for byte.
Each request is logged on stderr as "CONNECT HOST:PORT [auth]" or "GET URL [auth]".
With --auth, a request whose Proxy-Authorization is not Basic USER:PASSWORD gets 407.
"""
import argparse
import base64
import http.server
import select
import socket
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass  # one line per request is logged by log() instead

    def log(self):
        auth = " auth" if self.headers.get("Proxy-Authorization") else ""
        sys.stderr.write(f"{self.command} {self.path}{auth}\n")
        sys.stderr.flush()

    def authorized(self):
        if not self.server.auth:
            return True
        expected = "Basic " + base64.b64encode(self.server.auth.encode()).decode()
        if self.headers.get("Proxy-Authorization") == expected:
            return True
        body = b"proxy authentication required\n"
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="swrun-fixture"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
        return False

    def do_CONNECT(self):
        self.log()
        if not self.authorized():
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except OSError as error:
            self.send_error(502, f"cannot connect to {self.path}: {error}")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self.relay(self.connection, upstream)
        self.close_connection = True

    def do_GET(self):
        self.log()
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "a proxy takes absolute http:// URLs")
            return
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80), timeout=10)
        except OSError as error:
            self.send_error(502, f"cannot connect to {url.netloc}: {error}")
            return
        path = (url.path or "/") + ("?" + url.query if url.query else "")
        head = [f"GET {path} HTTP/1.1"]
        for name, value in self.headers.items():
            if name.lower() not in ("proxy-authorization", "proxy-connection", "connection"):
                head.append(f"{name}: {value}")
        head.append("Connection: close")
        upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            self.wfile.write(data)
        upstream.close()
        self.close_connection = True

    def relay(self, client, upstream):
        sockets = [client, upstream]
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if source is client else client).sendall(data)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        sys.stderr.write(f"error: {sys.exc_info()[1]}\n")  # one line, not a traceback


def main():
    parser = argparse.ArgumentParser(description="HTTP proxy for swrun's tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.auth = args.auth
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
