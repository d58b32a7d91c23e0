#!/usr/bin/env python3
"""A registry token service (Docker's token auth) for swrun's tests, standard library only.

    python3 token-server.py --key KEY.pem --cert CERT.pem --issuer ISSUER --service SERVICE \
        --user USER --password PASSWORD --log FILE

Binds 127.0.0.1 and prints the port it got as the first line on stdout. `GET /token?service=S
&scope=repository:NAME:pull,push` (scope may repeat, or hold several space-separated) answers
{"token": JWT, "access_token": JWT, "expires_in": 300}: a JWT (RS256, signed with KEY by the
openssl command, CERT in its x5c header, as docker-registry's `auth: token:` with
`rootcertbundle: CERT` checks it) granting what the scopes ask. Without Authorization the
token grants nothing (as Docker Hub's anonymous tokens for a private image); Basic with
the wrong user or password gets 401. Each request is appended to FILE as one line:
"GET user=USER|anonymous|refused scope=SCOPE;SCOPE service=S account=A".
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def certificate_der(path):
    text = open(path).read()
    body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="swrun-fixture-token"')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        options = self.server.options
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = [word for value in query.get("scope", []) for word in value.split(" ") if word]
        user = "anonymous"
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            given = base64.b64decode(header[6:]).decode(errors="replace")
            user = options.user if given == options.user + ":" + options.password else "refused"
        with open(options.log, "a") as log:
            log.write(f"GET user={user} scope={';'.join(scopes)} service={query.get('service', [''])[0]}"
                      f" account={query.get('account', [''])[0]}\n")
        if url.path != "/token":
            return self.answer(404, {"errors": [{"code": "NOT_FOUND"}]})
        if user == "refused":
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong user or password"}]})
        access = []
        for scope in scopes if user != "anonymous" else []:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        token = self.server.sign(user, query.get("service", [""])[0], access)
        self.answer(200, {"token": token, "access_token": token, "expires_in": 300})


class Server(http.server.ThreadingHTTPServer):
    def sign(self, subject, audience, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.certificate).decode()]}
        claims = {"iss": self.options.issuer, "sub": "" if subject == "anonymous" else subject, "aud": audience,
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.options.key], input=signing_input.encode(),
                                   stdout=subprocess.PIPE, check=True).stdout
        return signing_input + "." + b64url(signature)


def main():
    parser = argparse.ArgumentParser()
    for option in ("key", "cert", "issuer", "service", "user", "password", "log"):
        parser.add_argument("--" + option, required=True)
    options = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.options = options
    server.certificate = certificate_der(options.cert)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
